"""Grades back into the LMS: a Canvas gradebook import CSV and a Moodle grade import CSV, written from the
same records as grades.csv (the same score, to the same digits), with each learner's LMS identity taken
from a users file the instructor keeps.

The users file is a CSV whose header names its columns; one column is `learner` (the id `quizgen grade`
gives the learner: their notebook's file name), the others are the LMS's own user fields, named as the LMS
names them, so that an export of the LMS's gradebook or participants list with a `learner` column added
is a users file as it is:

- Canvas: `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section` (the first columns of Canvas's
  gradebook export); Canvas matches a row by `ID`, then `SIS User ID`, then `SIS Login ID`, so one of
  those three is needed;
- Moodle: `email`, `username` or `idnumber` (Moodle's "Map from" choices at import: email address,
  username, ID number).

Other columns are ignored. A learner the users file does not list, or lists without the field the LMS
matches on, is left out of that LMS's file (and named), as is a submission that was not graded
(an environment error): an import then leaves that learner's grade as it was, where a blank or a guess
would clear it or, in Moodle, give it to the row above.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.errors import ContentError, DiagnosticList
from quizgen.grade.sandbox import ENVIRONMENT_ERROR

GRADEBOOKS = ("canvas", "moodle")
FILES = {"canvas": "canvas-gradebook.csv", "moodle": "moodle-grades.csv"}
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_KEYS = ("ID", "SIS User ID", "SIS Login ID")
MOODLE_FIELDS = ("email", "username", "idnumber")
MAX_USERS = 100_000
_KNOWN = {name.lower(): name for name in ("learner", *CANVAS_COLUMNS, *MOODLE_FIELDS)}


@dataclass
class Users:
    path: Path
    columns: set[str]  # the known columns the file has, by their canonical names
    by_learner: dict[str, dict[str, str]] = field(default_factory=dict)  # learner id (lower case) -> its fields


@dataclass
class Written:
    gradebook: str
    path: Path
    rows: int
    not_listed: list[str]  # graded learners the users file does not list (or lists without the key field)
    not_graded: list[str]  # environment errors: left for a regrade


def read_users(path: Path, gradebooks: list[str]) -> Users:
    """The users file, checked for what ``gradebooks`` need; every problem at its line (ContentError)."""
    diagnostics = DiagnosticList()
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        diagnostics.error(path, 1, f"cannot read the users file: {getattr(error, 'strerror', None) or error}")
        raise ContentError(diagnostics.items) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        diagnostics.error(path, 1, f"the users file is not CSV: {error}")
        raise ContentError(diagnostics.items) from None
    header = [_KNOWN.get(name.strip().lower()) for name in rows[0]] if rows else []
    users = Users(Path(path), {name for name in header if name})
    if "learner" not in users.columns:
        diagnostics.error(path, 1, "the users file needs a 'learner' column: the learner ids of grades.csv")
    if "canvas" in gradebooks and not users.columns & set(CANVAS_KEYS):
        diagnostics.error(path, 1, "for Canvas the users file needs one of the columns Canvas matches students by: "
                          + ", ".join(CANVAS_KEYS) + " (the first columns of Canvas's gradebook export)")
    if "moodle" in gradebooks and not users.columns & set(MOODLE_FIELDS):
        diagnostics.error(path, 1, "for Moodle the users file needs one of the user fields Moodle matches by: "
                          + ", ".join(MOODLE_FIELDS))
    if diagnostics.errors:
        raise ContentError(diagnostics.items)
    first_line: dict[str, int] = {}
    for number, row in enumerate(rows[1:], 2):
        fields = {name: value.strip() for name, value in zip(header, row) if name}
        learner = fields.pop("learner", "")
        if not any(value.strip() for value in row):
            continue
        if not learner:
            diagnostics.error(path, number, "no learner id in this row")
        elif learner.lower() in first_line:
            diagnostics.error(path, number, f"learner '{learner[:100]}' is listed twice (first on line "
                              f"{first_line[learner.lower()]})")
        else:
            first_line[learner.lower()] = number
            users.by_learner[learner.lower()] = fields
        if len(users.by_learner) > MAX_USERS:
            diagnostics.error(path, number, f"more than {MAX_USERS:,} users")
            break
    if diagnostics.errors:
        raise ContentError(diagnostics.items)
    return users


def _score(record: dict) -> str:
    from quizgen.grade.reports import _number

    return _number(record["score"])


def _rows(records: list[dict], users: Users, has_key) -> tuple[list[tuple[dict, dict]], list[str], list[str]]:
    chosen, not_listed, not_graded = [], [], []
    for record in sorted(records, key=lambda record: record["learner"]):
        fields = users.by_learner.get(record["learner"].lower())
        if record["status"] == ENVIRONMENT_ERROR:
            not_graded.append(record["learner"])
        elif fields is None or not has_key(fields):
            not_listed.append(record["learner"])
        else:
            chosen.append((record, fields))
    return chosen, not_listed, not_graded


def canvas_csv(records: list[dict], users: Users, assignment: str) -> tuple[str, Written]:
    """Canvas's gradebook import: the student columns of its export, a "Points Possible" row, and one
    assignment column. Canvas creates the assignment when no assignment has that name; write it as
    `Name (1234)` to grade the existing assignment 1234."""
    chosen, not_listed, not_graded = _rows(records, users, lambda fields: any(fields.get(k) for k in CANVAS_KEYS))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, assignment])
    possible = max((record["points_possible"] for record in records), default=0)
    from quizgen.grade.reports import _number

    writer.writerow(["    Points Possible", "", "", "", "", _number(possible)])
    for record, fields in chosen:
        writer.writerow([fields.get("Student") or record["learner"], *(fields.get(name, "") for name in CANVAS_COLUMNS[1:]),
                         _score(record)])
    return buffer.getvalue(), Written("canvas", Path(FILES["canvas"]), len(chosen), not_listed, not_graded)


def moodle_field(users: Users) -> str:
    return next(name for name in MOODLE_FIELDS if name in users.columns)


def moodle_csv(records: list[dict], users: Users, item: str) -> tuple[str, Written]:
    """Moodle's grade import (CSV file): the user field Moodle maps from, and one grade column to map to a
    grade item (whose maximum grade is the points possible)."""
    key = moodle_field(users)
    chosen, not_listed, not_graded = _rows(records, users, lambda fields: bool(fields.get(key)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([key, item])
    for record, fields in chosen:
        writer.writerow([fields[key], _score(record)])
    return buffer.getvalue(), Written("moodle", Path(FILES["moodle"]), len(chosen), not_listed, not_graded)


def write(out: Path, records: list[dict], users: Users, gradebooks: list[str], assignment: str) -> list[Written]:
    """Each gradebook's file in ``out``, from the batch's records."""
    from quizgen.grade.reports import write_atomic

    written = []
    for gradebook in gradebooks:
        text, result = (canvas_csv if gradebook == "canvas" else moodle_csv)(records, users, assignment)
        result.path = out / FILES[gradebook]
        write_atomic(result.path, text)
        written.append(result)
    return written
