"""What every question type shares: its attribute line, its parsed section, and its body fields."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Iterable, Iterator, Literal, get_args

from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from quizgen.errors import DiagnosticList

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
MarkdownText = Annotated[str, StringConstraints(min_length=1)]
METRIC_PATTERN = r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$"


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# Bloom's revised taxonomy (Anderson & Krathwohl, 2001), lowest to highest, and a question's difficulty.
LEVELS = ("remember", "understand", "apply", "analyze", "evaluate", "create")
DIFFICULTIES = ("easy", "medium", "hard")
Level = Literal[LEVELS]
Difficulty = Literal[DIFFICULTIES]


class QuestionAttrs(Strict):
    """The attribute line above a question's heading: ``{#id type=... points=...}``."""

    id: Slug = Field(description="The question's slug, unique within its concept.")
    type: str
    points: float = Field(1, gt=0, description="Points the question is worth.")
    claim: Slug | None = Field(None, description="The lab claim that backs the answer.")
    objective: tuple[Slug, ...] = Field((), description="The id(s) of the concept's learning objectives the question "
                                        "assesses, comma-separated: objective=explain-init,diagnose-forgetting.")
    level: Level | None = Field(None, description="The cognitive level it asks for (Bloom's revised taxonomy).")
    difficulty: Difficulty | None = Field(None, description="How hard it is for the learners it is written for.")

    @field_validator("objective", mode="before", json_schema_input_type=str | tuple[Slug, ...])
    @classmethod
    def _objective_list(cls, value):
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(","))
        return value


class Variant(Strict):
    """Which variant of a generated question this is (quizgen.variants): its parameters' values."""

    index: int = Field(ge=1, description="1 … count, in the order the parameters' values combine.")
    count: int = Field(ge=1)
    values: dict[str, float | str] = Field(description="Each parameter's value in this variant.")
    label: str = Field(description="The values as the question shows them: 'p=8, r=2'.")
    # For a variant whose answer a lab measured (quizgen.variants.measured): each seed's measurement.
    seeds: tuple[int, ...] = ()
    measured: tuple[float, ...] = ()


class QuestionBody(Strict):
    """Fields every question gets from its section's Markdown."""

    title: MarkdownText
    stem: MarkdownText
    explanation: MarkdownText
    line: int = Field(description="Line of the question's heading in its file.")
    # A generated question (a '#### Parameters' section) is its first variant, which carries every variant
    # (itself included) in `variants`; each variant says which it is in `variant`.
    variant: Variant | None = None
    variants: tuple[QuestionBody, ...] = Field((), description="Every variant of a generated question.")

    @property
    def generated(self) -> bool:
        return bool(self.variants)


class Option(Strict):
    text: MarkdownText
    correct: bool
    feedback: str | None = None
    misconception: Slug | None = None
    line: int


# --- the record of a type: what every output looks up ---------------------------------------------


@dataclass(frozen=True)
class QuestionType:
    """What quizgen knows about a question type apart from how each output writes it.

    Each module in quizgen/questions/ defines one as ``TYPE``; quizgen.questions.TYPES lists them, and
    every output looks a question's type up there (or in its own table, see ``for_type``).
    """

    name: str  # the type= value authors write
    attrs: type[QuestionAttrs]  # its attribute line (`quizgen schema` shows it)
    model: type[QuestionBody]  # the parsed question
    parse: Callable[[QuestionSection], Any]  # its section -> the model, or None with diagnostics
    label: str  # how the site names the type to learners
    # auto: scored from the key (LMS imports, `quizgen grade`, Otter tests, the notebook's format check);
    # rubric: a person scores it against a rubric (the critique export writes their prompts).
    graded: Literal["auto", "rubric"]
    correct_answers: Callable[[Any], list[str]]  # the key as text, what every output agrees on; [] for rubric
    texts: Callable[[Any], Iterable[str]]  # every Markdown text of a question (the site looks for math in them)
    shuffles_options: bool  # whether forms shuffle its options (unless the question says shuffle=false)

    def __post_init__(self):
        for model in (self.attrs, self.model):
            if get_args(model.model_fields["type"].annotation) != (self.name,):
                raise TypeError(f"question type {self.name!r}: {model.__name__} must declare "
                                f"type: Literal[{self.name!r}]")


def body_texts(question) -> Iterator[str]:
    """The Markdown texts every question has."""
    yield question.title
    yield question.stem
    yield question.explanation


