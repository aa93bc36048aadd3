"""How heavy work runs: worker processes for independent pieces, the collector paused.

A ranking over many needs splits into needs that do not depend on one another; once the
dataset is analysed, forked workers inherit the whole engine without copying or pickling
it (pages are shared copy-on-write) and send back only their finished piece. Fork is used
only where it is safe and cheap (Linux); elsewhere, or with one job, pieces run in turn in
this process, with the same results.

Loading and analysing a large dataset creates millions of small containers and no
reference cycles; the cyclic garbage collector, triggered every few hundred allocations,
would scan the ever-growing heap again and again for nothing. It is paused meanwhile.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from implant_match.errors import UsageError, WorkerError
from implant_match.messages import N_

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows, where nothing is forked
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
R = TypeVar("R")

JOBS_ENV = "IMPLANT_MATCH_JOBS"
MAX_AUTO_JOBS = 8  # past this, the memory of more forks grows faster than the time saved


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off inside the block (as it was, after it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def can_fork() -> bool:
    """Whether workers can be forked safely: on Linux (macOS frameworks are not fork-safe),
    from a process with no other thread (one could hold a lock the child would wait on)."""
    import multiprocessing
    import threading

    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    """Process count: ``jobs`` if given, else $IMPLANT_MATCH_JOBS, else one per CPU (capped).

    Never more than the CPUs this process may run on (``os.sched_getaffinity``): more
    processes would only share them, each holding its own memory (999 asked for a thousand
    processes and threads per stage, until the system refused to start one).
    """
    return min(requested_jobs(jobs), available_cpus())


def requested_jobs(jobs: int | None) -> int:
    """The process count asked for (``jobs``, else $IMPLANT_MATCH_JOBS), before the cap."""
    if jobs is None:
        raw = os.environ.get(JOBS_ENV, "").strip()
        if raw:
            try:
                jobs = int(raw)
            except ValueError:
                raise UsageError(
                    N_("{name}={value} is not a whole number"),
                    N_("use 1 to run in one process, 0 for one process per CPU"),
                    params={"name": JOBS_ENV, "value": repr(raw)},
                ) from None
            if jobs < 0:
                raise UsageError(
                    N_("{name}={value} is negative"),
                    N_("use 0 or more"),
                    params={"name": JOBS_ENV, "value": repr(raw)},
                )
    if not jobs:
        return min(available_cpus(), MAX_AUTO_JOBS)
    return jobs


def fork_map(function: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``[function(item) for item in items]``, over this process and up to ``jobs - 1`` forks.

    Item ``k`` goes to process ``k % jobs``: this process takes the first share itself
    while forked children take the others, so ``jobs`` processes work in all. Results come
    back in the order of ``items``; an exception in a child is raised here (a child that
    ends without a result, stopped by the system, is a :class:`WorkerError`).
    ``function`` may be any callable (a closure over an engine): children are forked
    after it exists, so it is inherited, never pickled; results must be picklable.
    """
    processes = min(jobs, len(items))
    if processes < 2 or not can_fork():
        return [function(item) for item in items]

    def share(p: int) -> Callable[[], list[R]]:
        return lambda: [function(item) for item in items[p::processes]]

    # output written before the fork is flushed once, here, not by a child as well
    sys.stdout.flush()
    sys.stderr.flush()
    # objects made so far are left out of the children's garbage collections, which would
    # otherwise touch (and so copy) every page of the shared engine
    gc.freeze()
    calls: list[ForkedCall[list[R]] | None] = [None]  # the first share is this process's
    try:
        calls += [ForkedCall.start(share(p)) for p in range(1, processes)]
        shares: list[list[R]] = []
        for p, call in enumerate(calls):
            if call is None:  # this process's share, or one no child could be forked for
                shares.append(share(p)())
                continue
            outcome, value = call.outcome()
            if outcome == "raised":
                assert isinstance(value, BaseException)
                raise value
            if outcome == "lost":
                raise WorkerError(
                    "a worker process ended before sending its result (stopped by the "
                    f"system, out of memory?); run again with --jobs 1 or {JOBS_ENV}=1"
                )
            shares.append(value)  # type: ignore[arg-type]
    finally:
        for call in calls:
            if call is not None:
                call.cancel()  # a child not heard from (this process failed first): stopped
        gc.unfreeze()
    out: list[R] = [None] * len(items)  # type: ignore[list-item]
    for p, results in enumerate(shares):
        out[p::processes] = results
    return out


