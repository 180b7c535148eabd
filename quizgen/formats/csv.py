"""The item bank as CSV: one row per question, for spreadsheets and item analysis."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from quizgen.formats.common import correct_answers, full_id
from quizgen.formats.notation import number, option_letter

NAME = "csv"
COLUMNS = ("concept", "id", "type", "points", "title", "stem", "options", "answer", "tags", "claim",
           "misconceptions")


def rows(course):
    for concept in course.concepts:
        for question in concept.questions:
            options = getattr(question, "options", ())
            yield {
                "concept": concept.id,
                "id": full_id(concept, question),
                "type": question.type,
                "points": number(question.points),
                "title": question.title,
                "stem": question.stem,
                "options": " | ".join(f"{option_letter(i)}. {o.text}" for i, o in enumerate(options)),
                "answer": " | ".join(correct_answers(question)),
                "tags": "; ".join(concept.tags),
                "claim": question.claim or "",
                "misconceptions": "; ".join(o.misconception for o in options if o.misconception),
            }


def write(course, results, out_dir: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows(course))
    (out_dir / "items.csv").write_text(buffer.getvalue(), encoding="utf-8", newline="")
