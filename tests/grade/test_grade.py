"""`quizgen grade` on honest, careless and hostile submissions: each gets the status and the score it
deserves, nothing stops the batch, and no learner can see or change what decides their score.

Two batches are graded once per module: real lab notebooks (with the recipe's QUICK settings, a few training steps) and
tiny adversarial notebooks (short timeouts). The lab's reference results are a made-up cached entry:
grading must find it in the cache, not retrain it.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("nbformat")

import grade_helpers as subs  # noqa: E402
from grade_helpers import ISOLATION, needs_jail  # noqa: E402
from quizgen.grade import runner, sandbox  # noqa: E402
from quizgen.grade.sandbox import Limits  # noqa: E402
from paths import ROOT  # noqa: E402



@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lab-cache")
    for lab in (subs.LAB, subs.RUN_LAB):
        subs.store_reference(folder, lab)
    return folder


@pytest.fixture(scope="module")
def lab_batch(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("lab-submissions")
    for name, notebook in (("correct", subs.correct()), ("blank", subs.blank()), ("wrong", subs.wrong()),
                           ("deleted", subs.answer_cells_deleted())):
        subs.write(folder, name, notebook)
    out = tmp_path_factory.mktemp("lab-grades")
    report = runner.grade([folder], lab_id=subs.RUN_LAB, out=out, content=subs.CONTENT, workers=2,
                          cache_dir=cache_dir, limits=Limits(cell_timeout=600, wall_timeout=1200), isolation=ISOLATION)
    return report, {record["learner"]: record for record in report.records}


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("hostile-submissions")
    listener = subs.Listener()
    known = [str(ROOT / "labs" / subs.RUN_LAB / "exercises.py"), str(ROOT / "labs" / subs.LAB / "exercises.py"),
             *map(str, cache_dir.rglob("results.json")), str(folder / "float-subclass.ipynb")]
    notebooks = {
        "float-subclass": subs.float_subclass(), "disk-search": subs.disk_search(known),
        "sleeps-forever": subs.sleeps_forever(), "allocates-8-gib": subs.allocates_8_gib(),
        "network": subs.opens_network(listener.port), "fake-marker": subs.fake_marker(subs.correct_answers()),
        "kernel-dies": subs.kernel_dies(), "fork-bomb": subs.fork_bomb(), "output-flood": subs.output_flood(),
    }
    for name, notebook in notebooks.items():
        subs.write(folder, name, notebook)
    (folder / "not-json.ipynb").write_text("{'cells': [print('hello')]", encoding="utf-8")
    out = tmp_path_factory.mktemp("hostile-grades")
    try:
        report = runner.grade([folder], lab_id=subs.LAB, out=out, content=subs.CONTENT, workers=2, cache_dir=cache_dir,
                              limits=Limits(cell_timeout=8, wall_timeout=60, grace=3), isolation=ISOLATION)
    finally:
        listener.close()
    return report, {record["learner"]: record for record in report.records}, listener, out


# --- honest and careless submissions --------------------------------------------------------------


def test_the_correct_solution_gets_every_point(lab_batch):
    report, records = lab_batch
    record = records["correct"]
    assert record["status"] == "graded", record["message"]
    lost = [item for item in record["items"] if item["earned"] < item["points"]]
    assert [item["id"] for item in lost] == ["measured"] and record["score"] > 0, lost
    assert subs.earned(record, "exercise:") == subs.possible(record, "exercise:") == 2
    # QUICK is not the lab's configuration: nothing outside ran it, so its numbers earn nothing
    # (the full-size test below earns them against the real reference run).
    assert "your settings differ from the lab's (FINETUNE, REPLAY_STEPS)" in lost[0]["feedback"][0]
    assert "earn no points" in lost[0]["feedback"][0]


@pytest.mark.slow
def test_a_full_size_solution_agrees_with_the_real_reference_run(full_size_initialization):
    """The lab's own settings, run in the sandbox, graded against the reference `quizgen verify` cached
    (make test runs it first): the stated tolerances hold for a real run, not a made-up one. The run is
    conftest's, shared with the notebook tests."""
    report, _ = full_size_initialization
    (record,) = report.records
    assert report.header["reference"]["cached"] is True  # looked up, not retrained
    assert record["status"] == "graded", record["message"]
    measured = next(item for item in record["items"] if item["id"] == "measured")
    assert "compared with the course's reference run" in measured["feedback"][0]
    assert record["score"] == record["points_possible"] > 0, [i for i in record["items"] if i["earned"] < i["points"]]


