"""Grades back into the LMS: the Canvas gradebook import CSV and the Moodle grade import CSV parse the way
each LMS reads them and carry the scores of grades.csv; the users file is checked at its lines; a learner
who was not graded, or whom the users file does not name, is left out and named, never guessed."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from quizgen.errors import ContentError
from quizgen.grade import gradebook

USERS = ("learner,Student,ID,SIS User ID,SIS Login ID,Section,email,Final Score\n"
         "ada,\"Lovelace, Ada\",101,S-101,ada@uni,Lab A,ada@uni.example,12\n"
         "Bob,\"Boole, George\",102,S-102,bob@uni,Lab B,bob@uni.example,\n"
         "carl,\"Gauss, Carl\",103,S-103,carl@uni,Lab A,,\n")


def record(learner: str, score: float, status: str = "graded", possible: float = 15) -> dict:
    return {"learner": learner, "score": score, "points_possible": possible, "status": status, "items": []}


RECORDS = [record("ada", 12.5), record("bob", 7), record("carl", 0, "kernel died"), record("dora", 3),
           record("eve", 0, "environment error")]


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(USERS, encoding="utf-8")
    return gradebook.read_users(path, ["canvas", "moodle"])


def test_the_canvas_file_reads_as_canvas_reads_it(users):
    text, written = gradebook.canvas_csv(RECORDS, users, "Lab: initialization")
    rows = list(csv.reader(io.StringIO(text)))
    # Canvas's importer: "Student" and "ID" first, SIS User ID and SIS Login ID, then "Section" ends the
    # student columns; a row whose first cell says "Points Possible" gives each new assignment its points.
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab: initialization"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "15"
    assert rows[2:] == [["Lovelace, Ada", "101", "S-101", "ada@uni", "Lab A", "12.5"],
                        ["Boole, George", "102", "S-102", "bob@uni", "Lab B", "7"],
                        ["Gauss, Carl", "103", "S-103", "carl@uni", "Lab A", "0"]]
    assert written.rows == 3 and written.not_listed == ["dora"] and written.not_graded == ["eve"]


def test_the_moodle_file_maps_from_one_user_field(users):
    text, written = gradebook.moodle_csv(RECORDS, users, "Lab: initialization")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["email", "Lab: initialization"], ["ada@uni.example", "12.5"], ["bob@uni.example", "7"]]
    # carl has no email: Moodle would give a row without its user field to the row above, so it is left out.
    assert written.not_listed == ["carl", "dora"] and written.not_graded == ["eve"]


@pytest.mark.parametrize("text, gradebooks, message", [
    ("name,email\nada,a@x\n", ["moodle"], ":1: the users file needs a 'learner' column"),
    ("learner,email\nada,a@x\n", ["canvas"], ":1: for Canvas the users file needs one of the columns"),
    ("learner,SIS Login ID\nada,a\n", ["moodle"], ":1: for Moodle the users file needs one of the user fields"),
    ("learner,email\nada,a@x\nADA,b@x\n", ["moodle"], ":3: learner 'ADA' is listed twice (first on line 2)"),
    ("learner,email\n,a@x\n", ["moodle"], ":2: no learner id in this row"),
])
def test_a_bad_users_file_is_refused_at_its_line(tmp_path, text, gradebooks, message):
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        gradebook.read_users(path, gradebooks)
    assert f"{path}{message}" in str(raised.value)


@pytest.mark.slow
def test_the_command_writes_both_files_matching_grades_csv(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("nbformat")
    import grade_helpers as subs
    from quizgen.cli import cli
    from quizgen.grade import sandbox

    if not sandbox.probe_isolation().jail:
        pytest.skip("no namespaces on this machine")
    cache = tmp_path / "cache"
    subs.store_reference(cache, subs.LAB)
    folder = tmp_path / "in"
    folder.mkdir()
    for learner, answers in (("ada", "{'aggressive-risk': 'B', 'drift-ratio': 11.2}"), ("bob", "{'aggressive-risk': 'B'}"),
                             ("carl", "{}"), ("dora", "{'aggressive-risk': 'B'}")):
        subs.write(folder, learner, subs.tiny(f"ANSWERS = {answers}"))
    users = tmp_path / "users.csv"
    users.write_text(USERS, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["grade", str(folder), "--lab", subs.LAB, "--out", str(out), "--workers", "2",
                                      "--content", str(subs.CONTENT), "--cache-dir", str(cache),
                                      "--gradebook", "canvas,moodle", "--lms-users", str(users),
                                      "--assignment", "Lab 1 (4711)"])
    assert result.exit_code == 0, result.output
    assert f"canvas: {out / 'canvas-gradebook.csv'} (3 learners)" in result.output
    assert f"moodle: {out / 'moodle-grades.csv'} (2 learners)" in result.output
    assert f"not in {users} (left out): dora" in result.output
    grades = {row["learner"]: row for row in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert float(grades["ada"]["score"]) > float(grades["bob"]["score"]) > 0 == float(grades["carl"]["score"])
    canvas = list(csv.reader((out / "canvas-gradebook.csv").open(encoding="utf-8")))
    assert canvas[0][-1] == "Lab 1 (4711)" and canvas[1][-1] == grades["ada"]["points_possible"]
    by_login = {row[3]: row[-1] for row in canvas[2:]}
    assert by_login == {"ada@uni": grades["ada"]["score"], "bob@uni": grades["bob"]["score"],
                        "carl@uni": grades["carl"]["score"]}
    moodle = list(csv.DictReader((out / "moodle-grades.csv").open(encoding="utf-8")))
    assert {row["email"]: row["Lab 1 (4711)"] for row in moodle} == {
        "ada@uni.example": grades["ada"]["score"], "bob@uni.example": grades["bob"]["score"]}
    results = json.loads((out / "results.json").read_text())
    assert len(results["submissions"]) == 4


def test_gradebook_options_are_checked_before_anything_runs(tmp_path):
    from quizgen.cli import cli

    path = tmp_path / "a.ipynb"
    path.write_text("{}")
    base = ["grade", str(path), "--lab", "initialization", "--out", str(tmp_path / "out")]
    unknown = CliRunner().invoke(cli, base + ["--gradebook", "canvas,blackboard", "--lms-users", str(path)])
    assert unknown.exit_code == 2 and "unknown gradebook 'blackboard'" in unknown.output
    missing = CliRunner().invoke(cli, base + ["--gradebook", "moodle"])
    assert missing.exit_code == 2 and "--gradebook needs --lms-users FILE" in missing.output
    assert not (tmp_path / "out").exists()