PIPE_BYTES = 1 << 20  # a result crosses in big writes, not 64 KiB at a time (Linux)


class ForkedCall(Generic[R]):
    """``function()`` computed in a forked child while this process does something else.

    Used to run independent work side by side (a big data file parsed while the heavy
    modules are imported; runs of needs ranked apart). The child sends back its pickled
    result, or the exception it raised (one that cannot be pickled arrives as a
    :class:`WorkerError` naming it).
    """

    def __init__(self, pid: int, fd: int) -> None:
        self._pid = pid
        self._fd: int | None = fd

    @classmethod
    def start(cls, function: Callable[[], R]) -> ForkedCall[R] | None:
        """Fork a child computing ``function()``; None where forking is not safe."""
        if not can_fork():
            return None
        read_fd, write_fd = os.pipe()
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: fewer, bigger writes across the pipe
            with contextlib.suppress(OSError):
                fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        try:
            pid = os.fork()
        except OSError:  # out of processes or memory: the caller does the work itself
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:  # pragma: no cover - runs in the child (os._exit leaves no coverage)
            code = 1
            try:
                os.close(read_fd)
                gc.disable()  # a short-lived process
                with os.fdopen(write_fd, "wb") as out:
                    out.write(_outcome(function))
                code = 0
            finally:
                # never run the parent's exit handlers nor flush its inherited buffers
                os._exit(code)
        os.close(write_fd)
        return cls(pid, read_fd)

    def outcome(self) -> tuple[str, R | BaseException | None]:
        """Wait for the child: ``("value", value)``, ``("raised", exception)``, or
        ``("lost", None)`` when it ended without a word (killed)."""
        assert self._fd is not None, "an outcome is read once"
        fd, self._fd = self._fd, None
        try:
            with os.fdopen(fd, "rb") as source:
                payload = source.read()
        except BaseException:  # Ctrl-C while waiting: the child, left unread, would block
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            raise
        os.waitpid(self._pid, 0)
        try:
            kind, value = pickle.loads(payload)
        except Exception:  # nothing, or a truncated payload
            return "lost", None
        return kind, value

    def result(self) -> tuple[bool, R | None]:
        """``(True, value)``, or ``(False, None)`` when the child raised or was lost."""
        kind, value = self.outcome()
        if kind == "value":
            return True, value  # type: ignore[return-value]
        return False, None

    def cancel(self) -> None:
        """Stop the child if its outcome was not read, and reap it."""
        if self._fd is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._fd)
        self._fd = None
        os.waitpid(self._pid, 0)


def _outcome(function: Callable[[], Any]) -> bytes:  # pragma: no cover - in children
    """The pickled ``("value", result)`` or ``("raised", exception)`` of ``function()``.

    An exception that does not survive pickling (one whose constructor takes other
    arguments than it keeps) is sent as a :class:`WorkerError` naming it.
    """
    try:
        return pickle.dumps(("value", function()), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:
        try:
            payload = pickle.dumps(("raised", exc), protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(payload)
            return payload
        except Exception:
            error = WorkerError(f"a worker process failed: {type(exc).__name__}: {exc}")
            return pickle.dumps(("raised", error), protocol=pickle.HIGHEST_PROTOCOL)


def split(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` cut into ``parts`` contiguous runs of near-equal length (none empty)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for i in range(parts):
        stop = start + size + (i < extra)
        runs.append(items[start:stop])
        start = stop
    return runs
