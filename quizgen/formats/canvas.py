"""Canvas: one QTI 1.2 zip per quiz (a quiz per concept, plus one for the whole course).

Layout Canvas imports: imsmanifest.xml, <id>/assessment_meta.xml (Canvas quiz settings), <id>/<id>.xml
(the QTI questestinterop) and web_resources/<path in the content folder> for each image the quiz's
concepts show, a webcontent resource in the manifest and `$IMS-CC-FILEBASE$/web_resources/…` in the
item HTML (what Canvas's importer resolves, see docs/exports.md). Math is left as \\( … \\) for Canvas's
MathJax. Numeric ranges are worked out in decimal (notation.number_range), so Canvas stores the margin
as written.

A generated question (quizgen.variants) becomes a question group, as Canvas's own export writes one
(lib/cc/qti/qti_generator.rb, add_group): a <section> inside the root section whose
<selection_ordering> says to pick 1 item (<selection_number>) worth the question's points
(<selection_extension><points_per_item>), holding an item per variant. Canvas's importer makes it a
quiz group (pick_count, question_points) keyed by the section's ident, so each learner gets one variant.

A critique becomes an essay question. Canvas shows an essay's general comments to learners after they
submit and has no grader-only text for a quiz question, so its rubric goes there and its exemplar
answer does not go into the package at all (the key and the critique export carry it).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup

from quizgen.formats.common import (
    environment, file_urls, full_id, html, render, show_correct_answers, stable_id, unequal_points, variant_id, write_quiz_zips,
)
from quizgen.formats.notation import number_range
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
WEB_RESOURCES = "web_resources"  # where a Canvas package keeps its files (Canvas's own exports do too)


def template_environment():
    """The environment the format's templates render in (common.render's)."""
    return environment(NAME)


def canvas_type(question) -> str:
    return for_type(CANVAS_TYPES, question, "the Canvas export")


def file_path(name: str) -> str:
    """Where the package keeps the course file at ``name`` (its path in the content folder)."""
    return f"{WEB_RESOURCES}/{name}"


def file_src(name: str) -> str:
    """How item HTML points at that file: Canvas's importer turns `$IMS-CC-FILEBASE$/<path>` into a link
    to the file it imported from the package (trying the path, then shorter tails of it)."""
    return "$IMS-CC-FILEBASE$/" + quote(file_path(name))


def general_feedback(question, files) -> str:
    """The explanation; for an essay (a critique) also the rubric, which learners see after submitting."""
    parts = [html(question.explanation, files=files)]
    if canvas_type(question) == "essay_question":
        parts.append(render(NAME, "rubric.html", question=question, files=files))
    return "\n".join(parts)


def item_xml(concept, question) -> Markup:
    """The question as the assessment lists it: its <item>, or for a generated question the question group
    of its variants' items."""
    if not question.variants:
        return variant_item_xml(concept, question)
    items = [variant_item_xml(concept, variant) for variant in question.variants]
    return Markup(render(NAME, "group.xml", question=question, items=items,
                         ident=stable_id("group", full_id(concept, question))))


def variant_item_xml(concept, question) -> Markup:
    """One <item>: its ident is derived from the variant's id (the full id for a question that is no variant)."""
    kind = canvas_type(question)
    item = stable_id("item", variant_id(concept, question))
    options = kind in CHOICE_KINDS
    option_ids = {option.text: stable_id(item, option.text) for option in question.options} if options else {}
    files = file_urls(concept, file_src)
    context = {"concept": concept, "question": question, "item": item, "oid": option_ids, "kind": kind,
               "options": options, "files": files, "general_feedback": general_feedback(question, files)}
    if kind == "numerical_question":
        context["low"], context["high"] = number_range(question.answer, question.margin)
    return Markup(render(NAME, "item.xml", **context))


def quiz_concepts(quiz) -> list:
    """The concepts whose questions ``quiz`` asks, in order."""
    return list({id(concept): concept for concept, _ in quiz.items}.values())  # by id: hashing a model is slow


def quiz_files(quiz, items: dict[str, Markup], course) -> dict[str, str | bytes]:
    """The zip's files; ``items`` holds each question's rendered item, shared by every quiz it is in."""
    ident = stable_id("assessment", quiz.id)
    concepts = quiz_concepts(quiz)
    settings = quiz.settings
    show, last_attempt = show_correct_answers(settings)
    context = {"quiz": quiz, "ident": ident, "items": [Markup(items[full_id(c, q)]) for c, q in quiz.items],
               "settings": settings, "show_correct_answers": show, "last_attempt": last_attempt,
               "shuffle_answers": settings.shuffle_answers and all(getattr(q, "shuffle", True) for _, q in quiz.items),
               # a concept's quiz is described by its explanation's first paragraph, which may show a file
               "description_files": file_urls(concepts[0], file_src) if len(concepts) == 1 else None}
    files: dict[str, str | bytes] = {
        f"{ident}/assessment_meta.xml": render(NAME, "assessment_meta.xml", **context),
        f"{ident}/{ident}.xml": render(NAME, "assessment.xml", **context),
    }
    # The course files the quiz shows (of its concepts' files, those its items or description point at).
    shown = sorted({file.name for concept in concepts for file in concept.files
                    if any(file_src(file.name) in text for text in files.values())})
    files["imsmanifest.xml"] = render(NAME, "imsmanifest.xml", **context,
                                      resources=[(stable_id("file", name), quote(file_path(name))) for name in shown])
    files |= {file_path(name): course.local_file(name).read_bytes() for name in shown}
    return files


def write(course, results, out_dir: Path) -> list:
    write_quiz_zips(course, item_xml, lambda quiz, items: quiz_files(quiz, items, course), out_dir)
    return [warning for concept, question in course.questions if question.variants
            for warning in unequal_points(concept, question, "a Canvas question group")]
