"""The instructor's answer key, as Markdown (key.md) and a print-ready page (key.html).

Each question with its correct answer, the explanation, per-option feedback and misconceptions,
the rubric and exemplar of critiques, and the lab evidence behind claim-backed answers (read as the
site reads it, see quizgen.site.evidence).

key.html is one file that prints as it shows, with no script: math is MathML, which browsers render
natively (Chrome, Edge, Firefox, Safari), and each image the questions show is copied to
media/<its path in the content folder> beside it. key.md keeps the TeX as written (Markdown readers
render or read it) and points its images at the same media/ files.
"""

from __future__ import annotations

import re
import shutil
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote

from jinja2 import pass_context
from markupsafe import Markup

from quizgen.formats.common import environment, file_urls, html, inline_html
from quizgen.formats.notation import option_letter
from quizgen.markdown import images_of
from quizgen.model import Concept
from quizgen.questions import for_type, question_type
from quizgen.site.evidence import claim_evidence, lab_views

NAME = "key"
MEDIA = "media"  # the folder beside key.html that holds the course files the questions show
MATH = "mathml"  # key.html's math: rendered by the browser itself, on screen and on paper
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


def right_options(question) -> list[tuple]:
    """(index, option) of every correct option."""
    return [(index, option) for index, option in enumerate(question.options) if option.correct]


def variant_note(question) -> str:
    """What the line under a question's title says of its variants: how many a generated question has, or
    which one a form drew; nothing for a question without parameters."""
    if question.variants:
        return f" · generated: {len(question.variants)} variants, one per learner"
    if question.variant:
        return f" · variant {question.variant.index} ({question.variant.label})"
    return ""


def classification(question) -> str:
    """What the line under a question's title says of its level and difficulty (' · level: apply ·
    difficulty: hard'); nothing for a question that gives neither."""
    parts = [f"level: {question.level}" if question.level else "",
             f"difficulty: {question.difficulty}" if question.difficulty else ""]
    return "".join(f" · {part}" for part in parts if part)


def assessed_objectives(concept: Concept, question) -> list:
    """The objectives of ``concept`` that ``question`` names in objective=, in the order it names them."""
    return [objective for objective_id in question.objective if (objective := concept.objective(objective_id))]


def measured_seeds(question) -> tuple[int, ...]:
    """The seeds a lab measured a generated question's answers on (quizgen.variants.measured), the key's
    columns beside each variant's answer; none for an answer a formula gives."""
    return next((variant.variant.seeds for variant in question.variants if variant.variant.seeds), ())


def media_url(name: str) -> str:
    """Where key.html and key.md find the course file at ``name`` (its path in the content folder)."""
    return f"{MEDIA}/{quote(name)}"


def media_markdown(text: str, concept: Concept) -> str:
    """``text`` (Markdown of ``concept``) with each local image's destination pointing into media/, for
    key.md: the image syntax `![alt](src)`, `![alt](<src>)` and a reference definition `[id]: src`."""
    if not concept.files or "![" not in text:
        return text
    for file in {file.src: file for file in concept.files}.values():
        written = "|".join(re.escape(form) for form in sorted({file.src, unquote(file.src)}, key=len, reverse=True))
        destination = rf"(?:<(?:{written})>|(?:{written}))(?=[ \t\n)]|$)"
        url = media_url(file.name)
        text = re.sub(rf"(!\[(?:[^\]\\]|\\.)*\]\([ \t]*){destination}", lambda m: m.group(1) + url, text)
        text = re.sub(rf"(^ {{0,3}}\[[^\]]+\]:[ \t]*){destination}", lambda m: m.group(1) + url, text, flags=re.M)
    return text


def shown_files(concept: Concept) -> set[str]:
    """The names of the files the key shows for ``concept``: those its questions' texts link to (an image
    only in the explanation is not in the key)."""
    if not concept.files:
        return set()
    names = concept.file_names()
    return {names[image.attrGet("src")] for question in concept.questions
            for text in question_type(question).texts(question) if text
            for image, _ in images_of(text) if image.attrGet("src") in names}


# key.html renders a concept's texts with that concept's images (the `files` of its section's context,
# rubric.html included), and math as MathML.
@pass_context
def _key_html(context, text: str) -> str:
    return html(text, MATH, context.get("files"))


@pass_context
def _key_inline_html(context, text: str) -> str:
    return inline_html(text, MATH, context.get("files"))


@lru_cache(maxsize=1)
def template_environment():
    """The format's templates with its own filters and functions."""
    env = environment(NAME).overlay()
    env.filters.update(
        oneline=lambda text: " ".join(text.split()),
        cell=lambda text: " ".join(text.split()).replace("|", "\\|"),
        media=media_markdown,
        html=_key_html,
        inline_html=_key_inline_html,
    )
    env.globals.update(option_letter=option_letter, answer_letters=answer_letters, key_answer=key_answer,
                       right_options=right_options, measured_seeds=measured_seeds,
                       variant_note=variant_note, classification=classification,
                       assessed_objectives=assessed_objectives)
    return env


def write(course, results, out_dir: Path) -> None:
    concepts = [concept for concept in course.concepts if concept.questions]
    questions = [question for concept in concepts for question in concept.questions]
    views = lab_views(course, results or {})
    lab_evidence = {(concept.id, question.id): claim_evidence(concept.lab, question.claim, views)
                    for concept in concepts for question in concept.questions if question.claim}
    context = {"course": course, "concepts": concepts, "lab_evidence": lab_evidence,
               "total_questions": len(questions), "total_points": sum(q.points for q in questions)}
    env = template_environment()
    section = env.get_template("concept.html")
    sections = [Markup(section.render(concept=concept, concept_number=number, lab_evidence=lab_evidence,
                                      files=file_urls(concept, media_url)))
                for number, concept in enumerate(concepts, start=1)]
    (out_dir / "key.md").write_text(env.get_template("key.md").render(**context), encoding="utf-8")
    (out_dir / "key.html").write_text(env.get_template("key.html").render(**context, sections=sections),
                                      encoding="utf-8")
    for name in sorted({name for concept in concepts for name in shown_files(concept)}):
        target = out_dir / MEDIA / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(course.local_file(name), target)