def test_grading_reuses_the_cached_reference_results(lab_batch, cache_dir):
    report, _ = lab_batch
    stored = json.loads(next((cache_dir / subs.RUN_LAB).rglob("results.json")).read_text())
    assert report.header["reference"] == {"key": stored["key"], "config_hash": stored["config_hash"], "cached": True,
                                          "seed": 0, "threads": 2}


def test_a_blank_notebook_scores_nothing(lab_batch):
    record = lab_batch[1]["blank"]
    assert record["status"] == "graded"
    assert record["score"] == 0 and record["points_possible"] == lab_batch[1]["correct"]["points_possible"]
    exercise = next(item for item in record["items"] if item["id"] == "exercise:loss_mask")
    assert any("NotImplementedError" in line for line in exercise["feedback"])


def test_a_wrong_submission_loses_the_points_it_gets_wrong(lab_batch):
    record = lab_batch[1]["wrong"]
    assert record["status"] == "graded"
    assert subs.earned(record, "question:") == 0
    # Not masking the prompt is right only for loss_on="all" inputs: partial credit.
    assert 0 < subs.earned(record, "exercise:loss_mask") < subs.possible(record, "exercise:loss_mask")
    assert subs.earned(record, "measured") == 0
    # Predictions are credited for being written in the prediction cell; the feedback says the reference disagreed.
    prediction = next(item for item in record["items"] if item["id"] == "prediction:same_loop")
    assert prediction["earned"] == 1 and "the reference run showed True" in prediction["feedback"][0]


def test_deleted_answer_cells_are_reported_and_the_rest_still_counts(lab_batch):
    record = lab_batch[1]["deleted"]
    assert record["status"] == "missing answer cell"
    assert set(record["missing_cells"]) >= {"token-share", "MEASURED"}
    assert subs.earned(record, "exercise:") == 2 and subs.earned(record, "question:") == 0


def test_outputs_are_gradebook_ready(lab_batch):
    report, records = lab_batch
    rows = list(csv.DictReader((report.out / "grades.csv").open(encoding="utf-8")))
    assert [row["learner"] for row in rows] == sorted(records)
    assert rows[0].keys() >= {"learner", "score", "points_possible", "percent", "status", "exercise:loss_mask"}
    correct = next(row for row in rows if row["learner"] == "correct")
    score, possible = float(correct["score"]), float(correct["points_possible"])
    assert 0 < score < possible and float(correct["percent"]) == pytest.approx(100 * score / possible, abs=1e-3)
    assert correct["measured"] == "0"  # QUICK is a changed configuration
    results = json.loads((report.out / "results.json").read_text())
    assert results["lab"] == subs.RUN_LAB and len(results["submissions"]) == 4
    feedback = (report.out / "feedback" / "wrong.md").read_text()
    assert "| Exercise: Which tokens carry the loss (`loss_mask`) |" in feedback
    # What was wrong, in the words of the exercise's docstring, never what the right mask was.
    assert "should raise ValueError for an invalid argument" in feedback and "items wrong" in feedback


# --- hostile submissions ----------------------------------------------------------------------------


