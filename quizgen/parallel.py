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
_lock = threading.Lock()  # one fork_map at a time per process: _task is global


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fork_map(function: Callable[[T], R], items: Iterable[T], *, min_work: float,
             cost: Callable[[T], float] | None = None, uneven: bool = False) -> list[R]:
    """[function(item) for item in items], on up to MAX_WORKERS forked processes when there is at
    least ``min_work`` to do: the number of items, or the sum of ``cost(item)`` when a cost is given.
    ``uneven`` items (formats of a build) are handed out one at a time, the costliest first, so that
    a big one does not start last; even ones are split in stripes, one of them computed here.
    An exception raised by the function is raised here."""
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
                return _costliest_first(items, workers, cost or (lambda item: 1))
            return _striped(function, items, workers)
        finally:
            _task = None


def _striped(function, items: list, workers: int) -> list:
    """Uniform items: this process computes every n-th item itself while n-1 forked workers compute
    the rest, each sending back its results in one message (less forking and pickling than a pool
    of n workers with this process idle)."""
    stripes = [range(start, len(items), workers) for start in range(workers)]
    with ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_run_stripe, stripe) for stripe in stripes[1:]]
        values = [[function(items[index]) for index in stripes[0]]] + [future.result() for future in futures]
    results: list = [None] * len(items)
    for stripe, stripe_values in zip(stripes, values):
        for index, value in zip(stripe, stripe_values):
            results[index] = value
    return results


def _costliest_first(items: list, workers: int, cost) -> list:
    """Items of uneven size (formats of a build): a pool of n workers takes them one at a time,
    the costliest first, so that a big one does not start last."""
    order = sorted(range(len(items)), key=lambda index: cost(items[index]), reverse=True)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        values = list(pool.map(_run, order))
    results: list = [None] * len(items)
    for index, value in zip(order, values):
        results[index] = value
    return results


def _run_stripe(stripe: range) -> list:
    function, items = _task
    return [function(items[index]) for index in stripe]


def _run(index: int):
    function, items = _task
    return function(items[index])
