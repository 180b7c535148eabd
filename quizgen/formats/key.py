"""The instructor's answer key, as Markdown (key.md) and a print-ready page (key.html).

Each question with its correct answer, the explanation, per-option feedback and misconceptions,
the rubric and exemplar of critiques, and the lab evidence behind claim-backed answers (read as the
site reads it, see quizgen.site.evidence).
"""

from __future__ import annotations

from pathlib import Path

from quizgen.formats.common import environment
from quizgen.formats.notation import option_letter
from quizgen.questions import for_type
from quizgen.site.evidence import claim_evidence, lab_views

NAME = "key"
# How the key gives each type's answer (key.md and key.html write each of these):
# "option": the options, the right one's letter; "options": the same with the multi scoring rule;
# "text": correct_answers(); "rubric": the task, the rubric and the exemplar.
ANSWERS = {
    "choice": "option", "truefalse": "option", "multi": "options", "numeric": "text", "short": "text",
    "critique": "rubric",
}


def key_answer(question) -> str:
    return for_type(ANSWERS, question, "the answer key")


def answer_letters(question) -> str:
    return ", ".join(option_letter(index) for index, option in enumerate(question.options) if option.correct)


def _env():
    env = environment(NAME).overlay()
    env.filters.update(
        oneline=lambda text: " ".join(text.split()),
        cell=lambda text: " ".join(text.split()).replace("|", "\\|"),
    )
    env.globals.update(option_letter=option_letter, answer_letters=answer_letters, key_answer=key_answer)
    return env


def write(course, results, out_dir: Path) -> None:
    concepts = [concept for concept in course.concepts if concept.questions]
    questions = [question for concept in concepts for question in concept.questions]
    views = lab_views(course, results or {})
    lab_evidence = {(concept.id, question.id): claim_evidence(concept.lab, question.claim, views)
                for concept in concepts for question in concept.questions if question.claim}
    context = {"course": course, "concepts": concepts, "lab_evidence": lab_evidence,
               "total_questions": len(questions), "total_points": sum(q.points for q in questions)}
    env = _env()
    for template in ("key.md", "key.html"):
        (out_dir / template).write_text(env.get_template(template).render(**context), encoding="utf-8")
