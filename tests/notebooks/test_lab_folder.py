"""A lab is one folder: docs/labs.md's example lab (tests/fixtures/labs/learning-rate/, exactly the code the
page shows) is named by a course of its own and gets a notebook, an Otter master and a grade, with no
other change to quizgen; what a lab folder gets wrong is refused by check and build alike."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from quizgen.cli import cli
from quizgen.errors import QuizgenError
from quizgen.lab.runner import discover
from quizgen.loader import load_course
from quizgen.notebooks import lab_plans, notebook_json, solution_notebook
from paths import FIXTURES, ROOT

LABS = FIXTURES / "labs"
COURSE = FIXTURES / "courses" / "own-labs"


def test_the_docs_show_the_example_lab_exactly():
    page = (ROOT / "docs" / "labs.md").read_text(encoding="utf-8")
    shown = dict(re.findall(r'^```\w+ title="([^"]+)"\n(.*?)^```$', page, re.M | re.S))
    files = {f"learning-rate/{path.name}": path for path in (LABS / "learning-rate").glob("*.py")}
    assert sorted(files) == sorted(name for name in shown if name.startswith("learning-rate/"))
    for name, path in files.items():
        assert shown[name] == path.read_text(encoding="utf-8"), name
    assert shown["course.yml"] == (COURSE / "course.yml").read_text(encoding="utf-8")


def test_a_course_names_its_own_labs_folder_and_gets_their_notebooks(tmp_path):
    course = load_course(COURSE)
    assert course.labs == LABS.resolve()
    (plan,) = lab_plans(course)
    assert plan.lab_id == "learning-rate" and [e.name for e in plan.exercises] == ["drift"]
    result = CliRunner().invoke(cli, ["build", "--content", str(COURSE), "--out", str(tmp_path),
                                      "--format", "notebooks", "--format", "otter"])
    assert result.exit_code == 0, result.output
    notebook = json.loads((tmp_path / "notebooks" / "learning-rate.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(cell["source"]) for cell in notebook["cells"]]
    assert any(s.startswith("def drift(theta, theta_hat):") and "raise NotImplementedError" in s for s in sources)
    assert any(s.startswith("def check_drift(drift):") for s in sources)
    assert any("\nSTEPS = 20\nBATCH_SIZE = 16\n" in s for s in sources)
    assert not any("change / size" in s for s in sources)  # the solution stays out
    master = (tmp_path / "export" / "otter" / "learning-rate" / "learning-rate.ipynb").read_text(encoding="utf-8")
    assert "def test_drift_unseen(checks, drift):" in master and "change / size" in master


def test_a_course_without_labs_of_its_own_gets_the_shipped_ones():
    assert load_course(ROOT / "content").labs is None
    assert sorted(discover()) == sorted(path.parent.name for path in (ROOT / "labs").glob("*/lab.py"))


def _course_with(tmp_path, edit=None):
    shutil.copytree(LABS, tmp_path / "labs")
    shutil.copytree(COURSE, tmp_path / "course")
    (tmp_path / "course" / "course.yml").write_text("title: T\nlabs: ../labs\n", encoding="utf-8")
    if edit:
        edit(tmp_path / "labs" / "learning-rate")
    return [CliRunner().invoke(cli, [command, *args]) for command, args in
            (("check", [str(tmp_path / "course")]),
             ("build", ["--content", str(tmp_path / "course"), "--out", str(tmp_path / "out"), "--format", "notebooks"]))]


@pytest.mark.parametrize("edit, message", [
    (lambda lab: (lab / "notebook.py").write_text((lab / "notebook.py").read_text().replace(
        'exercise("drift")', 'exercise("drfit")')),
     "notebook.py:1: CELLS names the exercise 'drfit', which exercises.py does not define (its exercises: drift)"),
    (lambda lab: (lab / "exercises.py").write_text("import nothing_of_the_kind\n"),
     "exercises.py:1: cannot load the lab: ModuleNotFoundError: No module named 'nothing_of_the_kind'"),
    (lambda lab: (lab / "notebook.py").write_text((lab / "notebook.py").read_text().replace(
        '"SMALL_LR", "LARGE_LR")', '"SMALL_LR", "HUGE_LR")')),
     "notebook.py:1: CONFIG copies HUGE_LR, which lab.py does not define"),
])
def test_check_and_build_refuse_a_broken_lab_folder_alike(tmp_path, edit, message):
    checked, built = _course_with(tmp_path, edit)
    assert checked.exit_code == built.exit_code == 1
    assert f"{tmp_path / 'labs' / 'learning-rate'}/{message}" in checked.output, checked.output
    assert checked.output == built.output
    assert not (tmp_path / "out" / "notebooks").exists()


def test_a_labs_folder_that_is_not_there_is_an_error_at_its_line(tmp_path):
    shutil.copytree(COURSE, tmp_path / "course")
    (tmp_path / "course" / "course.yml").write_text("title: T\ndescription: d\nlabs: ../nowhere\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "course")])
    assert result.exit_code == 1
    assert f"course.yml:3: labs: ../nowhere is not a folder (looked for {tmp_path / 'nowhere'})" in result.output


def test_a_lab_folder_is_named_by_its_id(tmp_path):
    from quizgen.lab import runner
    from quizgen.questions.base import SLUG_PATTERN

    assert runner._LAB_ID.pattern == SLUG_PATTERN  # what a concept's `lab:` may name
    (tmp_path / "Bad_Name").mkdir()
    shutil.copy(LABS / "learning-rate" / "lab.py", tmp_path / "Bad_Name" / "lab.py")
    with pytest.raises(QuizgenError, match="a lab folder's name is its id"):
        discover(tmp_path)


@pytest.mark.slow
def test_the_example_lab_runs_and_its_solution_notebook_earns_every_point(tmp_path):
    """`quizgen verify` runs it and holds its claim; `quizgen grade` runs its solution notebook in the
    sandbox (at the lab's own settings) and gives it every point: exercise, prediction, measurements."""
    pytest.importorskip("torch")
    runner = CliRunner()
    cache = tmp_path / "cache"
    verified = runner.invoke(cli, ["verify", "--content", str(COURSE), "--seeds", "1", "--cache-dir", str(cache)])
    assert verified.exit_code == 0, verified.output
    assert "1 of 1 claim checks hold" in verified.output
    (plan,) = lab_plans(load_course(COURSE))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "solution.ipynb").write_text(notebook_json(solution_notebook(plan)), encoding="utf-8")
    graded = runner.invoke(cli, ["grade", "--lab", "learning-rate", "--content", str(COURSE), "--cache-dir", str(cache),
                                 "--out", str(tmp_path / "grades"), str(tmp_path / "in")])
    assert graded.exit_code == 0, graded.output
    (record,) = json.loads((tmp_path / "grades" / "results.json").read_text())["submissions"]
    assert record["status"] == "graded", record
    assert {item["id"]: item["earned"] for item in record["items"]} == {
        item["id"]: item["points"] for item in record["items"]}, record["items"]
    assert {item["id"] for item in record["items"]} >= {"exercise:drift", "prediction:drifts_further", "measured"}