def option_texts(question) -> Iterator[str]:
    """The texts of a question with options: its body, then each option and its feedback."""
    yield from body_texts(question)
    for option in question.options:
        yield option.text
        yield option.feedback or ""


def option_answers(question) -> list[str]:
    """The text of every correct option."""
    return [option.text for option in question.options if option.correct]


# --- the parsed Markdown of one question, handed to the type's parse() ----------------------------


@dataclass
class Block:
    """One top-level Markdown block: its tokens and its 0-based line span."""

    tokens: list[Token]

    @property
    def type(self) -> str:
        return self.tokens[0].type.removesuffix("_open")

    @property
    def start(self) -> int:
        return self.tokens[0].map[0]

    @property
    def end(self) -> int:
        return self.tokens[0].map[1]


@dataclass
class Subsection:
    name: str
    line: int
    blocks: list[Block]


@dataclass
class QuestionSection:
    """A question as the loader found it: ``{attrs}`` + ``### title`` + blocks + ``#### sections``."""

    path: str
    lines: list[str]
    title: str
    heading_line: int
    attrs: dict[str, Any]
    attrs_line: int
    body: list[Block]
    subsections: dict[str, Subsection] = field(default_factory=dict)
    diagnostics: DiagnosticList = field(default_factory=DiagnosticList)

    def error(self, line: int, message: str) -> None:
        self.diagnostics.error(self.path, line, message)

    def markdown(self, blocks: list[Block]) -> str:
        """The source text of consecutive blocks, blank lines between them kept."""
        if not blocks:
            return ""
        return "\n".join(self.lines[blocks[0].start : blocks[-1].end]).strip()

    def section_text(self, name: str, required: bool = True) -> str:
        sub = self.subsections.get(name)
        if sub is None:
            if required:
                self.error(self.heading_line, f"missing '#### {name.capitalize()}' section")
            return ""
        text = self.markdown(sub.blocks)
        if not text and required:
            self.error(sub.line, f"the '#### {sub.name}' section is empty")
        return text


# --- building validated models with diagnostics ---------------------------------------------------


def describe_validation_error(error: dict[str, Any], model: type[BaseModel] | None = None, noun: str = "field") -> str:
    """One plain sentence for a pydantic error; unknown names get a 'did you mean' from ``model``."""
    where = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"missing required {noun} '{where}'"
    if kind == "extra_forbidden":
        known = [name for name in (model.model_fields if model else ()) if name not in ("line",)]
        close = difflib.get_close_matches(where, known, n=1, cutoff=0.6)
        return f"unknown {noun} '{where}'" + (f" (did you mean '{close[0]}'?)" if close else "")
    if kind in ("tuple_type", "list_type"):
        return f"{where}: should be a list, like [first, second]"
    if kind == "string_pattern_mismatch":
        return f"{where}: {error['input']!r} is not a slug (lowercase letters, digits and hyphens)"
    if kind == "value_error":
        message = str(error["ctx"]["error"])
        return f"{where}: {message}" if where else message
    if kind == "literal_error":
        return f"{where}: {error['input']!r} is not one of {error['ctx']['expected']}"
    message = error["msg"]
    return f"{where}: {message[0].lower()}{message[1:]}"