def test_every_hostile_submission_ends_with_its_status(hostile_batch):
    report, records, _, _ = hostile_batch
    statuses = {name: record["status"] for name, record in records.items()}
    assert statuses == {
        "float-subclass": "graded", "disk-search": "graded", "sleeps-forever": "cell timeout",
        "allocates-8-gib": "out of memory", "network": "graded", "fake-marker": "graded",
        "kernel-dies": "kernel died", "not-json": "not a notebook", "fork-bomb": "graded", "output-flood": "graded",
    }, {name: record["message"] for name, record in records.items()}
    assert (report.out / "grades.csv").read_text().count("\n") == 1 + len(records)


def test_a_float_subclass_that_equals_everything_earns_nothing(hostile_batch):
    record = hostile_batch[1]["float-subclass"]
    assert record["score"] == 0
    assert record["answers"]["variables"]["ANSWERS"]["relative-drift"] == 999.0  # a plain number, read from storage
    exercise = next(item for item in record["items"] if item["id"] == "exercise:relative_drift")
    assert "0 of 5 unseen inputs correct" in exercise["feedback"]


@needs_jail
def test_the_disk_holds_no_tests_reference_results_or_other_submissions_for_the_sandbox(hostile_batch):
    _, records, _, out = hostile_batch
    log = (out / "logs" / "disk-search.txt").read_text()
    assert "searched" in log and int(log.split("searched ")[1].split()[0]) > 1000  # it did look around
    assert "FOUND" not in log, log
    assert records["disk-search"]["score"] == 0


@needs_jail
def test_the_sandbox_has_no_network(hostile_batch):
    _, records, listener, out = hostile_batch
    log = (out / "logs" / "network.txt").read_text()
    assert "NETWORK blocked 127.0.0.1" in log and "NETWORK blocked 1.1.1.1" in log, log
    assert listener.connections == 0
    assert subs.earned(records["network"], "question:aggressive-risk") == 1


def jailed_processes() -> list[str]:
    """Processes of a sandbox still running: a notebook's uid (as root) or boot.py in their command line."""
    from quizgen.grade.jail import UID_BASE

    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:  # gone
                continue
            uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
            if UID_BASE <= uid < UID_BASE + 64 or b"/opt/quizgen/boot.py" in command:
                found.append(entry.name)
    return found


@needs_jail
def test_a_fork_bomb_is_capped_and_leaves_no_process_behind(hostile_batch):
    _, records, _, out = hostile_batch
    log = (out / "logs" / "fork-bomb.txt").read_text()
    forked = int(log.split("forked ")[1].split()[0])
    assert 0 < forked < 1000, log  # the process limit stopped it
    assert subs.earned(records["fork-bomb"], "question:aggressive-risk") == 1
    assert not jailed_processes(), "a sandboxed process outlived its notebook"


def test_an_output_flood_is_cut_to_a_short_log(hostile_batch):
    _, records, _, out = hostile_batch
    assert (out / "logs" / "output-flood.txt").stat().st_size <= 64 * 1024
    assert subs.earned(records["output-flood"], "question:aggressive-risk") == 1


def test_timeouts_and_memory_limits_keep_the_answers_given_before(hostile_batch):
    records = hostile_batch[1]
    for name in ("sleeps-forever", "allocates-8-gib"):
        assert subs.earned(records[name], "question:aggressive-risk") == 1, name
        assert subs.earned(records[name], "question:what-moderate-means") == (0 if name == "sleeps-forever" else 1)
    assert records["sleeps-forever"]["message"] == "a cell ran longer than 8 s"


def test_a_fake_result_marker_changes_nothing(hostile_batch):
    record = hostile_batch[1]["fake-marker"]
    assert subs.earned(record, "question:") == 0
    assert all(value is None for value in record["answers"]["variables"]["ANSWERS"].values())


def test_feedback_never_shows_hidden_tests_or_expected_values(hostile_batch, lab_batch):
    hidden_source = "\n".join((ROOT / "labs" / lab / "exercises.py").read_text() for lab in (subs.RUN_LAB, subs.LAB))
    for out in (hostile_batch[3], lab_batch[0].out):
        for path in (out / "feedback").iterdir():
            text = path.read_text()
            assert "def " not in text and "unseen_" not in text and "rng." not in text
            assert not any(line.strip() in text for line in hidden_source.splitlines() if len(line.strip()) > 30)
            for value in ("0.95", "0.56", "0.81", "48000", "48,000", "3600000"):  # the reference runs' numbers
                assert value not in text, (path.name, value)


