"""Canvas: one QTI 1.2 zip per quiz (a quiz per concept, plus one for the whole course).

Layout Canvas imports: imsmanifest.xml, <id>/assessment_meta.xml (Canvas quiz settings) and
<id>/<id>.xml (the QTI questestinterop). Math is left as \\( … \\) for Canvas's MathJax.
A critique becomes an essay question; its rubric and exemplar go in the general feedback,
which Canvas shows to graders in SpeedGrader.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from quizgen.formats.common import full_id, html, render, stable_id, write_quiz_zips
from quizgen.questions import for_type

NAME = "canvas"
# Each question type as the Canvas item it becomes (item.xml writes each of these kinds).
CANVAS_TYPES = {
    "choice": "multiple_choice_question",
    "multi": "multiple_answers_question",
    "truefalse": "true_false_question",
    "numeric": "numerical_question",
    "short": "short_answer_question",
    "critique": "essay_question",
}
CHOICE_KINDS = ("multiple_choice_question", "multiple_answers_question", "true_false_question")


def canvas_type(question) -> str:
    return for_type(CANVAS_TYPES, question, "the Canvas export")


def general_feedback(question) -> str:
    """The explanation; for an essay (a critique) also the rubric and the exemplar, for the grader."""
    parts = [html(question.explanation)]
    if canvas_type(question) == "essay_question":
        parts.append(render(NAME, "rubric.html", question=question))
    return "\n".join(parts)


def item_xml(concept, question) -> Markup:
    kind = canvas_type(question)
    item = stable_id("item", full_id(concept, question))
    options = kind in CHOICE_KINDS
    option_ids = {option.text: stable_id(item, option.text) for option in question.options} if options else {}
    return Markup(render(NAME, "item.xml", concept=concept, question=question, item=item, oid=option_ids,
                         kind=kind, options=options, general_feedback=general_feedback))


def quiz_files(quiz, items: dict[str, Markup]) -> dict[str, str]:
    """The zip's files; ``items`` holds each question's rendered item, shared by every quiz it is in."""
    ident = stable_id("assessment", quiz.id)
    context = {"quiz": quiz, "ident": ident, "items": [Markup(items[full_id(c, q)]) for c, q in quiz.items],
               "shuffle_answers": all(getattr(q, "shuffle", True) for _, q in quiz.items)}
    return {
        "imsmanifest.xml": render(NAME, "imsmanifest.xml", **context),
        f"{ident}/assessment_meta.xml": render(NAME, "assessment_meta.xml", **context),
        f"{ident}/{ident}.xml": render(NAME, "assessment.xml", **context),
    }


def write(course, results, out_dir: Path) -> None:
    write_quiz_zips(course, item_xml, quiz_files, out_dir)
