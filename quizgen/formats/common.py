"""What the export formats share: quizzes, content-derived ids, rendered text, templates, zips.

Every export renders the same Course; nothing here re-reads Markdown files. Rendered text is
cached per (text, math style), so a stem shared by five formats is rendered once.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from quizgen.formats.notation import number
from quizgen.markdown import MathStyle, render_markdown
from quizgen.model import Concept, Course
from quizgen.parallel import fork_map
from quizgen.questions import UnsupportedQuestionType, question_type

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so that the same course gives byte-identical zips


@dataclass(frozen=True)
class Quiz:
    """One importable quiz: a concept's questions, or the whole course's."""

    id: str
    title: str
    description: str
    items: tuple  # (Concept, Question) pairs

    @property
    def points(self) -> float:
        return sum(question.points for _, question in self.items)


def quizzes(course: Course) -> list[Quiz]:
    """A quiz per concept and one for the whole course; a form's quizzes get ids of their own,
    so that importing two forms into one LMS course gives two quizzes, not one overwritten."""
    suffix = f"-form-{course.form}" if course.form else ""
    form = f" (form {course.form})" if course.form else ""
    per_concept = [
        Quiz(concept.id + suffix, concept.title + form, concept.explanation.split("\n\n")[0],
             tuple((concept, question) for question in concept.questions))
        for concept in course.concepts if concept.questions
    ]
    everything = Quiz("all-concepts" + suffix, course.title, course.description,
                      tuple(pair for quiz in per_concept for pair in quiz.items))
    return per_concept + [everything]


def stable_id(*parts: str) -> str:
    """An XML-safe id derived from content ids, identical on every export."""
    return "g" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def full_id(concept: Concept, question) -> str:
    return f"{concept.id}#{question.id}"


@lru_cache(maxsize=65536)
def html(text: str, math: MathStyle = "tex") -> str:
    return render_markdown(text, math=math).strip() if text else ""


@lru_cache(maxsize=65536)
def inline_html(text: str, math: MathStyle = "tex") -> str:
    """One-paragraph text (an option, a title) without its <p> wrapper."""
    return render_markdown(text, math=math, inline=True).strip() if text else ""


def correct_answers(question) -> list[str]:
    """The correct answer(s) as text, what every format must agree on: the type's own (QuestionType),
    none for a type graded with a rubric."""
    return question_type(question).correct_answers(question)


def unsupported(message: str):
    """For a template's last ``{% else %}``: a branch it has no rendering for is an error, not a blank."""
    raise UnsupportedQuestionType(message)


PARALLEL_MIN_ITEMS = 400  # below this, forking workers costs more than rendering serially


def write_quiz_zips(course: Course, render_item, package, out_dir: Path) -> None:
    """<quiz id>.zip for every quiz of the course (see quizzes()), for the zip-per-quiz formats.

    ``render_item(concept, question)`` gives a question's XML; ``package(quiz, items)`` gives a
    quiz's files from its items ({full id: XML}). The concept quizzes, items and zips, are built on
    every core for a large course; the whole-course quiz is then packaged from their items, each
    question rendered once.
    """
    *concept_quizzes, whole = quizzes(course)

    def build(quiz: Quiz) -> tuple[dict, bytes]:
        items = {full_id(concept, question): render_item(concept, question) for concept, question in quiz.items}
        return items, zip_bytes(package(quiz, items))

    built = fork_map(build, concept_quizzes, min_work=PARALLEL_MIN_ITEMS, cost=lambda quiz: len(quiz.items))
    everything = {}
    for quiz, (items, archive) in zip(concept_quizzes, built):
        everything |= items
        (out_dir / f"{quiz.id}.zip").write_bytes(archive)
    (out_dir / f"{whole.id}.zip").write_bytes(zip_bytes(package(whole, everything)))


@lru_cache(maxsize=None)
def environment(format_name: str) -> jinja2.Environment:
    """The format's templates; autoescape follows the file extension (.xml, .html yes; .md, .txt no)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATES_DIR / format_name, TEMPLATES_DIR / "common"]),
        autoescape=jinja2.select_autoescape(["xml", "html"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(html=html, inline_html=inline_html, number=number)
    env.globals.update(stable_id=stable_id, full_id=full_id, correct_answers=correct_answers, unsupported=unsupported)
    return env


def render(format_name: str, template: str, **context) -> str:
    return environment(format_name).get_template(template).render(**context)


def zip_bytes(files: dict[str, str | bytes]) -> bytes:
    """A deterministic zip: sorted names, fixed dates and permissions."""
    buffer = io.BytesIO()
    # Level 1: several times faster than the default, and XML still shrinks about fivefold.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            content = files[name]
            archive.writestr(info, content.encode() if isinstance(content, str) else content, compresslevel=1)
    return buffer.getvalue()
