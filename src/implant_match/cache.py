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

Entries are pickles, and unpickling runs code, so an entry is read only when no one but
the user could have written it (see ``SECURITY.md``):

* the folder must be a real folder (not a symbolic link), owned by the user and writable
  by no one else; it is created 0700, its files 0600, and every file in it is reached
  through the one opened, checked folder (no path is looked up twice);
* each entry is sealed with an HMAC-SHA256 under a random per-user secret kept 0600 in
  the folder (``SECRET_NAME``); the seal is checked over the whole entry before any of
  it is unpickled, so an entry changed in any way is dropped and rebuilt;
* a folder, secret or entry that breaks these rules is not used: one warning is logged
  (the CLI prints it on stderr) and the run goes on uncached.

Where and when:

* folder: ``$IMPLANT_MATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/implant-match``, else
  ``~/.cache/implant-match``;
* ``IMPLANT_MATCH_CACHE=off`` turns it off; the ``KEEP`` most recent entries are kept;
* a cache that cannot be read or written is ignored: it only ever saves time; temporary
  files of a write that failed are removed, and those another run left behind (killed
  mid-write) are removed after ``STALE_SECONDS``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import logging
import os
import pickle
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy
from pydantic import VERSION

from implant_match import __version__
from implant_match.messages import N_, Phrase
from implant_match.runtime import paused_gc

if TYPE_CHECKING:
    from implant_match.loading import DataPaths
    from implant_match.ranking import Engine

