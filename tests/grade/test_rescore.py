"""`quizgen grade --rescore`: after an instructor changes a key or a tolerance, every score is computed again
from what each run harvested, in seconds and without running a notebook; only a submission whose file
changed runs again; a harvest file that does not check out is not believed."""

from __future__ import annotations

import json
import re
import shutil
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("nbformat")

import grade_helpers as subs  # noqa: E402
from grade_helpers import needs_jail  # noqa: E402
from quizgen.cli import cli  # noqa: E402
from quizgen.grade import runner, sandbox  # noqa: E402

pytestmark = needs_jail

DRIFT_RATIO = "{#drift-ratio type=numeric answer=11.2 tolerance=0.05 claim=aggressive-drifts-more}"
# The answers to drift-ratio (key 11.2, tolerance 0.05, then 0.2), and a question no change touches.
ANSWERS = {"exact": 11.2, "near": 11.3, "far": 11.5, "as-text": "11.3"}


def answering(drift_ratio) -> dict:
    return subs.tiny(f"ANSWERS = {{'aggressive-risk': 'B', 'drift-ratio': {drift_ratio!r}}}")


def command(folder: Path) -> list[str]:
    return ["grade", str(folder / "in"), "--lab", subs.LAB, "--out", str(folder / "out"), "--workers", "2",
            "--content", str(folder / "content"), "--cache-dir", str(folder / "cache"), "--cell-timeout", "30"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Path:
    """A copy of the course and four submissions, graded once through the command line (for the module)."""
    folder = tmp_path_factory.mktemp("rescore")
    shutil.copytree(subs.CONTENT, folder / "content")
    # drift-ratio as this module knows it, whatever key and tags the course gives it now
    concept = next((folder / "content").glob("01-*.md"))
    text, count = re.subn(r"(?m)^\{#drift-ratio [^\n]*\}$", DRIFT_RATIO, concept.read_text(encoding="utf-8"))
    assert count == 1, "the course has a drift-ratio question"
    concept.write_text(text, encoding="utf-8")
    subs.store_reference(folder / "cache", subs.LAB)
    (folder / "in").mkdir()
    for learner, answer in ANSWERS.items():
        subs.write(folder / "in", learner, answering(answer))
    result = CliRunner().invoke(cli, command(folder))
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def graded(first_run, tmp_path):
    """Each test's own copy of the first run: course, cache, submissions and output."""
    for name in ("content", "cache", "in", "out"):
        shutil.copytree(first_run / name, tmp_path / name, symlinks=True)
    return tmp_path, command(tmp_path), records(tmp_path / "out")


def records(out: Path) -> dict[str, dict]:
    return {record["learner"]: record for record in json.loads((out / "results.json").read_text())["submissions"]}


def items(record: dict) -> dict[str, tuple]:
    return {item["id"]: (item["earned"], item["points"], tuple(item["feedback"])) for item in record["items"]}


@pytest.fixture
def no_notebook_runs(monkeypatch):
    """Fails the test if anything starts a sandbox or copies the runtime a sandbox would import."""
    def refuse(*args, **kwargs):
        raise AssertionError("a notebook was run")

    monkeypatch.setattr(runner, "run_notebook", refuse)
    monkeypatch.setattr(runner, "Runtime", refuse)
    monkeypatch.setattr(sandbox, "run_notebook", refuse)


def test_a_changed_tolerance_changes_exactly_the_affected_scores_without_running_a_notebook(graded, no_notebook_runs):
    folder, arguments, before = graded
    assert {learner: record["status"] for learner, record in before.items()} == dict.fromkeys(ANSWERS, "missing answer cell")
    assert [learner for learner, record in before.items() if subs.earned(record, "question:drift-ratio")] == ["exact"]
    logs = {path.name: path.read_bytes() for path in (folder / "out" / "logs").iterdir()}
    concept = next((folder / "content").glob("01-*.md"))
    text = concept.read_text(encoding="utf-8")
    assert DRIFT_RATIO in text
    concept.write_text(text.replace(DRIFT_RATIO, DRIFT_RATIO.replace("tolerance=0.05", "tolerance=0.2")), encoding="utf-8")

    result = CliRunner().invoke(cli, arguments + ["--rescore"])

    assert result.exit_code == 0, result.output + "".join(traceback.format_exception(*result.exc_info))
    after = records(folder / "out")
    changed = {learner: [item for item, value in items(after[learner]).items() if items(record)[item] != value]
               for learner, record in before.items()}
    assert changed == {"exact": [], "near": ["question:drift-ratio"], "far": [], "as-text": []}
    assert subs.earned(after["near"], "question:drift-ratio") == 1 and after["near"]["score"] == before["near"]["score"] + 1
    for learner, record in after.items():
        assert record["rescored"] is True and record["status"] == before[learner]["status"]
        assert record["cells"] == before[learner]["cells"] and record["answers"] == before[learner]["answers"]
        # Which grader and which key scored it: the key is new, the grader the same.
        assert record["scored_by"]["grader"] == before[learner]["scored_by"]["grader"]
        assert record["scored_by"]["key"] != before[learner]["scored_by"]["key"]
    assert {path.name: path.read_bytes() for path in (folder / "out" / "logs").iterdir()} == logs
    assert "4 rescored" in result.output


def test_only_a_changed_notebook_runs_again(graded, monkeypatch):
    folder, arguments, before = graded
    subs.write(folder / "in", "far", answering(11.25))
    ran = []
    run_notebook = runner.run_notebook
    monkeypatch.setattr(runner, "run_notebook", lambda *args, **kwargs: ran.append(1) or run_notebook(*args, **kwargs))

    result = CliRunner().invoke(cli, arguments + ["--rescore"])

    assert result.exit_code == 0, result.output
    after = records(folder / "out")
    assert len(ran) == 1
    assert after["far"].get("rerun") == "the notebook changed" and "rescored" not in after["far"]
    assert subs.earned(after["far"], "question:drift-ratio") == 1  # 11.25 is within 0.05
    assert all(after[learner].get("rescored") for learner in ("exact", "near", "as-text"))
    assert "ran again: 1 because the notebook changed" in result.output
    # The new run's harvest is kept: a second rescore runs nothing.
    monkeypatch.setattr(runner, "run_notebook", lambda *args, **kwargs: pytest.fail("ran a notebook"))
    assert CliRunner().invoke(cli, arguments + ["--rescore"]).exit_code == 0


@pytest.mark.parametrize("tamper", ["extra cell", "unknown status", "more results", "other seed"])
def test_a_tampered_harvest_is_not_believed(graded, tamper):
    """The harvest file is checked like a worker's reply: a cell the notebook does not have, a status the
    grader does not know, results for inputs never asked; a different seed draws other unseen inputs."""
    folder, arguments, before = graded
    path = folder / "out" / "harvests" / "exact.json"
    stored = json.loads(path.read_text())
    outcome = stored["outcome"]
    if tamper == "extra cell":
        outcome["cells"].append(dict(outcome["cells"][-1], index=outcome["cells"][-1]["index"] + 1))
    elif tamper == "unknown status":
        outcome["status"] = "full marks"
    elif tamper == "more results":
        outcome["exercises"] = {"relative_drift": {"defined": True, "results": [{"output": 0.5}] * 50}}
    else:
        stored["seed"] += 1
    path.write_text(json.dumps(stored))

    result = CliRunner().invoke(cli, arguments + ["--rescore"])

    assert result.exit_code == 0, result.output
    record = records(folder / "out")["exact"]
    assert "rescored" not in record
    assert record["rerun"] == ("the hidden tests' unseen inputs changed" if tamper == "other seed"
                               else "its stored harvest could not be read")
    assert items(record) == items(before["exact"])


def test_rescore_and_resume_are_one_or_the_other(tmp_path):
    path = subs.write(tmp_path, "a", subs.tiny("x = 1"))
    result = CliRunner().invoke(cli, ["grade", str(path), "--lab", subs.LAB, "--resume", "--rescore"])
    assert result.exit_code == 2 and "give --resume or --rescore, not both" in result.output
