"""Work spread over forked workers: same results, same order, errors surface here."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from implant_match import runtime as workers
from implant_match.errors import UsageError
from implant_match.runtime import can_fork, fork_map, resolve_jobs, split


def test_fork_map_equals_a_loop_in_order() -> None:
    offset = 1000  # a closure: inherited by the workers, never pickled

    def work(item: int) -> tuple[int, int]:
        return item * item + offset, os.getpid()

    results = fork_map(work, list(range(7)), jobs=3)
    assert [value for value, _ in results] == [i * i + offset for i in range(7)]
    pids = [pid for _, pid in results]
    if can_fork():  # item k in process k % 3: this one, then two forked children
        assert [pids[k % 3] for k in range(7)] == pids
        assert pids[0] == os.getpid() and len(set(pids)) == 3
    else:
        assert set(pids) == {os.getpid()}


def test_one_job_or_one_item_runs_here() -> None:
    assert fork_map(lambda _: os.getpid(), [1, 2, 3], jobs=1) == [os.getpid()] * 3
    assert fork_map(lambda _: os.getpid(), [1], jobs=4) == [os.getpid()]
    assert fork_map(lambda _: os.getpid(), [], jobs=4) == []


@pytest.mark.parametrize("bad", [0, 2])
def test_an_error_here_or_in_a_worker_is_raised_here(bad: int) -> None:
    def work(item: int) -> int:
        if item == bad:
            raise ValueError(f"bad item {item}")
        return item

    with pytest.raises(ValueError, match=f"bad item {bad}"):
        fork_map(work, [0, 1, 2, 3], jobs=2)


def test_output_written_before_the_workers_is_not_repeated(
    capfd: pytest.CaptureFixture[str],
) -> None:
    print("before", end="")  # left in the buffer: the workers would flush it again
    fork_map(lambda item: item, [1, 2, 3, 4], jobs=2)
    assert capfd.readouterr().out == "before"


@given(st.lists(st.integers(), max_size=40), st.integers(min_value=1, max_value=12))
def test_split_cuts_in_order_into_near_equal_runs(items: list[int], parts: int) -> None:
    runs = split(items, parts)
    assert [x for run in runs for x in run] == items
    if items:
        assert len(runs) == min(parts, len(items))
        assert all(runs) and max(map(len, runs)) - min(map(len, runs)) <= 1


def test_jobs_from_the_option_the_environment_or_the_cpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "available_cpus", lambda: 64)
    monkeypatch.delenv(workers.JOBS_ENV, raising=False)
    assert resolve_jobs(None) == workers.MAX_AUTO_JOBS
    assert resolve_jobs(3) == 3
    monkeypatch.setenv(workers.JOBS_ENV, "1")
    assert resolve_jobs(None) == 1
    assert resolve_jobs(2) == 2  # the option wins over the environment
    monkeypatch.setenv(workers.JOBS_ENV, "0")
    assert resolve_jobs(None) == workers.MAX_AUTO_JOBS
    for bad in ("two", "-1", "1.5"):
        monkeypatch.setenv(workers.JOBS_ENV, bad)
        with pytest.raises(UsageError, match=workers.JOBS_ENV):
            resolve_jobs(None)


def test_paused_gc_restores_the_collector_as_it_was() -> None:
    import gc

    from implant_match.runtime import paused_gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left off, as the caller had it
    finally:
        gc.enable()


def test_no_fork_while_another_thread_runs() -> None:
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not can_fork()
        assert fork_map(lambda _: os.getpid(), [1, 2, 3], jobs=3) == [os.getpid()] * 3
    finally:
        release.set()
        thread.join()


@pytest.mark.skipif(not can_fork(), reason="workers are forked on Linux only")
def test_a_killed_worker_is_a_named_error() -> None:
    import signal

    from implant_match.errors import WorkerError

    def work(item: int) -> int:
        if item:  # in a worker: stopped as the system stops a process out of memory
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    with pytest.raises(WorkerError, match="--jobs 1"):
        fork_map(work, [0, 1], jobs=2)


@pytest.mark.skipif(not can_fork(), reason="children are forked on Linux only")
def test_a_forked_call_delivers_its_value_computed_in_the_child() -> None:
    from implant_match.runtime import ForkedCall

    here = os.getpid()
    call = ForkedCall.start(lambda: {"pid": os.getpid(), "items": list(range(5))})
    assert call is not None
    delivered, value = call.result()
    assert delivered and value is not None
    assert value["items"] == [0, 1, 2, 3, 4] and value["pid"] != here


@pytest.mark.skipif(not can_fork(), reason="children are forked on Linux only")
def test_an_exception_that_does_not_pickle_is_a_named_worker_error() -> None:
    from implant_match.errors import WorkerError

    class Odd(Exception):
        def __init__(self, code: int, where: str) -> None:  # args kept: (message,)
            super().__init__(f"{where} failed with {code}")

    def work(item: int) -> int:
        if item:
            raise Odd(7, "the child")
        return item

    with pytest.raises(WorkerError, match="Odd: the child failed with 7"):
        fork_map(work, [0, 1], jobs=2)


@pytest.mark.skipif(not can_fork(), reason="children are forked on Linux only")
def test_a_forked_call_that_fails_delivers_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    from implant_match.runtime import ForkedCall

    def fails() -> int:
        raise ValueError("in the child")

    print("before", end="")  # left in the buffer: the child must not flush it again
    for function in (fails, lambda: lambda: 1):  # raises; returns what does not pickle
        call = ForkedCall.start(function)
        assert call is not None
        assert call.result() == (False, None)
    captured = capfd.readouterr()
    assert captured.out == "before" and "in the child" not in captured.err


@pytest.mark.skipif(not can_fork(), reason="children are forked on Linux only")
def test_a_cancelled_forked_call_leaves_no_child() -> None:
    import time

    from implant_match.runtime import ForkedCall

    call = ForkedCall.start(lambda: time.sleep(60))
    assert call is not None
    started = time.monotonic()
    call.cancel()
    assert time.monotonic() - started < 30  # killed, not waited for
    with pytest.raises(ChildProcessError):  # reaped: no child left to wait for
        os.waitpid(call._pid, 0)


def test_no_forked_call_where_forking_is_not_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    from implant_match.runtime import ForkedCall

    monkeypatch.setattr(workers, "can_fork", lambda: False)
    assert ForkedCall.start(lambda: 1) is None


@pytest.mark.skipif(not can_fork(), reason="children are forked on Linux only")
def test_an_interrupted_wait_stops_the_child_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import signal

    from implant_match.runtime import ForkedCall

    call = ForkedCall.start(lambda: b"x" * (8 << 20))  # more than a pipe holds: blocks
    assert call is not None

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C while this process waits for the child

    def hung(*args: object) -> None:
        raise TimeoutError("still waiting for a child blocked on its write")

    monkeypatch.setattr(workers.os, "fdopen", interrupted)
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)  # a regression hangs: the child blocked writing, this one reaping
    try:
        with pytest.raises(KeyboardInterrupt):
            call.outcome()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ChildProcessError):  # stopped and reaped
        os.waitpid(call._pid, 0)
