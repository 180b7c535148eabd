"""Generated questions: a question with a ``#### Parameters`` section is written once and loaded as one
variant per combination of its parameters' values, each a complete question of its type.

    {#masked-share type=numeric answer="= r / (p + r)" tolerance=0.001}
    ### Tokens that carry the loss
    A training example has {p} prompt tokens and {r} response tokens. …

    #### Parameters
    - p: 8, 12, 16
    - r: 2 to 10 step 4

- ``{name}`` in any text of the question (stem, options, feedback, explanation, accepted answers, rubric)
  is the parameter's value as written; ``{= formula}`` is a computed value (``expressions``).
- An attribute written ``"= formula"`` (``answer``, ``tolerance``, ``points`` …) is computed per variant
  (to ATTRIBUTE_DIGITS significant digits).
- A placeholder is a brace group that does not follow a letter, digit, ``\\``, ``^``, ``_`` or ``}``, so
  TeX's ``\\frac{a}{b}`` and ``x^{2}`` are never read as one.

The loader (``expand``) parses the question once with the first variant's attribute values, then fills
every text of the parsed question for each variant and validates it as the same type: what each type
checks (one correct option, a valid tolerance) holds for every variant. It reports, at ``path:line``, an
unknown placeholder, a parameter without values, a formula that does not parse or that fails on some
variant (naming it), and variants that collapse: two options equal, or two variants the same question.

The first variant is the question every output sees by default; it carries all of them in ``variants``
(each with its ``variant``: index, count, values), for the outputs that hand out or pool variants.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from quizgen.formats.notation import number
from quizgen.questions.base import QuestionSection, Variant
from quizgen.variants.expressions import CONSTANTS, FUNCTIONS, Formula, FormulaError, compile_formula

SECTION = "parameters"
MAX_VARIANTS = 200  # per question: every export carries each of them
# A computed attribute (an answer, a tolerance) keeps this many significant digits: far finer than any
# tolerance, and the LMS exports write 0.4285714286, not the float's 0.42857142857142855.
ATTRIBUTE_DIGITS = 10
FORMULA_PREFIX = "="

# {name} or {= formula}, not after a letter, digit, backslash, ^, _ or } (TeX groups).
PLACEHOLDER = re.compile(r"(?<![\w\\^}])\{(?:(?P<name>[A-Za-z_]\w*)|=(?P<formula>[^{}\n]*))\}")
_PARAMETER_LINE = re.compile(r"^\s*[-*+]\s+(?P<name>[^:]*?)\s*:\s*(?P<values>.*?)\s*$")
_RANGE = re.compile(r"^(?P<start>\S+)\s+to\s+(?P<end>\S+)(?:\s+step\s+(?P<step>\S+))?$")
_LIST_ITEM = re.compile(r'\s*(?:"(?P<text>[^"]*)"|(?P<bare>[^,"]+?))\s*(?:,|$)')
_NAME = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Parameter:
    name: str
    values: tuple[float | str, ...]
    shown: tuple[str, ...]  # each value as the question's text shows it
    line: int


def display(value: float | str) -> str:
    """A computed value as a question shows it: six significant digits at most, no exponent."""
    if isinstance(value, str):
        return value
    return number(float(f"{value:.6g}"))


def has_parameters(section: QuestionSection) -> bool:
    return SECTION in section.subsections


def formula_attributes(attrs: dict[str, Any]) -> dict[str, str]:
    """{attribute: formula} for the attribute values written ``"= formula"``."""
    return {key: value.strip()[len(FORMULA_PREFIX):].strip() for key, value in attrs.items()
            if isinstance(value, str) and value.strip().startswith(FORMULA_PREFIX) and key not in ("id", "type")}


def expand(section: QuestionSection, parse: Callable[[QuestionSection], Any]):
    """The question of ``section`` with its variants, or None after reporting what is wrong."""
    subsection = section.subsections.pop(SECTION)
    parameters = parse_parameters(section, subsection)
    if parameters is None:
        return None
    names = {parameter.name: parameter for parameter in parameters}
    count = 1
    for parameter in parameters:
        count *= len(parameter.values)
    if count > MAX_VARIANTS:
        section.error(subsection.line, f"the parameters make {count} variants (the product of their numbers of "
                      f"values); a question may have at most {MAX_VARIANTS}")
        return None
    combinations = [dict(zip(names, values)) for values in itertools.product(*(p.values for p in parameters))]
    shown = [dict(zip(names, values)) for values in itertools.product(*(p.shown for p in parameters))]

    text_formulas = _check_placeholders(section, subsection, names)
    attribute_formulas = {}
    for key, source in formula_attributes(section.attrs).items():
        try:
            attribute_formulas[key] = compile_formula(source, names)
        except FormulaError as error:
            section.error(section.attrs_line, f"{key}: {error}")
    attribute_values, failures = [], {}
    for index, values in enumerate(combinations):
        evaluated = {}
        for key, formula in attribute_formulas.items():
            try:
                evaluated[key] = float(f"{formula.evaluate(values):.{ATTRIBUTE_DIGITS}g}")
            except FormulaError as error:
                failures.setdefault(key, []).append((index, error))
        attribute_values.append(evaluated)
    for key, failed in failures.items():
        index, error = failed[0]
        more = f" (and {len(failed) - 1} more variant{'s' if len(failed) > 2 else ''})" if len(failed) > 1 else ""
        section.error(section.attrs_line, f"{key}: '{attribute_formulas[key].source}' fails on "
                      f"{_variant_label(index, shown[index], count)}{more}: {error}")
    if section.diagnostics.errors:
        return None

    template = parse(replace(section, attrs=section.attrs | attribute_values[0]))
    if template is None:
        return None
    data = template.model_dump()
    texts = _Texts(data, text_formulas)

    variants, seen = [], {}
    for index, (values, written) in enumerate(zip(combinations, shown)):
        label = _variant_label(index, written, count)
        filled_texts = texts.fill(values, written, section, label)
        if filled_texts is None:
            return None
        same = seen.setdefault((tuple(filled_texts.values()), repr(attribute_values[index])), index)
        if same != index:
            section.error(section.heading_line, f"variants {same + 1} ({_values(shown[same])}) and {index + 1} "
                          f"({_values(written)}) are the same question: a parameter that no text or formula uses "
                          "only repeats the question")
            return None
        filled = _with_paths(data, filled_texts) | attribute_values[index]
        filled["variant"] = Variant(index=index + 1, count=count, values=values, label=_values(written))
        try:
            variant = type(template).model_validate(filled)
        except ValueError as error:
            section.error(section.heading_line, f"{label}: {_first_sentence(error)}")
            return None
        if not _distinct_options(section, variant, label):
            return None
        variants.append(variant)
    return variants[0].model_copy(update={"variants": tuple(variants)})


def parse_parameters(section: QuestionSection, subsection) -> list[Parameter] | None:
    if not subsection.blocks:
        section.error(subsection.line, "the '#### Parameters' section is empty: list each parameter as "
                      "'- name: 1, 2, 3' or '- name: 1 to 10 step 3'")
        return None
    parameters: dict[str, Parameter] = {}
    first, last = subsection.blocks[0].start, subsection.blocks[-1].end
    for number_ in range(first, last):
        text = section.lines[number_]
        if not text.strip():
            continue
        line = number_ + 1
        match = _PARAMETER_LINE.match(text)
        if match is None:
            section.error(line, "write a parameter as '- name: 1, 2, 3' or '- name: 1 to 10 step 3'")
            continue
        name = match.group("name")
        if not _NAME.match(name):
            section.error(line, f"'{name}' is not a parameter name: a letter or _, then letters, digits or _")
            continue
        if name in FUNCTIONS or name in CONSTANTS:
            section.error(line, f"'{name}' is the name of a function or constant of formulas: choose another")
            continue
        if name in parameters:
            section.error(line, f"parameter '{name}' is declared twice (first on line {parameters[name].line})")
            continue
        try:
            values, shown = parse_values(match.group("values"))
        except ValueError as error:
            section.error(line, f"parameter '{name}': {error}")
            continue
        parameters[name] = Parameter(name, values, shown, line)
    if section.diagnostics.errors:
        return None
    return list(parameters.values())


def parse_values(text: str) -> tuple[tuple[float | str, ...], tuple[str, ...]]:
    """The values of one parameter: ``1, 2.5, "text"`` or ``start to end step s`` (inclusive)."""
    if not text:
        raise ValueError("no values: give a list (1, 2, 3) or a range (1 to 10 step 3)")
    ranged = _RANGE.match(text)
    if ranged:
        start, end = _decimal(ranged.group("start")), _decimal(ranged.group("end"))
        step = _decimal(ranged.group("step") or "1")
        if step <= 0:
            raise ValueError(f"the step must be positive, not {ranged.group('step')}")
        if end < start:
            raise ValueError(f"the range ends ({ranged.group('end')}) before it starts ({ranged.group('start')})")
        count = int((end - start) / step) + 1
        if count > MAX_VARIANTS:
            raise ValueError(f"the range has {count} values; at most {MAX_VARIANTS}")
        decimals = [start + step * index for index in range(count)]
        return tuple(float(value) for value in decimals), tuple(number(value) for value in decimals)
    values, shown, position = [], [], 0
    while position < len(text):
        match = _LIST_ITEM.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {text[position:].strip()!r}: separate values with commas and quote "
                             "text (\"GPT-2\")")
        if match.group("text") is not None:
            values.append(match.group("text"))
            shown.append(match.group("text"))
        else:
            bare = match.group("bare").strip()
            values.append(float(_decimal(bare)))
            shown.append(bare)
        position = match.end()
    if len(set(shown)) != len(shown):
        raise ValueError("a value is listed twice")
    return tuple(values), tuple(shown)


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number (quote text values: \"{text}\")") from None
    if not value.is_finite() or abs(value) > Decimal("1e300"):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _values(shown: dict[str, str]) -> str:
    """A variant's values as the question shows them: "p=8, r=2"."""
    return ", ".join(f"{name}={text}" for name, text in shown.items())


