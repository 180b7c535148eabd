"""LabContext.parallel: arms in forked workers, their results in order, a failing arm's error raised, and
the evaluations an arm defers (evaluate_later) put back in their place."""

from __future__ import annotations

import pytest

from quizgen.lab import runner


def pool(workers: int = 2):
    """A LabContext without a model: enough for parallel() when no arm evaluates."""
    context = object.__new__(runner.LabContext)
    context.workers, context.device = workers, "cpu"
    return context


def test_results_come_back_in_the_order_of_the_jobs_whatever_order_they_end_in():
    import time

    def job(value, wait):
        def run():
            time.sleep(wait)
            return {"value": value, "nested": [value, (value,)]}
        return run

    jobs = [job(0, 0.3), job(1, 0.0), job(2, 0.1)]
    assert pool().parallel(jobs) == [{"value": v, "nested": [v, (v,)]} for v in range(3)] == pool(1).parallel(jobs)


def test_an_arm_that_fails_raises_its_error_in_the_lab():
    def broken():
        raise ValueError("this arm diverged")

    with pytest.raises(ValueError, match="this arm diverged"):
        pool().parallel([lambda: 1, broken])


def test_deferred_evaluations_are_replaced_wherever_they_sit():
    first, second = runner.Later((1, 0), b""), runner.Later((1, 1), b"")
    value = {"points": {90: first, 175: second}, "arm": (second, {"steps": 175}), "plain": [1.5]}
    assert list(runner._laters(value)) == [first, second, second]
    evaluated = {(1, 0): {"recall": 0.9}, (1, 1): {"recall": 0.3}}
    assert runner._resolved(value, evaluated) == {
        "points": {90: {"recall": 0.9}, 175: {"recall": 0.3}}, "arm": ({"recall": 0.3}, {"steps": 175}),
        "plain": [1.5]}
