"""Termination signals as exceptions, so an interrupted command cleans up as for Ctrl-C.

Python turns SIGINT into ``KeyboardInterrupt``, which unwinds the stack: an export's
temporary file is removed on the way. SIGTERM (``kill``, a CI timeout, systemd) and SIGHUP
(a closed terminal) end the process at once by default and leave such files behind.
:func:`stop_on_signals` makes them raise :class:`Terminated` instead, in the command-line
process only (library callers keep their own handlers).
"""

from __future__ import annotations

import signal
from types import FrameType

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """The process was asked to stop by a signal; the CLI exits with 128 + its number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    def __reduce__(self) -> tuple[type[Terminated], tuple[int]]:  # crosses from a worker
        return Terminated, (self.signum,)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def stop_on_signals() -> None:
    """Raise :class:`Terminated` on SIGTERM and SIGHUP, unless they are ignored (``nohup``)."""
    for signum in SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise)
