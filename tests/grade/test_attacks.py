"""Hostile submissions (tests/grade/attacks.py), graded once as root in-process: each attack is its own
test, and each asserts what a user would notice (status, points, files, what is left on the machine).

The same table is graded as `nobody` through the command line in test_unprivileged.py.
"""

from __future__ import annotations

import json
import time
import traceback

import pytest

pytest.importorskip("torch")
pytest.importorskip("nbformat")

import attacks  # noqa: E402
import grade_helpers as subs  # noqa: E402
from grade_helpers import ISOLATION, needs_jail  # noqa: E402
from quizgen.grade import runner  # noqa: E402
from quizgen.grade.sandbox import Limits  # noqa: E402

LIMITS = Limits(cell_timeout=8, wall_timeout=60, grace=3, memory_bytes=1 * 2**30, call_timeout=3)

pytestmark = [pytest.mark.slow, needs_jail]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    cache = tmp_path_factory.mktemp("attack-cache")
    subs.store_reference(cache, subs.LAB)
    context = attacks.Context("root", tmp_path_factory.mktemp("attack-submissions"),
                              tmp_path_factory.mktemp("attack-grades"), cache)
    try:
        attacks.prepare(context)
        started, error = time.monotonic(), ""
        try:
            report = runner.grade([context.folder], lab_id=subs.LAB, out=context.out, content=subs.CONTENT, workers=2,
                                  cache_dir=cache, limits=LIMITS, isolation=ISOLATION)
            records, header = {record["learner"]: record for record in report.records}, report.header
        except Exception:  # noqa: BLE001 - a batch stopped by one submission is a finding; keep what it wrote
            error = traceback.format_exc(limit=-3)
            results_path = context.out / "results.json"
            results = json.loads(results_path.read_text()) if results_path.exists() else {}
            records = {record["learner"]: record for record in results.get("submissions", [])}
            header = results
        attacks.finish(context, records, header, error, time.monotonic() - started)
        yield context
    finally:
        attacks.cleanup(context)


def test_the_whole_batch_is_graded(attacked):
    assert not attacked.error, attacked.error
    assert set(attacked.records) >= set(attacks.NAMES), sorted(set(attacks.NAMES) - set(attacked.records))
    rows = (attacked.out / "grades.csv").read_text(encoding="utf-8").count("\n")
    assert rows == 1 + len(attacked.records)


@pytest.mark.parametrize("name", attacks.NAMES)
def test_attack(attacked, name):
    attacks.check(attacked, name)