def validate(model: type[Strict], data: dict[str, Any], section: QuestionSection, default_line: int,
             noun: str = "field"):
    """Build ``model`` from ``data``, reporting each error at the line of what it concerns.

    An error inside a list of dicts carrying a ``line`` (options, rubric rows) points at that line.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            section.error(_line_of(data, error["loc"], default_line), describe_validation_error(error, model, noun))
        return None


def _line_of(data: Any, loc: tuple, default_line: int) -> int:
    line = default_line
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(data, dict) and isinstance(data.get("line"), int):
            line = data["line"]
    return line


def build_question(
    section: QuestionSection,
    attrs_model: type[QuestionAttrs],
    question_model: type[Strict],
    stem_blocks: list[Block],
    fields: dict[str, Any],
    model_error_line: int | None = None,
):
    """Validate the attribute line, then the whole question; None when anything is wrong.

    ``model_error_line`` is where errors about the question as a whole are reported (default: heading).
    """
    attrs = validate(attrs_model, section.attrs, section, section.attrs_line, noun="attribute")
    stem = section.markdown(stem_blocks)
    if not stem:
        section.error(section.heading_line, "the question has no stem: write it below the heading")
    explanation = section.section_text("explanation")
    if attrs is None or section.diagnostics.errors:
        return None
    data = {
        **attrs.model_dump(exclude_unset=False),
        "title": section.title,
        "stem": stem,
        "explanation": explanation,
        "line": section.heading_line,
        **fields,
    }
    return validate(question_model, data, section, model_error_line or section.heading_line)


def check_sections(section: QuestionSection, allowed: tuple[str, ...]) -> None:
    for key, sub in section.subsections.items():
        if key not in allowed:
            expected = ", ".join(f"'#### {name.capitalize()}'" for name in allowed)
            section.error(sub.line, f"unknown section '#### {sub.name}' (this question type has {expected})")


# --- task-list options: "- [x] text {misconception=slug}" with an indented "> feedback" ------------

_CHECKBOX = re.compile(r"^\[([ xX])\]\s+")
_OPTION_ATTRS = re.compile(r"(?<!\\)\{\s*([A-Za-z_][\w-]*\s*=[^{}]*)\}\s*$")
_PAIR = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*("([^"]*)"|\S+)')


def is_task_list(block: Block) -> bool:
    if block.type != "bullet_list" or len(block.tokens) < 3:
        return False
    first_inline = next((t for t in block.tokens if t.type == "inline"), None)
    return first_inline is not None and bool(_CHECKBOX.match(first_inline.content))


def split_options(section: QuestionSection) -> tuple[list[Block], Block | None]:
    """Split the body into stem blocks and the options list (the first task list)."""
    for index, block in enumerate(section.body):
        if is_task_list(block):
            for extra in section.body[index + 1 :]:
                section.error(
                    extra.start + 1,
                    "text after the options: put it in the stem (above the options) or in '#### Explanation'",
                )
            return section.body[:index], block
    return section.body, None


def _items(block: Block) -> list[list[Token]]:
    """The tokens of each top-level item of a list block."""
    items, current, depth = [], None, 0
    for token in block.tokens[1:-1]:
        if token.type == "list_item_open" and depth == 0:
            current = []
        if token.nesting == 1:
            depth += 1
        if current is not None:
            current.append(token)
        if token.nesting == -1:
            depth -= 1
            if depth == 0 and token.type == "list_item_close":
                items.append(current)
                current = None
    return items


def parse_options(section: QuestionSection, block: Block) -> list[dict[str, Any]]:
    """Options as plain dicts (validated later by the type's model); problems go to diagnostics."""
    options = []
    for item in _items(block):
        line = item[0].map[0] + 1
        inner = item[1:-1]
        if not inner or inner[0].type != "paragraph_open":
            section.error(line, "an option must start with its text after '[ ]' or '[x]'")
            continue
        match = _CHECKBOX.match(inner[1].content)
        if not match:
            section.error(line, "every option needs a checkbox: '- [x]' for correct, '- [ ]' for wrong")
            continue
        text = inner[1].content[match.end() :].strip()
        option: dict[str, Any] = {"correct": match.group(1) != " ", "line": line}
        attrs = _OPTION_ATTRS.search(text)
        if attrs:
            text = text[: attrs.start()].rstrip()
            for key, raw, quoted in _PAIR.findall(attrs.group(1)):
                if key != "misconception":
                    section.error(line, f"unknown option attribute '{key}' (options take misconception=slug)")
                    continue
                option["misconception"] = quoted or raw
        option["text"] = text
        rest = inner[3:]  # after paragraph_open, inline, paragraph_close
        if rest:
            if rest[0].type == "blockquote_open" and rest[-1].type == "blockquote_close" and _single_block(rest):
                option["feedback"] = _unquote(section.lines[rest[0].map[0] : rest[0].map[1]])
            else:
                section.error(rest[0].map[0] + 1 if rest[0].map else line,
                              "only a '>' feedback quote may follow an option's text")
        options.append(option)
    return options


def _single_block(tokens: list[Token]) -> bool:
    depth = 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0 and index != len(tokens) - 1:
            return False
    return True


def _unquote(lines: list[str]) -> str:
    stripped = []
    for line in lines:
        line = line.lstrip()
        if line.startswith(">"):
            line = line[1:]
            if line.startswith(" "):
                line = line[1:]
        stripped.append(line)
    return "\n".join(stripped).strip()


def check_option_texts(section: QuestionSection, options: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for option in options:
        text = option.get("text", "")
        if text in seen:
            section.error(option["line"], f"duplicate option text (same as the option on line {seen[text]})")
        else:
            seen[text] = option["line"]
