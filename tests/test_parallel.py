"""fork_map gives what a plain loop gives, in order, whether it forks or not."""

from __future__ import annotations

import os
import time

import pytest

from quizgen import parallel
from quizgen.parallel import fork_map

needs_cores = pytest.mark.skipif(parallel.cores() < 2, reason="one core: fork_map never forks")


def square_and_pid(number: int) -> tuple[int, int]:
    return number * number, os.getpid()


def slow_square_and_pid(number: int) -> tuple[int, int]:
    """Slow enough that a worker starts before this process has taken every item (they are shared out as
    they are taken, so a worker that starts late may get none of a fast function's)."""
    time.sleep(0.005)
    return square_and_pid(number)


@needs_cores
@pytest.mark.parametrize("uneven", [False, True])
def test_results_come_back_in_order_and_from_several_processes(uneven):
    results = fork_map(slow_square_and_pid, range(200), min_work=1, uneven=uneven, cost=lambda n: n % 7 + 1)
    assert [value for value, _ in results] == [n * n for n in range(200)]
    # It did fork: some results come from another process. (Not "from two processes": with uneven items one
    # worker of the pool can take every tiny item before the other has started.)
    assert any(pid != os.getpid() for _, pid in results)


def test_below_min_work_it_runs_here():
    results = fork_map(square_and_pid, range(10), min_work=11)
    assert results == [(n * n, os.getpid()) for n in range(10)]


@needs_cores
def test_cost_decides_the_threshold():
    assert {pid for _, pid in fork_map(square_and_pid, range(4), min_work=100, cost=lambda n: 1)} == {os.getpid()}
    assert len({pid for _, pid in fork_map(slow_square_and_pid, range(40), min_work=100, cost=lambda n: 50)}) >= 2


@needs_cores
def test_closures_need_no_pickling():
    offset = object()  # not picklable by reference from a worker's point of view: must be inherited
    assert fork_map(lambda n: (n, id(offset)), range(50), min_work=1) == [(n, id(offset)) for n in range(50)]


@needs_cores
@pytest.mark.parametrize("uneven", [False, True])
def test_a_workers_exception_is_raised_here(uneven):
    def fail_on_13(n):
        if n == 13:
            raise ValueError("thirteen")
        return n

    with pytest.raises(ValueError, match="thirteen"):
        fork_map(fail_on_13, range(40), min_work=1, uneven=uneven)
    assert fork_map(lambda n: n, range(40), min_work=1) == list(range(40))  # still usable afterwards


@needs_cores
def test_nested_calls_run_serially_inside():
    def inner(n):
        return fork_map(square_and_pid, range(n), min_work=1)

    for results in fork_map(inner, range(1, 6), min_work=1):
        assert len({pid for _, pid in results}) == 1


@needs_cores
@pytest.mark.parametrize("uneven", [False, True])
def test_meanwhile_runs_here_once_while_the_workers_compute(uneven):
    calls = []
    results = fork_map(slow_square_and_pid, range(100), min_work=1, uneven=uneven,
                       meanwhile=lambda: calls.append(os.getpid()))
    assert calls == [os.getpid()]
    assert [value for value, _ in results] == [n * n for n in range(100)]
    pids = {pid for _, pid in results}
    assert len(pids - {os.getpid()}) >= 1
    if not uneven:  # even items: this process took its part too
        assert os.getpid() in pids


def test_meanwhile_is_not_called_when_nothing_forks():
    calls = []
    assert fork_map(square_and_pid, range(3), min_work=10, meanwhile=lambda: calls.append(1)) == [
        (n * n, os.getpid()) for n in range(3)]
    assert calls == []
