"""IMS QTI 2.1: one content package (zip) per quiz: an assessmentItem per question, an
assessmentTest with a section per concept, imsmanifest.xml, and media/<path in the content folder> for
each image the quiz's concepts show (each item's resource lists the files it shows and depends on a
webcontent resource per file). Math becomes MathML.

A generated question (quizgen.variants) is an assessmentSection of its own, invisible (its items count as
its concept's; Canvas's importer adds no title question for it), with <selection select="1"/> and an
assessmentItemRef per variant, each variant its own item file (items/<concept>/<question>.v<index>.xml)
and manifest resource: a delivery engine draws one variant per candidate (Canvas makes it a quiz group).

Scoring follows the course model: multi uses a mapping (+points/right, -points/right per wrong
choice, floored at 0) or match for all-or-nothing; numeric uses <equal> with the tolerance; short
answers map case-insensitively. A critique is an extendedTextInteraction whose rubric and exemplar
sit in a rubricBlock only scorers see. QTI_KINDS says which of these each question type is.

Quiz settings (course.quiz_settings): attempts and when correct answers show become the testPart's
itemSessionControl, the time limit the test's timeLimits, shuffle_answers each choiceInteraction's
shuffle, and the quiz's points a scaled SCORE in the test's outcomeProcessing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup

from quizgen.formats.common import (
    Files, environment, file_urls, full_id, html, inline_html, show_correct_answers, stable_id, variant_id, variants,
    write_quiz_zips,
)
from quizgen.formats.notation import exact, number
from quizgen.questions import for_type

NAME = "qti21"
# Each question type as the QTI interaction it becomes (item.xml writes each of these kinds).
QTI_KINDS = {
    "choice": "single-choice",  # choiceInteraction, one choice
    "truefalse": "single-choice",
    "multi": "multiple-choice",  # choiceInteraction, any number of choices
    "numeric": "float-entry",  # textEntryInteraction, a float
    "short": "string-entry",  # textEntryInteraction, a string
    "critique": "extended-text",  # extendedTextInteraction with a scorer-only rubric
}
CHOICE_KINDS = ("single-choice", "multiple-choice")
# markdown-it writes table alignment as style="text-align:…"; QTI's XHTML subset has no style attribute.
_STYLE = re.compile(r' style="[^"]*"')
MEDIA = "media"  # the package's folder for the course files its items show


@lru_cache(maxsize=65536)
def xhtml(text: str, files: Files | None = None) -> Markup:
    return Markup(_STYLE.sub("", html(text, "mathml", files)))


@lru_cache(maxsize=65536)
def xhtml_inline(text: str, files: Files | None = None) -> Markup:
    return Markup(_STYLE.sub("", inline_html(text, "mathml", files)))


def item_path(concept, question) -> str:
    """Where a question's item file is: items/<concept>/<question>.xml, a variant's with ``.v<index>`` before
    the extension (a slug has no dot, so no question's file can be a variant's)."""
    suffix = f".v{question.variant.index}" if question.variant else ""
    return f"items/{concept.id}/{question.id}{suffix}.xml"


def file_path(name: str) -> str:
    """Where the package keeps the course file at ``name`` (its path in the content folder)."""
    return f"{MEDIA}/{name}"


def file_src(name: str) -> str:
    """How an item (at items/<concept>/<question>.xml) points at that file: a relative URI."""
    return "../../" + quote(file_path(name))


def item_xml(concept, question, course) -> str:
    env = template_environment()
    kind = for_type(QTI_KINDS, question, "the QTI 2.1 export")
    context = {"concept": concept, "question": question, "ident": stable_id("item", variant_id(concept, question)),
               "kind": kind, "files": file_urls(concept, file_src)}
    if kind in CHOICE_KINDS:
        context["shuffle"] = course.quiz_settings(concept).shuffle_answers and getattr(question, "shuffle", True)
        context["choice_ids"] = [f"choice{index + 1}" for index in range(len(question.options))]
        right = sum(option.correct for option in question.options)
        context["share"] = question.points / right if right else 0
    if kind == "extended-text":
        context["rubric"] = Markup(env.get_template("rubric.xml").render(question=question, files=context["files"]))
    return env.get_template("item.xml").render(**context)


@lru_cache(maxsize=1)
def template_environment():
    env = environment(NAME).overlay()
    env.filters.update(xhtml=xhtml, xhtml_inline=xhtml_inline)
    return env


def pool_items(concept, question, course) -> dict[str, str]:
    """{item path: item XML} of a question: its one item, or an item per variant of a generated question."""
    return {item_path(concept, variant): item_xml(concept, variant, course) for variant in variants(question)}


def package(quiz, items: dict[str, dict[str, str]], course) -> dict[str, str | bytes]:
    """The package's files; ``items`` holds each question's rendered items ({full id: {item path: XML}}),
    shared by every quiz it is in."""
    env = template_environment()
    files: dict[str, str | bytes] = {}
    sections: list[tuple] = []  # (concept, [(question, [(variant, item path)])])
    resources: list[tuple] = []  # (item identifier, item path, [(webcontent identifier, href)]), for the manifest
    shown_names: set[str] = set()
    for concept, question in quiz.items:
        rendered = items[full_id(concept, question)]
        files |= rendered
        if not sections or sections[-1][0] is not concept:
            sections.append((concept, []))
        refs = [(variant, item_path(concept, variant)) for variant in variants(question)]
        sections[-1][1].append((question, refs))
        for variant, path in refs:
            # The course files the item shows: its resource lists them and depends on theirs.
            names = item_files(concept, rendered[path])
            shown_names.update(names)
            resources.append((stable_id("item", variant_id(concept, variant)), path,
                              [(stable_id("file", name), quote(file_path(name))) for name in names]))
    settings = quiz.settings
    test_path = f"tests/{quiz.id}.xml"
    files[test_path] = env.get_template("test.xml").render(
        quiz=quiz, sections=sections, settings=settings,
        show_solution=show_solution(settings),
        total=number(sum(exact(question.points) for _, question in quiz.items)))
    files["imsmanifest.xml"] = env.get_template("imsmanifest.xml").render(
        quiz=quiz, test_path=test_path, resources=resources,
        webcontent=sorted({resource for *_, shown in resources for resource in shown}))
    files |= {file_path(name): course.local_file(name).read_bytes() for name in sorted(shown_names)}
    return files


def show_solution(settings) -> bool:
    """QTI's showSolution: correct answers shown after each attempt. QTI has no "after the last attempt":
    that is after each attempt when there is one, otherwise the stricter false (as for Canvas)."""
    show, last_attempt_only = show_correct_answers(settings)
    return show and not last_attempt_only


def item_files(concept, xml: str) -> list[str]:
    """The names of the course files an item shows: those of its concept's files it points at."""
    return sorted({file.name for file in concept.files if file_src(file.name) in xml})


def write(course, results, out_dir: Path) -> None:
    write_quiz_zips(course, lambda concept, question: pool_items(concept, question, course),
                    lambda quiz, items: package(quiz, items, course), out_dir)
