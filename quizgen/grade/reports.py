"""What `quizgen grade` writes: grades.csv, results.json, feedback/<learner>.md and logs/<learner>.txt.

grades.csv has one row per learner (an LMS gradebook imports it as is: learner id, score, points
possible, then one column per graded item). results.json holds everything, for the instructor.
Feedback files show the learner their score per item and what failed, in the words of the checks;
they never contain hidden test source, unseen inputs or reference values.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from quizgen.formats.notation import number
from quizgen.grade.sandbox import ENVIRONMENT_ERROR, GRADED
from quizgen.grade.untrusted import markdown_text

STATUS_NOTES = {
    "cell timeout": "A cell ran past the time limit and was stopped; the cells after it did not run.",
    "wall timeout": "The whole notebook ran past the time limit and was stopped.",
    "out of memory": "The notebook tried to use more memory than allowed.",
    "kernel died": "The notebook's Python process stopped unexpectedly (a crash or an exit call).",
    "missing answer cell": "Some answer cells were deleted; add them back from the original notebook.",
    "not a notebook": "The file is not a Jupyter notebook (.ipynb) that could be read.",
    "environment error": "The grader's own setup failed; this is not your fault, and your instructor will regrade.",
}


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8", errors="replace", newline="") as file:
        file.write(text)
    os.replace(staging, path)


def grades_csv(records: list[dict]) -> str:
    columns = []
    for record in records:
        for item in record["items"]:
            if item["id"] not in columns and item["points"] > 0:
                columns.append(item["id"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", "score", "points_possible", "percent", "status", *columns])
    for record in records:
        earned = {item["id"]: item["earned"] for item in record["items"]}
        if record["status"] == ENVIRONMENT_ERROR:
            # Not the learner's score: left blank so that a gradebook import does not record a zero.
            score = percent = ""
        else:
            score = _number(record["score"])
            percent = _number(100 * record["score"] / record["points_possible"]) if record["points_possible"] else ""
        row = [record["learner"], score, _number(record["points_possible"]), percent, record["status"]]
        writer.writerow(row + [_number(earned[c]) if c in earned and score != "" else "" for c in columns])
    return buffer.getvalue()


def _number(value: float) -> str:
    return number(round(value, 4), digits=6)


def feedback_markdown(record: dict, lab_title: str) -> str:
    lines = [f"# Feedback: {lab_title}", "", f"**{record['learner']}**: "]
    if record["status"] == ENVIRONMENT_ERROR:
        lines[-1] += "not graded yet."
    else:
        lines[-1] += f"{_number(record['score'])} of {_number(record['points_possible'])} points."
    lines += ["", f"Status: **{record['status']}**" + (f" ({_cell(record['message'])})" if record["message"] else "")]
    if record["status"] in STATUS_NOTES:
        lines += ["", STATUS_NOTES[record["status"]]]
    if record.get("missing_cells"):
        lines += ["", "Missing answer cells: " + ", ".join(_cell(key) for key in record["missing_cells"])]
    if record["items"]:
        lines += ["", "| item | points | |", "|---|---|---|"]
        for item in record["items"]:
            shown = f"{_number(item['earned'])} / {_number(item['points'])}" if item["points"] else "—"
            lines.append(f"| {_cell(item['title'])} | {shown} | {_cell('; '.join(item['feedback']))} |")
    errors = [cell for cell in record.get("cells", []) if cell.get("error")]
    if errors:
        lines += ["", "## Errors in your cells", ""]
        for cell in errors[:10]:
            error = cell["error"]
            where = f"cell {cell['index'] + 1}" + (f", line {error['line']}" if error.get("line") else "")
            lines.append(f"- {where}: {_cell(error['type'])}: {_cell(error['message'])}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Any text in the feedback, learner-derived or not, escaped for Markdown (and the HTML it may render)."""
    return markdown_text(text, 2000)


def write_submission(out: Path, record: dict, lab_title: str, output_tail: str | None) -> None:
    """One learner's files, written as soon as they are graded (so --resume and a crash keep them). A
    rescore from the stored harvest (``output_tail`` None) leaves the log of the run it reused."""
    learner = record["learner"]
    write_atomic(out / "feedback" / f"{learner}.md", feedback_markdown(record, lab_title))
    if output_tail is not None:
        write_atomic(out / "logs" / f"{learner}.txt", output_tail)  # cleaned (untrusted.log_text)
    write_atomic(out / "submissions" / f"{learner}.json", json.dumps(record, indent=2, sort_keys=True) + "\n")


def write_summary(out: Path, records: list[dict], header: dict) -> None:
    records = sorted(records, key=lambda record: record["learner"])
    write_atomic(out / "grades.csv", grades_csv(records))
    summary = header | {"submissions": records,
                        "counts": {status: sum(r["status"] == status for r in records)
                                   for status in sorted({r["status"] for r in records})}}
    write_atomic(out / "results.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")


def load_finished(out: Path, learner: str, sha256: str) -> dict | None:
    """A record from an earlier run of the same file (for --resume); environment errors are retried."""
    path = out / "submissions" / f"{learner}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("sha256") != sha256 or record.get("status") == ENVIRONMENT_ERROR:
        return None
    return record


__all__ = ["GRADED", "grades_csv", "feedback_markdown", "write_submission", "write_summary", "load_finished"]