def _variant_label(index: int, shown: dict[str, str], count: int) -> str:
    return f"variant {index + 1} of {count} ({_values(shown)})"


def _line_of(section: QuestionSection, needle: str) -> int:
    """The first line of the question that shows ``needle`` (its heading if none does)."""
    for number_ in range(section.attrs_line, len(section.lines)):
        if needle in section.lines[number_]:
            return number_ + 1
    return section.heading_line


def _question_lines(section: QuestionSection, parameters) -> list[tuple[int, str]]:
    """(line number, text) of the question's Markdown: its heading, body and sections but its parameters."""
    blocks = [*section.body, *(block for sub in section.subsections.values() for block in sub.blocks)]
    end = max((block.end for block in blocks), default=section.heading_line)
    skipped = range(parameters.line - 1, parameters.blocks[-1].end if parameters.blocks else parameters.line)
    return [(number_ + 1, section.lines[number_]) for number_ in range(section.heading_line - 1, end)
            if number_ not in skipped]


def _check_placeholders(section: QuestionSection, parameters, names: dict) -> dict[str, Formula]:
    """Every formula the question's texts hold, compiled; unknown names and bad formulas are reported at
    their lines."""
    formulas: dict[str, Formula] = {}
    for line, text in _question_lines(section, parameters):
        for match in PLACEHOLDER.finditer(text):
            if match.group("name") is not None:
                if match.group("name") not in names:
                    section.error(line, f"unknown placeholder {match.group(0)}: the parameters are "
                                  f"{', '.join(names)} (declare it under '#### Parameters')")
                continue
            source = match.group("formula").strip()
            if source not in formulas:
                try:
                    formulas[source] = compile_formula(source, names)
                except FormulaError as error:
                    section.error(line, f"{match.group(0)}: {error}")
    return formulas


