"""A content-hash cache of analysed data, so that repeated runs on big files start at once.

Loading, validating and analysing a national directory takes seconds that every run
would otherwise pay again on the same bytes. After a run on data files of ``MIN_BYTES``
to ``MAX_BYTES`` (an entry weighs about 15 times its data), the analysed
:class:`~implant_match.ranking.Engine` is written to the cache folder under a key that
hashes everything it depends on: the bytes of both data files and of the project lexicon,
the names the files are shown under, the package's own files (an edited or upgraded tool
never reads another's entry), and the Python, numpy and pydantic versions. Any change to
any of them is a different key, so a stale entry can never be read; only valid data is
ever cached, and ``validate`` never reads the cache.

An entry is stored under the key of the bytes that were actually parsed (each loaded
document carries their digest), not of the files as they are when the run looks them
up: a file replaced during start-up cannot leave its old data under its new key.

* folder: ``$IMPLANT_MATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/implant-match``, else
  ``~/.cache/implant-match`` (created private to the user: entries are pickles, which
  must only be read from a folder nobody else can write);
* ``IMPLANT_MATCH_CACHE=off`` turns it off; the ``KEEP`` most recent entries are kept;
* a cache that cannot be read or written is ignored: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy
from pydantic import VERSION

from implant_match import __version__
from implant_match.loading import cancel_prefetches
from implant_match.runtime import paused_gc

if TYPE_CHECKING:
    from implant_match.loading import DataPaths
    from implant_match.ranking import Engine

FORMAT = 1  # bump when the pickled classes change shape
MIN_BYTES = 1 << 20  # smaller data is analysed faster than a cache entry is read
MAX_BYTES = 32 << 20  # an entry weighs ~15x its data: bigger sets are not cached
KEEP = 4
SUFFIX = ".engine"
_OFF = {"0", "off", "no", "false"}


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is turned off."""
    if os.environ.get("IMPLANT_MATCH_CACHE", "").strip().lower() in _OFF:
        return None
    explicit = os.environ.get("IMPLANT_MATCH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder (some service accounts): no cache
            return None
    return Path(base) / "implant-match"


def entry_key(paths: DataPaths, lexicon: Path | None) -> str | None:
    """The key of the files as they are now (to look an entry up), or None if not worth
    caching. An entry is written under :func:`built_key`, of the bytes that were parsed."""
    files = [paths.needs, paths.enterprises, *([lexicon] if lexicon else [])]
    try:
        if not MIN_BYTES <= sum(path.stat().st_size for path in files) <= MAX_BYTES:
            return None
        digests = []
        for path in files:
            with path.open("rb") as handle:
                digests.append(hashlib.file_digest(handle, "sha256").hexdigest())
    except OSError:  # unreadable: loading will say so, with the file's name
        return None
    return _key(paths.needs_display, paths.enterprises_display, lexicon, digests)


def built_key(engine: Engine, lexicon: Path | None) -> str | None:
    """The key of the bytes ``engine`` was built from, as the loader hashed them when it
    parsed them; None when one is not known (data not read whole from a file)."""
    dataset = engine.dataset
    digests = [*dataset.digests, *([engine.lexicon.digest] if lexicon else [])]
    if any(digest is None for digest in digests):
        return None
    names = dataset.needs_source.path, dataset.enterprises_source.path
    return _key(*names, lexicon, [d for d in digests if d is not None])


def _key(needs: str, enterprises: str, lexicon: Path | None, digests: list[str]) -> str:
    digest = hashlib.sha256()
    for part in (
        f"implant-match {__version__} format {FORMAT}",
        _code_digest(),
        f"python {sys.version_info[:2]} numpy {numpy.__version__} pydantic {VERSION}",
        needs,
        enterprises,
        str(lexicon),
        *digests,
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def _code_digest() -> str:
    """A hash of the package's own files: an entry from other code is never read."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted([*package.glob("*.py"), *package.glob("*.yaml")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read(folder: Path, key: str) -> Engine | None:
    """The cached engine for ``key``, or None (missing, unreadable or from another build)."""
    from implant_match.ranking import Engine

    path = folder / f"{key}{SUFFIX}"
    try:
        handle = path.open("rb")
    except OSError:  # missing, or the folder is not usable
        return None
    engine: object
    with handle, paused_gc():  # a whole engine of small objects, no cycles to look for
        try:
            engine = pickle.load(handle)
        except Exception:  # a truncated or foreign entry: drop it and rebuild
            engine = None
    if not isinstance(engine, Engine):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return engine


def write(folder: Path, key: str, engine: Engine) -> None:
    """Store an engine atomically, then keep only the ``KEEP`` most recent entries."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
            try:
                with paused_gc():
                    pickle.dump(engine, handle, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                handle.close()
                os.unlink(handle.name)
                raise
        os.replace(handle.name, folder / f"{key}{SUFFIX}")
        entries = sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:  # read-only or full disk: the run goes on uncached
        return


def cached_engine(paths: DataPaths, lexicon: Path | None, build: Callable[[], Engine]) -> Engine:
    """The engine for these files: from the cache when it holds it, else built (and kept
    under the key of the bytes that were parsed)."""
    folder = cache_dir()
    key = entry_key(paths, lexicon) if folder is not None else None
    if folder is None or key is None:
        return build()
    engine = read(folder, key)
    if engine is not None:
        cancel_prefetches()  # no file will be parsed
    else:
        engine = build()
        written = built_key(engine, lexicon)
        if written is not None:
            write(folder, written, engine)
    return engine