FORMAT = 2  # bump when the pickled classes or the entry's layout change
MIN_BYTES = 1 << 20  # smaller data is analysed faster than a cache entry is read
MAX_BYTES = 32 << 20  # an entry weighs ~15x its data: bigger sets are not cached
KEEP = 4
SUFFIX = ".engine"
SECRET_NAME = "secret.key"
SECRET_BYTES = 32
MAGIC = b"IMCACHE2"  # an entry: MAGIC, its HMAC-SHA256 seal, then the pickle
TAG_BYTES = 32
TEMP_PREFIX = "partial-"  # then 16 hex digits and ".tmp"
STALE_SECONDS = 600  # a temporary file this old is a write that was killed
# our temporaries, and those of the versions that wrote through tempfile.NamedTemporaryFile
_TEMP_NAME = re.compile(rf"{TEMP_PREFIX}[0-9a-f]{{16}}\.tmp|tmp[a-z0-9_]{{8}}\.tmp")
_OFF = {"0", "off", "no", "false"}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted at a file's path does not block
# every file is opened relative to the checked folder: where that cannot be done, no cache
_SUPPORTED = bool(_NOFOLLOW) and {os.open, os.unlink, os.link, os.rename} <= os.supports_dir_fd

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is turned off."""
    if os.environ.get("IMPLANT_MATCH_CACHE", "").strip().lower() in _OFF or not _SUPPORTED:
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


# -- keys ----------------------------------------------------------------------------------


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


# -- sealing ---------------------------------------------------------------------------------


def _mac(secret: bytes, key: str) -> hmac.HMAC:
    """The seal being computed for an entry of ``key`` (bound to it: an entry copied
    under another key's name does not verify)."""
    return hmac.new(secret, MAGIC + key.encode() + b"\0", hashlib.sha256)


def seal(secret: bytes, key: str, payload: bytes) -> bytes:
    """The bytes of the entry of ``key`` holding ``payload`` (a pickle), sealed with ``secret``."""
    mac = _mac(secret, key)
    mac.update(payload)
    return MAGIC + mac.digest() + payload


class _Sealing:
    """A file that feeds the seal with every byte written to it (the pickle is streamed,
    not held in memory twice)."""

    def __init__(self, handle: IO[bytes], mac: hmac.HMAC) -> None:
        self.handle = handle
        self.mac = mac

    def write(self, data: bytes) -> int:
        self.mac.update(data)
        return self.handle.write(data)


# -- the folder --------------------------------------------------------------------------------


class Refused(Exception):
    """A cache file someone else could have written or read: it is not used.

    ``whole`` when it is the folder or its secret (nothing in the folder is used), not
    one entry (which is rebuilt). Its :attr:`phrase` is the message as a template and its
    values (``str()`` is the English text), for the CLI to word in the reader's language.
    """

    def __init__(self, template: str, whole: bool = True, **params: object) -> None:
        self.phrase = Phrase.of(template, **params)
        super().__init__(str(self.phrase))
        self.whole = whole


def _check_private(
    info: os.stat_result, what: Phrase, mask: int, then: Phrase, whole: bool
) -> None:
    """Refuse a file or folder owned by another user, or open to others under ``mask``
    (``what``: the file named, with its path; ``then``: what happens instead, and what to
    do)."""
    if info.st_uid != os.geteuid():
        raise Refused(
            N_("{what} is owned by another user (uid {uid}, not {euid}): {then}"),
            whole,
            what=what,
            uid=info.st_uid,
            euid=os.geteuid(),
            then=then,
        )
    if info.st_mode & mask:
        template = (
            N_("{what} is writable by other users (mode {mode}): {then}")
            if mask == 0o022
            else N_("{what} is readable or writable by other users (mode {mode}): {then}")
        )
        mode = f"{stat.S_IMODE(info.st_mode):o}"
        raise Refused(template, whole, what=what, mode=mode, then=then)


_FOLDER_REFUSED = Phrase.of(N_("the cache is not used (make it private: chmod 700, or remove it)"))
_SECRET_REFUSED = Phrase.of(N_("the cache is not used (remove the file: a new secret is made)"))
_ENTRY_REFUSED = Phrase.of(N_("not read, rebuilt"))


def _folder(path: Path) -> Phrase:
    return Phrase.of(N_("cache folder {path}"), path=path)


def _secret(path: Path) -> Phrase:
    return Phrase.of(N_("cache secret {path}"), path=path)


def _entry(path: Path) -> Phrase:
    return Phrase.of(N_("cache entry {path}"), path=path)


class Folder:
    """The cache folder, opened once and checked; every file in it is then reached through
    that open folder, so that nothing can be swapped between a check and a use."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path) -> Iterator[Folder | None]:
        """The folder, created private if missing; None when it cannot be used (not a
        folder, no permission); :class:`Refused` when others could write in it."""
        with contextlib.suppress(OSError):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError:
            with contextlib.suppress(OSError):
                if stat.S_ISLNK(path.lstat().st_mode):
                    raise Refused(
                        N_(
                            "cache folder {path} is a symbolic link: the cache is not used "
                            "(set IMPLANT_MATCH_CACHE_DIR to the folder itself)"
                        ),
                        path=path,
                    ) from None
            yield None
            return
        try:
            _check_private(os.fstat(fd), _folder(path), 0o022, _FOLDER_REFUSED, True)
            folder = cls(path, fd)
            folder.remove_stale_temporaries()
            yield folder
        finally:
            os.close(fd)

    # the secret

    def secret(self, create: bool) -> bytes | None:
        """The folder's secret (made if missing and ``create``), or None when there is none."""
        where = self.path / SECRET_NAME
        try:
            fd = os.open(
                SECRET_NAME, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK, dir_fd=self.fd
            )
        except FileNotFoundError:
            return self._new_secret() if create else None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Refused(
                    N_("{what} is a symbolic link: {then}"),
                    what=_secret(where),
                    then=_SECRET_REFUSED,
                ) from None
            raise
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise Refused(
                    N_("{what} is not a file: {then}"), what=_secret(where), then=_SECRET_REFUSED
                )
            _check_private(info, _secret(where), 0o077, _SECRET_REFUSED, True)
            value = handle.read(SECRET_BYTES + 1)
        if len(value) != SECRET_BYTES:
            raise Refused(
                N_("{what} is not {size} bytes long: {then}"),
                what=_secret(where),
                size=SECRET_BYTES,
                then=_SECRET_REFUSED,
            )
        return value

    def _new_secret(self) -> bytes | None:
        """A new random secret, published whole at once: written to a temporary file, then
        linked under its name, which fails if another run published one first (then its)."""
        value = secrets.token_bytes(SECRET_BYTES)
        with self._temporary() as (name, handle):
            handle.write(value)
            handle.close()
            try:
                os.link(name, SECRET_NAME, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            except FileExistsError:
                return self.secret(create=False)
        return value

    # entries

    def read(self, key: str) -> Engine | None:
        """The engine of entry ``key``, or None (missing, broken, or not sealed by us);
        :class:`Refused` when the entry or secret could have been written by someone else."""
        from implant_match.ranking import Engine

        secret = self.secret(create=False)
        if secret is None:
            return None  # no secret yet: no entry can be told genuine
        name = f"{key}{SUFFIX}"
        where = self.path / name
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Refused(
                    N_("{what} is a symbolic link: {then}"),
                    False,
                    what=_entry(where),
                    then=_ENTRY_REFUSED,
                ) from None
            return None  # missing, most often
        engine: object = None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None  # a folder there: the write will fail too, and say nothing
            _check_private(info, _entry(where), 0o022, _ENTRY_REFUSED, False)
            # only we (or root) can change the file between the check and the load: it
            # is ours and no one else may write it, in a folder no one else may write
            if _verified(handle, secret, key):
                handle.seek(len(MAGIC) + TAG_BYTES)
                with paused_gc():  # a whole engine of small objects, no cycles to look for
                    try:
                        engine = pickle.load(handle)
                    except Exception:  # sealed by us but unreadable (a bug): rebuilt
                        engine = None
            if isinstance(engine, Engine):
                with contextlib.suppress(OSError):
                    os.utime(fd)  # recently used: pruned last
                return engine
        with contextlib.suppress(OSError):  # changed, truncated or from another secret
            os.unlink(name, dir_fd=self.fd)
        return None

    def write(self, key: str, engine: Engine) -> None:
        """Store an engine atomically, then keep only the ``KEEP`` most recent entries."""
        secret = self.secret(create=True)
        if secret is None:  # pragma: no cover - made above, or another run's read back
            return
        with self._temporary() as (name, handle):
            handle.write(MAGIC + bytes(TAG_BYTES))
            mac = _mac(secret, key)
            with paused_gc():
                pickle.dump(engine, _Sealing(handle, mac), protocol=pickle.HIGHEST_PROTOCOL)
            handle.seek(len(MAGIC))
            handle.write(mac.digest())
            handle.close()
            os.replace(name, f"{key}{SUFFIX}", src_dir_fd=self.fd, dst_dir_fd=self.fd)
        self._prune()

    @contextlib.contextmanager
    def _temporary(self) -> Iterator[tuple[str, IO[bytes]]]:
        """A new private file and its name; removed on the way out whatever happens (a full
        disk, an interrupt), unless it was renamed or linked into place meanwhile."""
        name = f"{TEMP_PREFIX}{secrets.token_hex(8)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        fd = os.open(name, flags, 0o600, dir_fd=self.fd)
        handle = None
        try:
            handle = os.fdopen(fd, "wb")
            yield name, handle  # the caller closes it, to hear of a failed flush
        finally:
            # on a full disk the close fails again (its buffer cannot be flushed): the
            # file is removed all the same, and the first error is the one raised
            with contextlib.suppress(OSError):
                if handle is not None:
                    handle.close()
                else:
                    os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=self.fd)

    def _prune(self) -> None:
        entries = []
        with os.scandir(self.fd) as found:
            for item in found:
                if item.name.endswith(SUFFIX):
                    with contextlib.suppress(OSError):
                        entries.append((item.stat(follow_symlinks=False).st_mtime, item.name))
        for _, name in sorted(entries)[:-KEEP]:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=self.fd)

    def remove_stale_temporaries(self) -> None:
        """Remove our temporary files that a killed run left behind (not those of a run
        still writing, nor anyone else's)."""
        now = time.time()
        with contextlib.suppress(OSError), os.scandir(self.fd) as found:
            for item in found:
                if not _TEMP_NAME.fullmatch(item.name):
                    continue
                with contextlib.suppress(OSError):
                    info = item.stat(follow_symlinks=False)
                    if info.st_uid == os.geteuid() and now - info.st_mtime > STALE_SECONDS:
                        os.unlink(item.name, dir_fd=self.fd)


