"""The item bank as CSV: one row per question, for spreadsheets and item analysis.

A generated question (quizgen.variants) has a row per variant, each with its own stem, options and answer;
its rows share the question's id, and ``objectives``, ``level`` and ``difficulty`` are the question's objective=, level= and difficulty= (empty where
it gives none), for item analysis by objective or level. The last columns say which variant a row is: ``variant`` (its number, as
the site and the key show it), ``variants`` (how many the question has) and ``values`` ("p=8, r=2"). They are empty for a question without parameters.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from quizgen.formats.common import correct_answers, full_id, variants
from quizgen.formats.notation import number, option_letter

NAME = "csv"
COLUMNS = ("concept", "id", "type", "points", "title", "stem", "options", "answer", "tags", "claim",
           "objectives", "level", "difficulty", "misconceptions", "variant", "variants", "values")


def rows(course):
    for concept in course.concepts:
        for question in concept.questions:
            for variant in variants(question):
                yield row(concept, variant)


def row(concept, question) -> dict[str, str]:
    options = getattr(question, "options", ())
    which = question.variant
    return {
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
        "objectives": "; ".join(question.objective),
        "level": question.level or "",
        "difficulty": question.difficulty or "",
        "misconceptions": "; ".join(o.misconception for o in options if o.misconception),
        "variant": str(which.index) if which else "",
        "variants": str(which.count) if which else "",
        "values": which.label if which else "",
    }


def write(course, results, out_dir: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows(course))
    (out_dir / "items.csv").write_text(buffer.getvalue(), encoding="utf-8", newline="")