class _Texts:
    """The texts of a parsed question that hold placeholders, each split once into its literal parts and
    its placeholders, so that filling them for a variant is a join, not a search."""

    def __init__(self, data, formulas: dict[str, Formula]):
        self.formulas = formulas
        self.texts: dict[tuple, list] = {}  # path in the dumped question -> [str | (name,) | Formula]
        self._collect(data, ())

    def _collect(self, item, path: tuple) -> None:
        if isinstance(item, str):
            if "{" in item and PLACEHOLDER.search(item):
                self.texts[path] = self._parts(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                self._collect(value, (*path, key))
        elif isinstance(item, (list, tuple)):
            for index, value in enumerate(item):
                self._collect(value, (*path, index))

    def _parts(self, text: str) -> list:
        parts, position = [], 0
        for match in PLACEHOLDER.finditer(text):
            parts.append(text[position:match.start()])
            if match.group("name") is not None:
                parts.append((match.group("name"), match.group(0)))
            else:
                source = match.group("formula").strip()
                parts.append((self.formulas.get(source) or source, match.group(0)))
            position = match.end()
        parts.append(text[position:])
        return parts

    def fill(self, values: dict, shown: dict, section: QuestionSection, label: str) -> dict[tuple, str] | None:
        """{path: filled text} for one variant; None after reporting a formula that fails on it."""
        computed: dict[str, str] = {}
        filled, failed = {}, {}
        for path, parts in self.texts.items():
            pieces = []
            for part in parts:
                if isinstance(part, str):
                    pieces.append(part)
                    continue
                item, written = part
                if isinstance(item, str):  # a parameter's name (a formula that did not compile was reported)
                    pieces.append(shown.get(item, written))
                    continue
                if item.source not in computed:
                    try:
                        computed[item.source] = display(item.evaluate(values))
                    except FormulaError as error:
                        failed.setdefault(written, error)
                        computed[item.source] = written
                pieces.append(computed[item.source])
            filled[path] = "".join(pieces)
        for placeholder, error in failed.items():
            section.error(_line_of(section, placeholder), f"{placeholder} fails on {label}: {error}")
        return None if failed else filled


def _with_paths(data: dict, texts: dict[tuple, str]) -> dict:
    """A copy of ``data`` with the text at each path replaced; containers off those paths are shared."""
    copy, copied = dict(data), set()
    for path, text in texts.items():
        container = copy
        for depth, key in enumerate(path[:-1]):
            child = container[key]
            if path[:depth + 1] not in copied:
                child = dict(child) if isinstance(child, dict) else list(child)
                container[key] = child
                copied.add(path[:depth + 1])
            container = child
        container[path[-1]] = text
    return copy


def _distinct_options(section: QuestionSection, question, label: str) -> bool:
    """Whether the variant's options can be told apart: no two with the same text, and no wrong option
    whose number is within CLOSE_OPTIONS of a right one's (a learner who rounds along the way could land
    on either)."""
    seen: dict[str, int] = {}
    options = getattr(question, "options", ())
    for position, option in enumerate(options, 1):
        key = " ".join(option.text.split())
        if key in seen:
            section.error(option.line, f"on {label} options {seen[key]} and {position} are both '{option.text}': "
                          "the variant gives two options the same text")
            return False
        seen[key] = position
    right = [(position, _option_number(option.text)) for position, option in enumerate(options, 1) if option.correct]
    for position, option in enumerate(options, 1):
        value = _option_number(option.text)
        if option.correct or value is None:
            continue
        for right_position, answer in right:
            if answer is not None and abs(value - answer) <= CLOSE_OPTIONS * abs(answer):
                section.error(option.line, f"on {label} option {position} ({option.text}) is within "
                              f"{CLOSE_OPTIONS:.1%} of the right option {right_position} ({options[right_position - 1].text}):"
                              " a learner who rounds along the way cannot tell them apart")
                return False
    return True


CLOSE_OPTIONS = 0.005  # a wrong option this close (relative) to a right one is no distractor: see _distinct_options
_NUMBER_OPTION = re.compile(r"\$?\s*([-+−]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*\$?")


def _option_number(text: str) -> float | None:
    """The number an option is, when it is one (``0.25``, ``$-1.5$``), else None."""
    match = _NUMBER_OPTION.fullmatch(text.strip())
    return float(match.group(1).replace("−", "-")) if match else None


def _first_sentence(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        from quizgen.questions.base import describe_validation_error

        return "; ".join(describe_validation_error(item) for item in errors(include_url=False))
    return str(error)


# --- which variant a learner gets ------------------------------------------------------------------


def learner_index(learner: str, concept_id: str, question_id: str, count: int) -> int:
    """The variant (0-based) of question ``concept_id#question_id`` that ``learner`` gets: a stable hash,
    the same in every build and in the grader, so a personal notebook and its grading agree."""
    digest = hashlib.sha256(f"quizgen-variant\x1f{learner}\x1f{concept_id}#{question_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def learner_variant(question, concept_id: str, learner: str):
    """The variant ``learner`` gets of a question (a question without parameters is itself)."""
    if not question.variants:
        return question
    return question.variants[learner_index(learner, concept_id, question.id, len(question.variants))]


def course_for_learner(course, learner: str):
    """The course as one learner sees it: each generated question replaced by their variant."""
    concepts = tuple(concept.model_copy(update={"questions": tuple(
        learner_variant(question, concept.id, learner) for question in concept.questions)})
        for concept in course.concepts)
    return course.model_copy(update={"concepts": concepts})


# A learner id, as `quizgen grade` reads it from a submission's file name and --learners lists it.
LEARNER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_LEARNERS = 100_000


def read_learners(path) -> list[str]:
    """The learner ids of a roster: one per line (blank lines and lines starting with # skipped); a line
    that is not an id, or an id given twice (ignoring case), raises ContentError at its line."""
    from quizgen.errors import ContentError, DiagnosticList

    diagnostics, learners, seen = DiagnosticList(), [], {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        diagnostics.error(str(path), 1, f"cannot read the list of learners: {getattr(error, 'strerror', None) or error}")
        raise ContentError(diagnostics.items) from None
    for number_, line in enumerate(text.splitlines(), 1):
        learner = line.strip()
        if not learner or learner.startswith("#"):
            continue
        if not LEARNER_ID.fullmatch(learner):
            diagnostics.error(str(path), number_, f"{learner[:60]!r} is not a learner id: a letter or digit, then up "
                              "to 99 letters, digits, '.', '_' or '-' (the name a learner's notebook is handed in under)")
        elif learner.lower() in seen:
            diagnostics.error(str(path), number_, f"learner '{learner}' is listed twice (first on line "
                              f"{seen[learner.lower()]})")
        else:
            seen[learner.lower()] = number_
            learners.append(learner)
        if len(learners) > MAX_LEARNERS:
            diagnostics.error(str(path), number_, f"more than {MAX_LEARNERS:,} learners")
            break
    if diagnostics.errors:
        raise ContentError(diagnostics.items)
    if not learners:
        diagnostics.error(str(path), 1, "the list of learners is empty: write one learner id per line")
        raise ContentError(diagnostics.items)
    return learners
