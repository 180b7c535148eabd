"""GIFT (Moodle's plain-text import format): one file for the course, $CATEGORY per concept.

Every GIFT control character in course text (~ = # { } : and backslash) is escaped; text is HTML
([html]) with math as \\( … \\); line breaks become spaces because a blank line ends a question in
GIFT. True/false feedback follows Moodle's order: {TRUE#feedback if wrong#feedback if right}.

Each question is headed by two comment lines, as Moodle's own GIFT export heads them: one naming it,
and the one Moodle's reader takes the idnumber and tags from (qformat_gift's
extract_idnumber_and_tags_from_comment): ``// [id:concept#question] [tag:…] …``, the same idnumber and
tags as the Moodle XML export.

A generated question (quizgen.variants) is written as its variants, each a question of its own (its title
followed by its values, its idnumber ``concept#question/v<index>``), under a ``$CATEGORY:`` line of its own
(the category the Moodle XML export gives it), then the file switches back to the concept's category: a
Moodle quiz draws "a random question" from that category.

A multi question's option weights are the Moodle XML export's fractions (``~%50%``, ``~%-100%``: the
course's partial-credit rule in Moodle's listed values); a short question lists the forms of its answers
the course's rule accepts (Moodle matches each literally, ignoring case).

What GIFT cannot say, the export says as warnings at the question's path:line (``write`` returns
them): GIFT has no syntax for points, so Moodle imports every question worth 1; it cannot carry files,
so an image the question shows does not arrive. GIFT has no field for grader-only text either, so a
critique's rubric and exemplar are not in the file (the Moodle XML, the key and the critique prompts
carry them); docs/exports.md says so.
"""

from __future__ import annotations

import re
from pathlib import Path

from quizgen.errors import Diagnostic
from quizgen.formats.common import html, inline_html, variant_id, variant_title, variants
from quizgen.formats.moodle import (
    category_path, concept_tags, fraction, fraction_warnings, question_tags, shortanswer_answers,
)
from quizgen.formats.notation import number
from quizgen.markdown import images_of
from quizgen.questions import for_type

