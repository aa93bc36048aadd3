"""Files written whole or not at all: every file the tool writes goes through here.

A file is written beside its destination under a temporary name, flushed to the disk, then
renamed over the destination, so that a reader never sees half a file and a failure (a full
disk, an interruption) leaves the previous file as it was. A symbolic link is written
through, a destination that is not a regular file is refused, and any failure to write is
an :class:`~implant_match.errors.ExportError` naming the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from implant_match.errors import ExportError
from implant_match.messages import N_

PART_SUFFIX = ".part"


def check_destination(path: Path) -> Path:
    """The file ``path`` names, followed through a symbolic link, if a file can be written
    there; else an :class:`ExportError` saying why (a folder, a device or a pipe, a missing
    folder), before any work is done."""
    shown = path
    if not str(path) or str(path) == ".":
        raise ExportError(N_("no file name given"))
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.is_dir():
        raise ExportError(
            N_("{path}: is a folder; give the name of a file in it"), params={"path": shown}
        )
    if path.exists() and not path.is_file():
        what = (
            N_(
                "{path}: cannot write here: a link to {target}, which is not a regular file "
                "(a device or a pipe); give a file name"
            )
            if shown != path
            else N_(
                "{path}: cannot write here: it is not a regular file (a device or a pipe); "
                "give a file name"
            )
        )
        raise ExportError(what, params={"path": shown, "target": path})
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        what = (
            N_("{path}: folder '{folder}' is a file, not a folder")
            if folder.exists()
            else N_("{path}: folder '{folder}' does not exist")
        )
        raise ExportError(what, params={"path": shown, "folder": folder})
    return path


@contextmanager
def atomic_destination(path: Path) -> Iterator[IO[bytes]]:
    """A file beside ``path`` that replaces it only once fully written.

    A symbolic link is written through: its target is replaced (atomically, beside the
    target) and the link stays a link. A target that is not a regular file (a device such
    as ``/dev/full``, a pipe) is refused: it cannot be replaced atomically, and must never
    become a regular file. Temporary files are named ``.NAME.PID.XXXXXXXX.part``; those
    of a run that no longer exists (killed with SIGKILL) are removed by the next export.
    """
    shown, path = path, check_destination(path)
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_parts(path)
    try:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=PART_SUFFIX, dir=folder
        )
    except OSError as exc:
        raise ExportError(
            N_("{path}: cannot write here ({reason})"),
            params={"path": shown, "reason": exc.strerror},
        ) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists() and not os.access(path, os.W_OK):
            raise ExportError(N_("{path}: permission denied"), params={"path": shown})
        # mkstemp makes 0600 files: give the file the mode any new file would get (or
        # keep the mode of the file it replaces)
        os.chmod(temp_name, _mode_for(path))
        os.replace(temp_name, path)
    except PermissionError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise ExportError(
            N_("{path}: permission denied ({reason})"),
            params={"path": shown, "reason": exc.strerror},
        ) from None
    except OSError as exc:  # a full disk, a file size limit, an I/O error
        Path(temp_name).unlink(missing_ok=True)
        raise ExportError(
            N_("{path}: cannot write ({reason})"), params={"path": shown, "reason": exc.strerror}
        ) from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` through :func:`atomic_destination`."""
    data = text.encode("utf-8")
    with atomic_destination(path) as stream:
        stream.write(data)


def remove_stale_parts(path: Path) -> list[Path]:
    """Remove the temporary files of earlier exports to ``path`` whose process is gone.

    Only names of this module's pattern (``.NAME.PID.XXXXXXXX.part``), owned by this user,
    whose process no longer runs: an export still writing keeps its file.
    """
    removed: list[Path] = []
    folder = path.parent if str(path.parent) else Path(".")
    prefix = f".{path.name}."
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for candidate in candidates:
        pid, dot, rest = candidate.name[len(prefix) :].partition(".")
        random = rest[: -len(PART_SUFFIX)]
        if not (dot and pid.isdigit() and rest.endswith(PART_SUFFIX) and "." not in random):
            continue
        try:
            mine = not hasattr(os, "getuid") or candidate.lstat().st_uid == os.getuid()
            if not mine or _running(int(pid)):
                continue
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            continue
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True


def _mode_for(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
