"""What the export formats share: quizzes, content-derived ids, rendered text, templates, zips, and how a
generated question's variants are written (``variants``, ``variant_id``, ``variant_title``).

Every export renders the same Course; nothing here re-reads Markdown files. Rendered text is
cached per (text, math style), so a stem shared by five formats is rendered once.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from quizgen.errors import Diagnostic
from quizgen.formats.notation import number
from quizgen.markdown import MathStyle, render_markdown
from quizgen.model import Concept, Course, QuizSettings
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
    settings: QuizSettings  # how the LMS runs it: its concept's (course.quiz_settings), or the course's

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
             tuple((concept, question) for question in concept.questions), course.quiz_settings(concept))
        for concept in course.concepts if concept.questions
    ]
    everything = Quiz("all-concepts" + suffix, course.title, course.description,
                      tuple(pair for quiz in per_concept for pair in quiz.items), course.quiz)
    return per_concept + [everything]


def show_correct_answers(settings) -> tuple[bool, bool]:
    """QuizSettings.show_correct_answers as (shown at all, only after the last attempt), what Canvas's
    show_correct_answers and show_correct_answers_last_attempt say and QTI's showSolution is read from.
    "After the last attempt" needs a last attempt: with one attempt that is after each attempt (Canvas's
    Quizzes::Quiz#set_defaults also drops the flag below 2 attempts), and unlimited attempts have no last
    one, so the answers are never shown."""
    if settings.show_correct_answers == "after_last_attempt":
        if settings.attempts is None:
            return False, False
        return True, settings.attempts > 1
    return settings.show_correct_answers == "after_each_attempt", False


def stable_id(*parts: str) -> str:
    """An XML-safe id derived from content ids, identical on every export."""
    return "g" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def full_id(concept: Concept, question) -> str:
    return f"{concept.id}#{question.id}"


# --- generated questions as pools -------------------------------------------------------------------
# A generated question (quizgen.variants) is its first variant carrying all of them in `variants`. The LMS
# exports write it as a pool an LMS draws one question from (a Canvas question group, a QTI 2.1 section
# with <selection>, a Moodle category per question); the key and the item bank list every variant. A
# form's question (quizgen.forms) is one drawn variant without a pool: it is written as one question.


def variants(question) -> tuple:
    """The questions the exports write for ``question``: every variant of a generated question, or the
    question alone (a question without parameters, or a form's drawn variant)."""
    return question.variants or (question,)


def variant_id(concept: Concept, question) -> str:
    """The id of one variant, ``concept#question/v<index>``: its number, as the site and the key show it
    ("variant 3 of 5"); a question that is no variant keeps its full id. Every export derives a variant's
    identifiers (Canvas idents, QTI identifiers, labels and file names, Moodle and GIFT idnumbers) from it,
    so a form's drawn variant has the same ones as in the pool."""
    if question.variant is None:
        return full_id(concept, question)
    return f"{full_id(concept, question)}/v{question.variant.index}"


def variant_title(question) -> str:
    """The title under which an export lists a variant, its values after the title ("Tokens (p=8, r=2)"),
    so that an instructor tells a pool's questions apart; a question that is no variant keeps its title."""
    return f"{question.title} ({question.variant.label})" if question.variant else question.title


def unequal_points(concept: Concept, question, lms: str) -> list[Diagnostic]:
    """A warning when the variants of a generated question are worth different points (points= given by a
    formula) in an LMS whose pool gives every question it draws the same points, the question's (its first
    variant's)."""
    points = sorted({variant.points for variant in variants(question)})
    if len(points) < 2:
        return []
    listed = ", ".join(number(value) for value in points)
    return [Diagnostic(concept.path, question.line, f"the variants are worth {listed} points, but {lms} gives every "
                       f"question it draws from a pool the same points: each is worth {number(question.points)} there",
                       "warning")]


def html(text: str, math: MathStyle = "tex", files: Files | None = None) -> str:
    """``files``: where the output serves each image the text shows (see file_urls)."""
    return _html(text, math, files)


def inline_html(text: str, math: MathStyle = "tex", files: Files | None = None) -> str:
    """One-paragraph text (an option, a title) without its <p> wrapper."""
    return _inline_html(text, math, files)


@lru_cache(maxsize=65536)
def _html(text: str, math: MathStyle, files: Files | None) -> str:
    return render_markdown(text, math=math, files=files).strip() if text else ""


@lru_cache(maxsize=65536)
def _inline_html(text: str, math: MathStyle, files: Files | None) -> str:
    return render_markdown(text, math=math, inline=True, files=files).strip() if text else ""


class Files(Mapping):
    """{src as written: URL}, hashable, so that rendered texts stay cached per mapping."""

    def __init__(self, pairs):
        self._urls = dict(pairs)
        self._key = tuple(sorted(self._urls.items()))

    def __getitem__(self, src: str) -> str:
        return self._urls[src]

    def __iter__(self):
        return iter(self._urls)

    def __len__(self) -> int:
        return len(self._urls)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, Files) and self._key == other._key


def file_urls(concept: Concept, url: Callable[[str], str]) -> Files | None:
    """What render_markdown(files=...) needs for ``concept``: each image's src, as its Markdown writes
    it, mapped to ``url(name)``, where the output serves the file the course keeps at ``name`` (its
    path in the content folder, posix, not yet URL-quoted). None for a concept that shows no file."""
    if not concept.files:
        return None
    return Files((file.src, url(file.name)) for file in concept.files)


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

    built = fork_map(build, concept_quizzes, min_work=PARALLEL_MIN_ITEMS,  # an item per variant
                     cost=lambda quiz: sum(len(variants(question)) for _, question in quiz.items))
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
    env.globals.update(stable_id=stable_id, full_id=full_id, correct_answers=correct_answers, unsupported=unsupported,
                       variants=variants, variant_id=variant_id, variant_title=variant_title)
    return env


def compile_templates(format_name: str, env: jinja2.Environment) -> None:
    """Compile the format's own templates (its folder, if it has one) into ``env``'s cache."""
    folder = TEMPLATES_DIR / format_name
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                env.get_template(path.relative_to(folder).as_posix())


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
