"""The standard streams of a command-line run, made safe to write to whatever they are.

A command's output may go to a closed descriptor (``>&-``), a full disk (``> /dev/full``),
a reader that stops early (``| head -1``), a terminal whose locale cannot encode French
text (``LC_ALL=C``), or a console that says it is 0 columns wide (``COLUMNS=0``). None of
these is a bug of the tool; each must end in a clear message and a documented exit code,
never a traceback. :func:`prepare` sets the streams up once, at the start of the
command-line process (library callers keep their own streams):

- a closed standard descriptor is reopened on ``/dev/null``, so no file the command opens
  later can take its number (an export's temporary file must never become fd 1); writing to
  a closed standard output is an :class:`~implant_match.errors.OutputError`;
- standard output writes everything it is given (a pipe may accept only part of a write),
  and a write that fails for another reason than a departed reader (disk full, I/O error)
  is an ``OutputError``; a departed reader stays a ``BrokenPipeError``, which the CLI ends
  quietly;
- human text that the locale cannot encode is degraded (``?``), never fatal; data (JSON,
  CSV) goes out as UTF-8 bytes whatever the locale (:func:`write_data`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import locale
import os
import shutil
import sys
from collections.abc import Iterable

from implant_match.errors import OutputError
from implant_match.messages import N_, Phrase

MIN_WIDTH = 40  # narrower, a table has no room for its columns' words
MAX_WIDTH = 1000  # wider, a rule or a padded row would be megabytes of spaces
FALLBACK_WIDTH = 80

_UTF8 = ("utf-8", "utf8")


class StandardOutput(io.RawIOBase):
    """File descriptor 1 as a raw stream: every byte written, or a named error."""

    def __init__(self, fd: int = 1, closed: bool = False) -> None:
        super().__init__()
        self._fd = fd
        self.was_closed = closed  # closed when the process started (``>&-``)
        self.reader_gone = False  # the reader left, or the failure was said: drop the rest
        self.failed = False  # an OutputError was raised (and will be reported once)
        self.pipe_broke = False  # a write met a broken pipe (handled or not)

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return not self.was_closed and os.isatty(self._fd)

    def write(self, data: object) -> int:
        view = memoryview(data).cast("B")  # type: ignore[arg-type]
        if self.reader_gone:
            return len(view)
        if self.was_closed:
            self.failed = True
            raise OutputError(N_("cannot write the output: standard output is closed"))
        done = 0
        while done < len(view):
            try:
                done += os.write(self._fd, view[done:])
            except BrokenPipeError:
                self.pipe_broke = True
                raise
            except OSError as exc:
                self.failed = True
                raise OutputError(
                    N_("cannot write the output: {reason}"), params={"reason": describe(exc)}
                ) from None
        return done


def describe(exc: OSError) -> Phrase | str:
    """An OSError in words a user acts on (a full disk is named as such, in a phrase the
    output layer words in the reader's language; the system's own words stay as it says)."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return Phrase.of(N_("{reason} (disk full)"), reason=reason)
    return reason


def prepare() -> None:
    """Set up the standard streams of a command-line process (see the module's docstring)."""
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
    for fd in sorted(closed):  # the lowest free number first: each lands on its own
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
    encoding = _encoding(sys.stdout)
    raw = StandardOutput(1, closed=1 in closed)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=encoding,
        errors="strict" if _is_utf8(encoding) else "replace",
        line_buffering=raw.isatty(),
    )
    if 2 in closed or sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    elif sys.stderr.errors == "strict" and not _is_utf8(sys.stderr.encoding):
        with contextlib.suppress(AttributeError, io.UnsupportedOperation):
            sys.stderr.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def _encoding(stream: object) -> str:
    found = getattr(stream, "encoding", None)
    return found or locale.getpreferredencoding(False) or "utf-8"


def _is_utf8(encoding: str | None) -> bool:
    return (encoding or "").lower().replace("_", "-") in _UTF8


def _raw() -> StandardOutput | None:
    buffer = getattr(sys.stdout, "buffer", None)
    raw = getattr(buffer, "raw", None)
    return raw if isinstance(raw, StandardOutput) else None


def write_data(pieces: str | Iterable[str]) -> None:
    """Write data meant for programs (JSON, CSV) as UTF-8 bytes, whatever the locale."""
    sys.stdout.flush()  # human text written before stays before
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's StringIO): it takes text
        sys.stdout.writelines([pieces] if isinstance(pieces, str) else pieces)
        return
    for piece in [pieces] if isinstance(pieces, str) else pieces:
        buffer.write(piece.encode("utf-8"))
    buffer.flush()


def reader_gone() -> None:
    """The reader of standard output has left (``| head``): drop whatever is still to go."""
    raw = _raw()
    if raw is not None:
        raw.reader_gone = True
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def finish() -> OutputError | None:
    """Flush both streams at the end of a run; the error of a failed output, if not said.

    A reader that left is no failure (the run's own exit code stands); a full disk or a
    closed standard output met only now, at the last flush, is one.
    """
    failure = None
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        reader_gone()
    except OutputError as exc:
        raw = _raw()
        if raw is not None:
            raw.reader_gone = True  # said once: nothing more is written
        failure = exc
    except (OSError, ValueError):  # not ours (a library caller's stream): nothing to add
        pass
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    return failure


def reader_left_unseen() -> bool:
    """Whether a write met a broken pipe that no handler of ours saw (click's own handler,
    around ``--help`` and ``--version``, ends with 1 as if the run had failed)."""
    raw = _raw()
    return raw is not None and raw.pipe_broke and not raw.reader_gone


def output_failed() -> bool:
    """Whether a write to standard output has failed (the command's error said so)."""
    raw = _raw()
    return raw is not None and raw.failed


def console_width() -> int | None:
    """The width to give rich's consoles, or None to let rich decide.

    Rich takes ``COLUMNS`` as it is: ``0`` prints nothing at all, ``5`` a column of
    letters, ``10000000`` rules of ten megabytes. A usable value is kept, within
    ``MIN_WIDTH`` to ``MAX_WIDTH``; an unusable one gives the terminal's width, or 80.
    """
    raw = os.environ.get("COLUMNS")
    if raw is None:
        return None
    value = raw.strip()
    if value.isdigit() and int(value) > 0:
        return max(MIN_WIDTH, min(MAX_WIDTH, int(value)))
    # shutil reads COLUMNS first, then asks the terminal when it is unusable
    width = shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, width if width > 0 else FALLBACK_WIDTH))
