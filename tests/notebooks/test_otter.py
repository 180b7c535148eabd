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

from quizgen.cli import cli
from quizgen.formats.otter import master_notebook
from quizgen.loader import load_course
from quizgen.notebooks import lab_plans, notebook_json
from quizgen.notebooks.exercises import solution_source
from quizgen.notebooks.recipes import QUICK_CONFIG
from paths import ROOT

LABS = ("initialization", "sft-objective", "ift-vs-pretraining")

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
    for lab in LABS:
        master = json.loads((exported / lab / f"{lab}.ipynb").read_text(encoding="utf-8"))
        config = master["cells"][0]
        assert config["cell_type"] == "raw" and config["source"].startswith("# ASSIGNMENT CONFIG")
        assert "variable: SEED" in config["source"] and "ok_format: false" in config["source"]
        sources = [cell["source"] for cell in master["cells"]]
        questions = [s.split("\n")[1] for s in sources if s.startswith("# BEGIN QUESTION")]
        plan = next(p for p in lab_plans(load_course(ROOT / "content")) if p.lab_id == lab)
        expected = [*(e.name for e in plan.exercises), "predictions", "measured",
                    *("q_" + q.id.replace("-", "_") for q in plan.questions if q.type != "critique")]
        assert sorted(questions) == sorted(f"name: {name}" for name in expected)
        assert any(s.startswith('""" # BEGIN TEST CONFIG') and "hidden: true" in s for s in sources)
        assert any(s.startswith("SEED = 0") or "\nSEED = 0" in s for s in sources)
        assert (exported / lab / "requirements.txt").is_file()


def _assign(master: Path, dist: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "otter", "assign", *extra, str(master), str(dist)],
                          capture_output=True, text=True, cwd=master.parent, timeout=900)


@needs_otter
@pytest.mark.parametrize("lab", LABS)
def test_otter_assign_makes_a_student_notebook_without_solutions_or_hidden_tests(exported, lab, tmp_path):
    result = _assign(exported / lab / f"{lab}.ipynb", tmp_path / "dist", "--no-run-tests")
    assert result.returncode == 0, result.stdout + result.stderr
    student = (tmp_path / "dist" / "student" / f"{lab}.ipynb").read_text(encoding="utf-8")
    cells = json.loads(student)["cells"]
    code = "\n".join("".join(cell["source"]) for cell in cells)
    assert "grader.check(" in code and "SOLUTION" not in code and "_unseen(" not in code
    for plan in lab_plans(load_course(ROOT / "content")):
        if plan.lab_id != lab:
            continue
        for exercise in plan.exercises:
            body = solution_source(exercise.name).split('"""')[-1]
            assert all(line.strip() not in code for line in body.splitlines() if line.strip())
    archive = next((tmp_path / "dist" / "autograder").glob("*.zip"))
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        tests = "".join(bundle.read(n).decode() for n in names if n.startswith("tests/"))
    assert "hidden=True" in tests and "_unseen(" in tests


@pytest.mark.slow
@needs_otter
def test_the_autograder_tests_pass_on_the_solution_notebook(tmp_path):
    # The quickest lab at reduced settings: otter assign runs the whole notebook, then every test.
    plan = next(p for p in lab_plans(load_course(ROOT / "content"), config_overrides=QUICK_CONFIG)
                if p.lab_id == "ift-vs-pretraining")
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

    plan = next(p for p in lab_plans(load_course(ROOT / "content")) if p.lab_id == "ift-vs-pretraining")
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
