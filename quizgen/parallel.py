"""``fork_map``: map a function over items on every core, for the few steps that are worth it
(parsing concept files, rendering items, writing pages, running formats).

Workers are forked, so they inherit the function and the items as they are in memory: nothing is
pickled on the way in (closures and Course objects are fine), only each result on the way back.
With less than ``min_work`` to do, on one core, where fork is unavailable, or inside a fork_map
already, it runs serially in this process and gives the same result in the same order.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 8
_task: tuple[Callable, Sequence] | None = None  # what forked workers run, inherited rather than pickled
_next = None  # for even items: the shared counter of the next item, its lock and the chunk size
_lock = threading.Lock()  # one fork_map at a time per process: _task is global


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fork_map(function: Callable[[T], R], items: Iterable[T], *, min_work: float,
             cost: Callable[[T], float] | None = None, uneven: bool = False,
             meanwhile: Callable[[], object] | None = None) -> list[R]:
    """[function(item) for item in items], on up to MAX_WORKERS forked processes when there is at
    least ``min_work`` to do: the number of items, or the sum of ``cost(item)`` when a cost is given.
    ``uneven`` items (formats of a build) are handed out one at a time, the costliest first, so that
    a big one does not start last; even ones are shared out a few at a time, this process taking its
    part too. An exception raised by the function is raised here.

    ``meanwhile`` is called here once the workers have started (before this process takes any item), and
    not at all when nothing forks: warm-up that only saves time (importing what
    comes next), done while the workers start instead of after they finish.
    """
    global _task
    items = list(items)
    workers = min(cores(), MAX_WORKERS, len(items))
    work = len(items) if cost is None else sum(cost(item) for item in items)
    if (work < min_work or workers < 2 or _task is not None or multiprocessing.parent_process() is not None
            or "fork" not in multiprocessing.get_all_start_methods()):
        return [function(item) for item in items]
    with _lock:
        _task = (function, items)
        try:
            if uneven:
                return _costliest_first(items, workers, cost or (lambda item: 1), meanwhile)
            return _shared(items, workers, meanwhile)
        finally:
            _task = None


CHUNKS_PER_PROCESS = 8  # even items are taken this many times per process on average


def _shared(items: list, workers: int, meanwhile: Callable[[], object] | None) -> list:
    """Even items: this process and n-1 forked workers take them a chunk at a time from a shared counter
    until none is left, each worker sending back its results in one message. A worker that starts late
    or runs slower (after a fork, every page either process writes is copied first) takes fewer, so
    nobody waits on a fixed share (fixed stripes left this process idle for a third of a 100-file load)."""
    global _next
    context = multiprocessing.get_context("fork")
    _next = (context.RawValue("q", 0), context.Lock(), max(1, len(items) // (workers * CHUNKS_PER_PROCESS)))
    try:
        with ProcessPoolExecutor(workers - 1, mp_context=context) as pool:
            futures = [pool.submit(_run_shared) for _ in range(workers - 1)]
            if meanwhile is not None:
                meanwhile()
            taken = [_run_shared()] + [future.result() for future in futures]
    finally:
        _next = None
    results: list = [None] * len(items)
    for indices, values in taken:
        for index, value in zip(indices, values):
            results[index] = value
    return results


def _costliest_first(items: list, workers: int, cost, meanwhile: Callable[[], object] | None) -> list:
    """Items of uneven size (formats of a build): a pool of n workers takes them one at a time,
    the costliest first, so that a big one does not start last."""
    order = sorted(range(len(items)), key=lambda index: cost(items[index]), reverse=True)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        values = pool.map(_run, order)  # every item is submitted; the values come as they are read
        if meanwhile is not None:
            meanwhile()
        values = list(values)
    results: list = [None] * len(items)
    for index, value in zip(order, values):
        results[index] = value
    return results


def _run_shared() -> tuple[list[int], list]:
    """Take chunks of the items from the shared counter until none is left: (their indices, values)."""
    function, items = _task
    counter, lock, chunk = _next
    indices, values = [], []
    while True:
        with lock:
            start = counter.value
            counter.value = start + chunk
        if start >= len(items):
            return indices, values
        for index in range(start, min(start + chunk, len(items))):
            indices.append(index)
            values.append(function(items[index]))


def _run(index: int):
    function, items = _task
    return function(items[index])
