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

T = TypeVar("T")
R = TypeVar("R")

JOBS_ENV = "IMPLANT_MATCH_JOBS"
MAX_AUTO_JOBS = 8  # past this, the memory of more forks grows faster than the time saved

_work: Callable[[Any], Any] | None = None  # what forked workers run (set just before forking)


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
    """Process count: ``jobs`` if given, else $IMPLANT_MATCH_JOBS, else one per CPU (capped)."""
    if jobs is None:
        raw = os.environ.get(JOBS_ENV, "").strip()
        if raw:
            try:
                jobs = int(raw)
            except ValueError:
                raise UsageError(
                    f"{JOBS_ENV}={raw!r} is not a whole number",
                    "use 1 to run in one process, 0 for one process per CPU",
                ) from None
            if jobs < 0:
                raise UsageError(f"{JOBS_ENV}={raw!r} is negative", "use 0 or more")
    if not jobs:
        return min(available_cpus(), MAX_AUTO_JOBS)
    return jobs


def _run(item: Any) -> Any:
    assert _work is not None
    return _work(item)


def fork_map(function: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``[function(item) for item in items]``, over this process and up to ``jobs - 1`` forks.

    This process takes the first item itself while forked workers take the others, so
    ``jobs`` processes work in all. Results come back in the order of ``items``; an
    exception in a worker is raised here. ``function`` may be any callable (a closure over
    an engine): workers are forked after it is set, so it is inherited, never pickled;
    results must be picklable.
    """
    workers = min(jobs, len(items)) - 1
    if workers < 1 or not can_fork():
        return [function(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _work
    _work = function
    # a worker flushes the standard streams it inherited when it ends: flush them first,
    # so that nothing written before the fork is written twice
    sys.stdout.flush()
    sys.stderr.flush()
    # objects made so far are left out of the workers' garbage collections, which would
    # otherwise touch (and so copy) every page of the shared engine
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending = [pool.submit(_run, item) for item in items[1:]]
            try:
                first = function(items[0])
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
            try:
                rest = [future.result() for future in pending]
            except BrokenProcessPool:
                raise WorkerError(
                    "a worker process ended before sending its result (stopped by the "
                    f"system, out of memory?); run again with --jobs 1 or {JOBS_ENV}=1"
                ) from None
            return [first, *rest]
    finally:
        gc.unfreeze()
        _work = None


class ForkedCall(Generic[R]):
    """``function()`` computed in a forked child while this process does something else.

    Used to overlap independent serial steps (parsing a big data file while the heavy
    modules are imported). The child only ever delivers a success: when ``function``
    raises, or the child is killed, or its result cannot be pickled, :meth:`result` says
    so and the caller computes the value itself, so that errors are raised (and located)
    exactly as without the child.
    """

    def __init__(self, pid: int, fd: int) -> None:
        self._pid = pid
        self._fd = fd

    @classmethod
    def start(cls, function: Callable[[], R]) -> ForkedCall[R] | None:
        """Fork a child computing ``function()``; None where forking is not safe."""
        if not can_fork():
            return None
        read_fd, write_fd = os.pipe()
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
                gc.disable()  # a short-lived process building plain data
                payload = pickle.dumps(function(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_fd, "wb") as out:
                    out.write(payload)
                code = 0
            finally:
                # never run the parent's exit handlers nor flush its inherited buffers
                os._exit(code)
        os.close(write_fd)
        return cls(pid, read_fd)

    def result(self) -> tuple[bool, R | None]:
        """Wait for the child: ``(True, value)``, or ``(False, None)`` when it failed."""
        try:
            with os.fdopen(self._fd, "rb") as source:
                payload = source.read()
        finally:
            _, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not payload:
            return False, None
        try:
            value: R = pickle.loads(payload)
        except Exception:  # pragma: no cover - a result that pickled unpickles
            return False, None
        return True, value

    def cancel(self) -> None:
        """Stop the child and forget its result."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._fd)
        os.waitpid(self._pid, 0)


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
