"""The instructor's answer key, as Markdown (key.md) and a print-ready page (key.html).

Each question with its correct answer, the explanation, per-option feedback and misconceptions,
the rubric and exemplar of critiques, and the lab evidence behind claim-backed answers.
"""

from __future__ import annotations

from pathlib import Path

from quizgen.formats.common import LETTERS, claim_evidence, environment

NAME = "key"
KIND = "export"


def answer_letters(question) -> str:
    return ", ".join(LETTERS[index] for index, option in enumerate(question.options) if option.correct)


def measurement(value) -> str:
    if value is None:
        return "not measured"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _env():
    env = environment(NAME).overlay()
    env.filters.update(
        measurement=measurement,
        oneline=lambda text: " ".join(text.split()),
        cell=lambda text: " ".join(text.split()).replace("|", "\\|"),
    )
    env.globals.update(LETTERS=LETTERS, answer_letters=answer_letters, claim_evidence=claim_evidence)
    return env


def write(course, results, out_dir: Path) -> None:
    concepts = [concept for concept in course.concepts if concept.questions]
    questions = [question for concept in concepts for question in concept.questions]
    context = {"course": course, "concepts": concepts, "results": results or {},                "total_questions": len(questions), "total_points": sum(q.points for q in questions)}
    env = _env()
    for template in ("key.md", "key.html"):
        (out_dir / template).write_text(env.get_template(template).render(**context), encoding="utf-8")