@needs_jail
def test_a_notebook_can_import_the_lab_engine_and_nothing_that_knows_an_answer():
    runtime = sandbox.Runtime()
    try:
        cells = [(0, "import quizgen, quizgen.lab.runner, quizgen.lab.train, quizgen.notebooks.checks\n"
                     "ANSWERS = {'where': quizgen.__file__}"),
                 (1, "import quizgen.labs"), (2, "import quizgen.notebooks.recipe"), (3, "import quizgen.loader")]
        outcome = sandbox.run_notebook(cells, runtime=runtime, isolation=ISOLATION, limits=Limits(), slot=0,
                                       variables=["ANSWERS"], exercise_inputs={})
    finally:
        runtime.close()
    assert outcome.status == "graded", outcome.message
    errors = [cell["error"] for cell in outcome.cells]
    assert errors[0] is None, errors[0]
    assert outcome.variables["ANSWERS"]["where"] == "/opt/quizgen/quizgen/__init__.py"
    assert [error and error["type"] for error in errors[1:]] == ["ModuleNotFoundError"] * 3


def test_an_environment_failure_is_not_blamed_on_the_learner(tmp_path):
    runtime = sandbox.Runtime()
    try:
        (runtime.folder / "quizgen" / "lab" / "checkpoint" / "config.json").unlink()
        if not ISOLATION.jail:
            pytest.skip("the environment check of a missing checkpoint runs inside the jail")
        outcome = sandbox.run_notebook([(0, "x = 1")], runtime=runtime, isolation=ISOLATION,
                                       limits=Limits(), slot=0, variables=[], exercise_inputs={})
    finally:
        runtime.close()
    assert outcome.status == "environment error" and "checkpoint" in outcome.message
    from quizgen.grade.reports import grades_csv

    record = {"learner": "a", "status": outcome.status, "score": 0, "points_possible": 10, "items": []}
    assert grades_csv([record]).splitlines()[1] == "a,,10,,environment error"


def test_the_command_resumes_and_regrades_changed_files(tmp_path, cache_dir):
    from click.testing import CliRunner

    from quizgen.cli import cli

    folder = tmp_path / "in"
    folder.mkdir()
    subs.write(folder, "one", subs.tiny(subs.FIRST_CHOICE))
    subs.write(folder, "two", subs.tiny("ANSWERS = {'aggressive-risk': 'C'}"))
    arguments = ["grade", str(folder), "--lab", subs.LAB, "--out", str(tmp_path / "out"), "--workers", "2",
                 "--content", str(subs.CONTENT), "--cache-dir", str(cache_dir), "--cell-timeout", "30"]
    first = CliRunner().invoke(cli, arguments)
    assert first.exit_code == 0, first.output
    assert "2 submissions (2 missing answer cell)" in first.output
    subs.write(folder, "two", subs.tiny(subs.FIRST_CHOICE))
    second = CliRunner().invoke(cli, arguments + ["--resume"])
    assert second.exit_code == 0, second.output
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    resumed = {record["learner"]: record.get("resumed", False) for record in results["submissions"]}
    assert resumed == {"one": True, "two": False}
    assert all(subs.earned(record, "question:aggressive-risk") == 1 for record in results["submissions"])