def _verified(handle: IO[bytes], secret: bytes, key: str) -> bool:
    """Whether the entry in ``handle`` bears the seal of ``key`` under ``secret``."""
    head = handle.read(len(MAGIC) + TAG_BYTES)
    if len(head) != len(MAGIC) + TAG_BYTES or not head.startswith(MAGIC):
        return False
    mac = _mac(secret, key)
    while chunk := handle.read(1 << 20):
        mac.update(chunk)
    return hmac.compare_digest(mac.digest(), head[len(MAGIC) :])


# -- the interface -------------------------------------------------------------------------------


def _warn(refused: Refused) -> None:
    """Log why a cache file is not used: the English text, and its phrase (``phrase`` on
    the record) for a handler that words it in the reader's language."""
    log.warning("%s", refused, extra={"phrase": refused.phrase})


def read(folder: Path, key: str) -> Engine | None:
    """The cached engine for ``key``, or None (missing, refused, or not genuine)."""
    try:
        with Folder.open(folder) as opened:
            return opened.read(key) if opened else None
    except Refused as exc:
        _warn(exc)
    except OSError:
        pass
    return None


def write(folder: Path, key: str, engine: Engine) -> None:
    """Store an engine under ``key``; a folder that cannot be written only costs time."""
    try:
        with Folder.open(folder) as opened:
            if opened:
                opened.write(key, engine)
    except Refused as exc:
        _warn(exc)
    except OSError:  # read-only or full disk: the run goes on uncached
        pass


def cached_engine(paths: DataPaths, lexicon: Path | None, build: Callable[[], Engine]) -> Engine:
    """The engine for these files: from the cache when it holds it, else built (and kept
    under the key of the bytes that were parsed)."""
    folder = cache_dir()
    key = entry_key(paths, lexicon) if folder is not None else None
    if folder is None or key is None:
        return build()
    try:
        with Folder.open(folder) as opened:
            return _through(opened, key, lexicon, build)
    except Refused as exc:  # the folder itself: nothing in it is used
        _warn(exc)
    return build()


def _through(
    folder: Folder | None, key: str, lexicon: Path | None, build: Callable[[], Engine]
) -> Engine:
    if folder is None:
        return build()
    usable = True
    engine = None
    try:
        engine = folder.read(key)
    except Refused as exc:
        _warn(exc)
        usable = not exc.whole
    except OSError:
        usable = False
    if engine is not None:
        return engine
    engine = build()
    written = built_key(engine, lexicon)
    if usable and written is not None:
        try:
            folder.write(written, engine)
        except Refused as exc:  # a secret made bad meanwhile
            _warn(exc)
        except OSError:  # read-only or full disk: the run goes on uncached
            pass
    return engine
