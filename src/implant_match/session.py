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

from implant_match.dataset import lexicon_file, load_dataset, resolve_paths
from implant_match.prefetch import prefetching

if TYPE_CHECKING:
    from implant_match.ranking import Engine


def open_engine(
    needs: Path | None = None,
    enterprises: Path | Sequence[Path] | None = None,
    lexicon: Path | None = None,
    *,
    jobs: int = 1,
    cache: bool = True,
) -> Engine:
    """The analysed engine for these files, built with up to ``jobs`` processes.

    ``cache=False`` never reads nor writes the cache (``implant_match.cache`` also obeys
    ``IMPLANT_MATCH_CACHE=off``).
    """
    paths = resolve_paths(needs, enterprises)
    project_lexicon = lexicon_file(paths, lexicon)
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
            )
            return Engine(dataset, jobs=jobs)

        if not cache or paths.more_enterprises:  # the cache's key covers one candidate file
            return build()
        from implant_match.cache import cached_engine

        return cached_engine(paths, project_lexicon, build)