def test_the_command_reports_an_unknown_lab_plainly(tmp_path):
    from click.testing import CliRunner

    from quizgen.cli import cli

    path = subs.write(tmp_path, "a", subs.tiny("x = 1"))
    result = CliRunner().invoke(cli, ["grade", str(path), "--lab", "no-such-lab", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "There is no lab named 'no-such-lab'" in result.output


def test_the_command_says_plainly_when_it_cannot_write_its_output(tmp_path):
    from click.testing import CliRunner

    from quizgen.cli import cli

    path = subs.write(tmp_path, "a", subs.tiny("x = 1"))
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "grades"
    result = CliRunner().invoke(cli, ["grade", str(path), "--lab", subs.LAB, "--out", str(out)])
    assert result.exit_code == 1 and f"Error: cannot write to '{out}'" in result.output, result.output


def test_an_empty_folder_is_nothing_to_grade(tmp_path):
    from click.testing import CliRunner

    from quizgen.cli import cli

    (tmp_path / "class").mkdir()
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "class"), "--lab", subs.LAB, "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and f"Error: nothing to grade: no files in '{tmp_path / 'class'}'" in result.output


def test_the_command_refuses_to_grade_unsandboxed_unless_told(tmp_path, cache_dir, monkeypatch):
    from click.testing import CliRunner

    from quizgen.cli import cli

    path = subs.write(tmp_path, "a", subs.tiny(subs.FIRST_CHOICE))
    missing = sandbox.Isolation("none", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    monkeypatch.setattr(sandbox, "probe_isolation", lambda: missing)
    arguments = ["grade", str(path), "--lab", subs.LAB, "--out", str(tmp_path / "out"), "--content", str(subs.CONTENT),
                 "--cache-dir", str(cache_dir)]
    refused = CliRunner().invoke(cli, arguments)
    assert refused.exit_code == 1 and "cannot sandbox the notebooks: bubblewrap (bwrap) is not installed" in refused.output
    assert not (tmp_path / "out" / "results.json").exists()
    allowed = CliRunner().invoke(cli, arguments + ["--no-sandbox"])
    assert allowed.exit_code == 0, allowed.output
    assert "warning: notebooks run without a sandbox" in allowed.output
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["isolation"]["mode"] == "none"


@needs_jail
def test_the_command_says_at_start_what_the_sandbox_guarantees(tmp_path, cache_dir):
    from click.testing import CliRunner

    from quizgen.cli import cli

    path = subs.write(tmp_path, "a", subs.tiny(subs.FIRST_CHOICE))
    result = CliRunner().invoke(cli, ["grade", str(path), "--lab", subs.LAB, "--out", str(tmp_path / "out"),
                                      "--content", str(subs.CONTENT), "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    assert f"sandbox: {ISOLATION.mode} (bubblewrap" in result.output
    for line in ISOLATION.guarantees:
        assert line in result.output
    assert any(line.startswith("memory: ") for line in ISOLATION.guarantees)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["isolation"]["guarantees"] == list(ISOLATION.guarantees)


def test_no_file_can_take_another_learners_id(tmp_path):
    import hashlib

    (tmp_path / "victim.ipynb").write_text("{}")
    (tmp_path / "victim!.ipynb").write_text("{}")
    # Named like the id `victim!.ipynb` would get: it keeps its own name, and the other moves away.
    lookalike = f"victim-{hashlib.sha256(os.fsencode(tmp_path / 'victim!.ipynb')).hexdigest()[:8]}"
    (tmp_path / f"{lookalike}.ipynb").write_text("{}")
    (tmp_path / "Ada.ipynb").write_text("{}")
    (tmp_path / "ada.ipynb").write_text("{}")  # the same name on a case-insensitive file system
    learners = {submission.path.name: submission.learner for submission in runner.collect([tmp_path])}
    assert learners["victim.ipynb"] == "victim" and learners[f"{lookalike}.ipynb"] == lookalike
    assert learners["victim!.ipynb"].startswith("victim-") and learners["victim!.ipynb"] != lookalike
    assert learners["Ada.ipynb"].lower() != learners["ada.ipynb"].lower()
    assert "ada" not in {learner.lower() for learner in learners.values()}
    assert len({learner.lower() for learner in learners.values()}) == len(learners) == 5
    assert runner.collect([tmp_path]) == runner.collect([tmp_path])  # the same ids on every run (--resume)
