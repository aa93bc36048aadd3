"""The store of sentence embeddings: each text encoded once per model, across runs.

Encoding is by far the slowest step of a ranking that weighs meaning, and most texts do
not change from one run to the next: after one enterprise is edited, the next run
encodes that one text. One file per model, ``embeddings/<hash of the model name>.npz``
under the cache folder (:func:`implant_match.cache.cache_dir`): two arrays, the texts'
SHA-256 digests (``keys``, 32 bytes each) and their float32 rows (``vectors``). It is
read with ``allow_pickle=False``, so a file planted there can hold numbers, never code;
the folder is private (0700), files 0600, written whole then renamed. A store that cannot
be read or written is ignored: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

MAX_ROWS = 1_000_000  # past this, the oldest rows are dropped (about 2 GiB at 512 floats)
FOLDER = "embeddings"


class EmbeddingStore:
    """Embeddings of one model, keyed by the SHA-256 (hex) of each text."""

    def __init__(self, folder: Path, model: str) -> None:
        self.folder = folder / FOLDER
        name = hashlib.sha256(model.encode("utf-8")).hexdigest()[:32]
        self.path = self.folder / f"{name}.npz"
        self._rows: dict[bytes, np.ndarray] | None = None

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._rows is None:
            self._rows = {}
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
                if keys.ndim == 2 and keys.shape[1] == 32 and len(keys) == len(vectors):
                    self._rows = dict(zip(map(bytes, keys), vectors, strict=True))
            except (OSError, ValueError, KeyError, EOFError):  # missing or damaged: rebuilt
                pass
        return self._rows

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The stored rows of those text keys that the store holds."""
        rows = self._load()
        found = {}
        for key in keys:
            row = rows.get(bytes.fromhex(key))
            if row is not None:
                found[key] = row
        return found

    def put(self, new: dict[str, np.ndarray]) -> None:
        """Add rows and write the file (whole, then renamed); errors are ignored."""
        if not new:
            return
        rows = self._load()
        for key, row in new.items():
            rows[bytes.fromhex(key)] = np.asarray(row, dtype=np.float32)
        if len(rows) > MAX_ROWS:  # dicts keep insertion order: the oldest go first
            for old in list(rows)[: len(rows) - MAX_ROWS]:
                del rows[old]
        widths = {row.shape for row in rows.values()}
        if len(widths) != 1:  # rows of another shape cannot be stored together
            return
        keys = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), 32)
        vectors = np.stack(list(rows.values()))
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed after closing
                dir=self.folder, suffix=".tmp", delete=False
            )
            try:
                with handle:
                    os.chmod(handle.name, 0o600)
                    np.savez(handle, keys=keys, vectors=vectors)
                os.replace(handle.name, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(handle.name)
                raise
        except OSError:  # read-only or full disk: the run goes on, unstored
            return