NAME = "gift"
_SPECIAL = re.compile(r"([\\~=#{}:])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.split("\n")))


class Texts:
    """A question's Markdown as escaped one-line GIFT HTML, noting the concept's local files each text
    shows: GIFT carries none of them, and the export says so."""

    def __init__(self, concept):
        self.files = {file.src: file for file in concept.files}
        self.shown: dict[str, None] = {}  # the names (in the content folder) of those shown, in order

    def __call__(self, text: str, inline: bool = False) -> str:
        if self.files and "![" in text:
            for image, _ in images_of(text):
                file = self.files.get(image.attrGet("src"))
                if file is not None:
                    self.shown.setdefault(file.name)
        return escape(inline_html(text) if inline else html(text))


def _options(question, mark, rich: Texts) -> str:
    lines = []
    for option in question.options:
        feedback = f"#{rich(option.feedback)}" if option.feedback else ""
        lines.append(f"\t{mark(option)}{rich(option.text, inline=True)}{feedback}")
    return "\n".join(lines)


def single_choice(head: str, question, general: str, rich: Texts) -> str:
    body = _options(question, lambda option: "=" if option.correct else "~", rich)
    return f"{head}{{\n{body}\n\t{general}\n}}"


def multiple_choice(head: str, question, general: str, rich: Texts) -> str:
    body = _options(question, lambda option: f"~%{fraction(question, option)}%", rich)
    return f"{head}{{\n{body}\n\t{general}\n}}"


def true_false(head: str, question, general: str, rich: Texts) -> str:
    right = next(o for o in question.options if o.correct)
    wrong = next(o for o in question.options if not o.correct)
    verdict = "TRUE" if right.text == "True" else "FALSE"
    wrong_feedback, right_feedback = rich(wrong.feedback or ""), rich(right.feedback or "")
    # As Moodle's writer puts them: no empty feedback after the last "#" (so never "#####" before the
    # general feedback, which gift-pegjs refuses).
    feedback = f"#{wrong_feedback}" if wrong_feedback or right_feedback else ""
    feedback += f"#{right_feedback}" if right_feedback else ""
    return f"{head}{{{verdict}{feedback}{general}}}"


def numerical(head: str, question, general: str, rich: Texts) -> str:
    return f"{head}{{#{number(question.answer)}:{number(question.margin)}{general}}}"


def short_answer(head: str, question, general: str, rich: Texts) -> str:
    answers = " ".join(f"={escape(answer)}" for answer in shortanswer_answers(question))
    return f"{head}{{{answers}{general}}}"


def essay(head: str, question, general: str, rich: Texts) -> str:
    """The scenario and the task, and an empty answer: GIFT's essay question."""
    return f"{head}{rich(question.task)}{{{general}}}"


# Each question type as the GIFT question that writes it: writer(head, question, general feedback, texts).
WRITERS = {
    "choice": single_choice, "multi": multiple_choice, "truefalse": true_false, "numeric": numerical,
    "short": short_answer, "critique": essay,
}


def id_and_tags(concept, question, tags: list[str]) -> str:
    """The comment line Moodle's GIFT reader takes the idnumber and tags from."""
    return "// " + " ".join([_token("id", variant_id(concept, question))] + [_token("tag", tag) for tag in tags])


def _token(kind: str, value: str) -> str:
    escaped = value.replace("]", "\\]")  # as Moodle's write_idnumber_and_tags escapes a ] in either
    return f"[{kind}:{escaped}]"


def question_gift(concept, question, tags: list[str] = ()) -> tuple[str, list[Diagnostic]]:
    """The question in GIFT, and what GIFT loses of it, as warnings at its path:line."""
    writer = for_type(WRITERS, question, "the GIFT export")
    rich = Texts(concept)
    head = (f"// {variant_id(concept, question)}\n{id_and_tags(concept, question, tags)}\n"
            f"::{escape(variant_title(question))}::[html]{rich(question.stem)}")
    text = writer(head, question, f"####{rich(question.explanation)}", rich)
    return text, losses(concept, question, list(rich.shown))


def losses(concept, question, shown: list[str]) -> list[Diagnostic]:
    """What GIFT cannot carry of the question (its points, the files it shows), as warnings."""
    warnings = []
    if question.points != 1:
        warnings.append(f"worth {number(question.points)} points, but GIFT has no syntax for points: Moodle imports "
                        "this question worth 1 (the Moodle XML export keeps its points)")
    if shown:
        names = ", ".join(f"'{name}'" for name in shown)
        warnings.append(f"GIFT cannot carry files: {names} {'is' if len(shown) == 1 else 'are'} not in the GIFT file, "
                        "so Moodle shows a broken image (the Moodle XML export embeds images)")
    return [Diagnostic(concept.path, question.line, message, "warning") for message in warnings]


def write(course, results, out_dir: Path) -> list[Diagnostic]:
    chunks, warnings = [], []
    tags = concept_tags(course)
    for concept in course.concepts:
        if not concept.questions:
            continue
        chunks.append(f"$CATEGORY: {category_path(course.title, concept)}")
        for position, question in enumerate(concept.questions):
            if question.variants:
                chunks.append(f"$CATEGORY: {category_path(course.title, concept, question)}")
            for variant in variants(question):
                text, lost = question_gift(concept, variant, question_tags(tags[concept.id], variant))
                chunks.append(text)
                warnings += lost
            following = concept.questions[position + 1:position + 2]
            if question.variants and following and not following[0].variants:
                chunks.append(f"$CATEGORY: {category_path(course.title, concept)}")
    (out_dir / "questions.gift.txt").write_text("\n\n".join(chunks) + "\n", encoding="utf-8")
    return list(dict.fromkeys(warnings + fraction_warnings(course)))  # a pool's variants lose the same: said once
