"""The Otter-Grader export: `otter assign` (the real tool) accepts every master, strips the solutions
and hidden tests from the student version, and its autograder tests pass on the solutions."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.build import with_measured_answers
from quizgen.cli import cli
from quizgen.formats.otter import master_notebook
from quizgen.loader import load_course
from quizgen.lab.runner import discover
from quizgen.notebooks import lab_plans, notebook_json
from paths import ROOT

LABS = tuple(discover())

# The `test` extra installs it; without it the tests say so rather than pass silently.
OTTER = None if importlib.util.find_spec("otter") else "otter-grader is not installed: pip install -e '.[lab,test]'"
needs_otter = pytest.mark.skipif(OTTER is not None, reason=OTTER or "")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("otter")
    result = CliRunner().invoke(cli, ["export", "--format", "otter", "--content", str(ROOT / "content"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "export" / "otter"


def test_export_writes_one_assign_format_master_per_lab(exported):
    assert sorted(p.name for p in exported.iterdir() if p.is_dir()) == sorted(LABS)
    course = with_measured_answers(load_course(ROOT / "content"), None)[0]  # as the export sees it
    for lab in LABS:
        master = json.loads((exported / lab / f"{lab}.ipynb").read_text(encoding="utf-8"))
        config = master["cells"][0]
        assert config["cell_type"] == "raw" and config["source"].startswith("# ASSIGNMENT CONFIG")
        assert "variable: SEED" in config["source"] and "ok_format: false" in config["source"]
        sources = [cell["source"] for cell in master["cells"]]
        questions = [s.split("\n")[1] for s in sources if s.startswith("# BEGIN QUESTION")]
        plan = next(p for p in lab_plans(course) if p.lab_id == lab)
        expected = [*(e.name for e in plan.exercises), "predictions", "measured",
                    *("q_" + q.id.replace("-", "_") for q in plan.questions if q.type != "critique")]
        assert sorted(questions) == sorted(f"name: {name}" for name in expected)
        assert any(s.startswith('""" # BEGIN TEST CONFIG') and "hidden: true" in s for s in sources)
        assert any(s.startswith("SEED = 0") or "\nSEED = 0" in s for s in sources)
        assert (exported / lab / "requirements.txt").is_file()


def _assign(master: Path, dist: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "otter", "assign", *extra, str(master), str(dist)],
                          capture_output=True, text=True, cwd=master.parent, timeout=900)


@pytest.fixture(scope="module")
def assigned(exported, tmp_path_factory) -> dict[str, Path]:
    """{lab: the folder `otter assign` wrote for its master}: its student notebook and autograder."""
    folders = {}
    for lab in LABS:
        folders[lab] = tmp_path_factory.mktemp("dist") / lab
        result = _assign(exported / lab / f"{lab}.ipynb", folders[lab], "--no-run-tests")
        assert result.returncode == 0, result.stdout + result.stderr
    return folders


@needs_otter
@pytest.mark.parametrize("lab", LABS)
def test_otter_assign_makes_a_student_notebook_without_solutions_or_hidden_tests(assigned, lab):
    dist = assigned[lab]
    student = (dist / "student" / f"{lab}.ipynb").read_text(encoding="utf-8")
    cells = json.loads(student)["cells"]
    code = "\n".join("".join(cell["source"]) for cell in cells)
    assert "grader.check(" in code and "SOLUTION" not in code and "_unseen(" not in code
    for plan in lab_plans(load_course(ROOT / "content")):
        if plan.lab_id != lab:
            continue
        for exercise in plan.exercises:
            body = exercise.solution_source().split('"""')[-1]
            assert all(line.strip() not in code for line in body.splitlines()
                       if line.strip() and not line.strip().startswith("import "))
    archive = next((dist / "autograder").glob("*.zip"))
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        tests = "".join(bundle.read(n).decode() for n in names if n.startswith("tests/"))
    assert "hidden=True" in tests and "_unseen(" in tests


@pytest.mark.slow
@needs_otter
def test_the_autograder_tests_pass_on_the_solution_notebook(tmp_path):
    # The quickest lab at reduced settings: otter assign runs the whole notebook, then every test.
    course = with_measured_answers(load_course(ROOT / "content"), None)[0]  # as a build sees it
    plan = next(p for p in lab_plans(course, quick=True) if p.lab_id == "ift-vs-pretraining")
    master = tmp_path / "ift-vs-pretraining.ipynb"
    master.write_text(notebook_json(master_notebook(plan)), encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("torch==2.13.0\n")
    result = _assign(master, tmp_path / "dist", "-v")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All autograder tests passed" in output, output[-3000:]


@needs_otter
def test_otter_gives_multi_questions_the_courses_partial_credit(tmp_path):
    """Otter's own test runner, on the multi question's generated tests, agrees with MultiQuestion.score
    for every way of ticking its options."""
    from itertools import combinations

    from otter.test_files import ExceptionTestFile

    course = with_measured_answers(load_course(ROOT / "content"), None)[0]  # as a build sees it
    plan = next(p for p in lab_plans(course) if p.lab_id == "ift-vs-pretraining")
    question = next(q for q in plan.questions if q.type == "multi")
    master = tmp_path / "master.ipynb"
    master.write_text(notebook_json(master_notebook(plan)), encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("torch==2.13.0\n")
    result = _assign(master, tmp_path / "dist", "--no-run-tests")
    assert result.returncode == 0, result.stdout + result.stderr
    name = "q_" + question.id.replace("-", "_")
    with zipfile.ZipFile(next((tmp_path / "dist" / "autograder").glob("*.zip"))) as bundle:
        (tmp_path / f"{name}.py").write_bytes(bundle.read(f"tests/{name}.py"))
    letters = "ABCDEFGH"[: len(question.options)]
    for size in range(len(letters) + 1):
        for ticked in combinations(range(len(letters)), size):
            tests = ExceptionTestFile.from_file(str(tmp_path / f"{name}.py"))
            tests.run({"ANSWERS": {question.id: [letters[i] for i in ticked]}})
            assert tests.possible == question.points
            assert tests.score == pytest.approx(question.score(set(ticked))), ticked


@needs_otter
def test_otter_runs_each_exercises_own_checks_and_unseen_inputs(assigned, tmp_path):
    """The exercise tests `otter assign` made from the masters are the exercise's one definition: under
    Otter's own test runner they pass the solution and fail a wrong function, public check and unseen
    inputs alike (the solution refuses one of loss_mask's unseen inputs; so must the learner's)."""
    pytest.importorskip("torch")
    from otter.test_files import ExceptionTestFile

    from quizgen.notebooks import checks

    def constant(*args):
        return 0.5

    tried = []
    for lab, spec in discover().items():
        with zipfile.ZipFile(next((assigned[lab] / "autograder").glob("*.zip"))) as bundle:
            for name, exercise in spec.exercises.items():
                (tmp_path / f"{name}.py").write_bytes(bundle.read(f"tests/{name}.py"))
                passing = ExceptionTestFile.from_file(str(tmp_path / f"{name}.py"))
                passing.run({"checks": checks, name: exercise.solution})
                assert passing.score == passing.possible == exercise.points, (name, passing.summary())
                failing = ExceptionTestFile.from_file(str(tmp_path / f"{name}.py"))
                failing.run({"checks": checks, name: constant})
                assert failing.score == 0, name
                tried.append(name)
    assert tried
