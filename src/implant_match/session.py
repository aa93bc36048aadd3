"""The composition root: the one place that decides caching, worker processes and
prefetching for a run of the command line.

The library's stages know none of this: :func:`open_engine` reads the data (a big file
possibly parsed in a forked child while the heavy modules import), takes the analysed
engine from the cache when it holds it, and returns the same :class:`Engine` that
``Engine(load_dataset(...))`` would build.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from implant_match.dataset import (
    decisions_file,
    lexicon_file,
    load_dataset,
    read_decisions,
    resolve_paths,
)
from implant_match.prefetch import prefetching

if TYPE_CHECKING:
    from implant_match.loading import DataPaths
    from implant_match.ranking import Engine
    from implant_match.weights import Weights


def open_engine(
    needs: Path | None = None,
    enterprises: Path | Sequence[Path] | None = None,
    lexicon: Path | None = None,
    *,
    jobs: int = 1,
    cache: bool = True,
    decisions: Path | None = None,
) -> Engine:
    """The analysed engine for these files, built with up to ``jobs`` processes.

    ``cache=False`` never reads nor writes the cache (``implant_match.cache`` also obeys
    ``IMPLANT_MATCH_CACHE=off``). The decisions file (``decisions``, else
    ``decisions.yaml`` beside the needs file) is read afresh on every run, cache or not:
    it changes between runs (``implant-match decide``) without changing any score.
    """
    paths = resolve_paths(needs, enterprises)
    project_lexicon = lexicon_file(paths, lexicon)
    engine = _open(paths, project_lexicon, jobs, cache, decisions)
    engine.dataset.decisions = read_decisions(
        engine.dataset, decisions_file(paths.needs, decisions)
    )
    return engine


def _open(
    paths: DataPaths, project_lexicon: Path | None, jobs: int, cache: bool, decisions: Path | None
) -> Engine:
    """The engine of the data files, from the cache or built."""
    with prefetching(paths, jobs - 1) as prefetch:
        from implant_match.ranking import Engine

        if prefetch.active:
            from implant_match.scoring import import_sparse

            import_sparse()  # big data is scored with sparse matrices

        def build() -> Engine:
            # warnings are `validate`'s business; the other commands only need valid data
            dataset = load_dataset(
                paths.needs,
                list(paths.enterprise_files),
                project_lexicon,
                warnings=False,
                read=prefetch.load,
                decisions=decisions,
            )
            return Engine(dataset, jobs=jobs)

        if not cache or paths.more_enterprises:  # the cache's key covers one candidate file
            return build()
        from implant_match.cache import cached_engine

        return cached_engine(paths, project_lexicon, build)


def with_meaning(
    engine: Engine,
    weights: Weights,
    *,
    semantic: bool = True,
    model: str | None = None,
    jobs: int = 1,
) -> Weights:
    """The weights to rank with, after the texts are embedded when meaning weighs.

    ``semantic=False`` (or a meaning weight of 0) never loads nor imports the model. The
    model is ``model``, else ``$IMPLANT_MATCH_MODEL``, else the default; embeddings are
    kept in the cache folder, so that only new texts are encoded.
    """
    if not semantic:
        weights = weights.model_copy(update={"meaning": 0.0})
    if weights.meaning > 0:
        from implant_match.cache import cache_dir
        from implant_match.embedding import load_embedder
        from implant_match.embedding_store import EmbeddingStore

        embedder = load_embedder(model)
        if engine.embedder is None or engine.embedder.name != embedder.name:
            folder = cache_dir()  # None when the cache is turned off: embed every text
            store = None if folder is None else EmbeddingStore(folder, embedder.name)
            engine.use_meaning(embedder, store, jobs)
    return weights
