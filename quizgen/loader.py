"""Content folder -> Course. Every problem becomes a Diagnostic with the line it concerns.

Read top to bottom: decode the file, parse the front matter (YAML, with a line per key), cut the
Markdown into explanation and question sections, let each question type parse its section, then
check what spans files (duplicate ids, links, cycles, the labs and claims named). All problems are
raised together. Every command that reads a course (check, build, export, serve, verify, grade)
loads it here, so they all refuse the same things.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from markdown_it.token import Token
from pydantic import ValidationError

from quizgen.attributes import AttributeSyntaxError, parse_attribute_line
from quizgen.errors import ContentError, DiagnosticList, QuizgenError
from quizgen.markdown import images_of, structure_parser
from quizgen.model import Concept, Course, CourseInfo, FrontMatter, LocalFile, QuizSettings
from quizgen.parallel import fork_map
from quizgen.questions import TYPES
from quizgen.questions.base import Block, QuestionSection, Subsection, describe_validation_error
from quizgen.variants import display, expand, formula_attributes, has_parameters

COURSE_FILE = "course.yml"
QUESTIONS_HEADING = "questions"
PARALLEL_MIN_FILES = 48  # below this, starting worker processes costs more than it saves
# Libraries whose behaviour shapes a parsed file; their versions are part of every parse-cache key.
PARSER_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "pydantic", "PyYAML")
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class LoadedFile:
    """A concept and where its front-matter values sit, for checks that span files.

    ``concept`` is None when the front matter was fine but the rest of the file was not: its id
    still exists, so links to it are not reported as unknown on top of the file's own errors.
    """

    id: str
    path: str
    concept: Concept | None
    id_line: int
    link_lines: dict[tuple[str, int], int] = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)


def load_course(content_dir: str | Path, cache: ParseCache | None = None,
                labs: Mapping[str, Collection[str]] | None = None,
                warm_up: Callable[[], object] | None = None) -> Course:
    """Load and validate a content folder; raise ContentError with every problem found.

    With a ``cache``, files whose bytes were parsed before are not parsed again (anything with the
    ParseCache methods key, get and put will do). ``labs`` maps each lab a concept may name to its
    claims; by default the course's labs are read (course.yml's `labs`, else the labs shipped with
    quizgen: see quizgen.lab.runner), only when a concept names one. ``warm_up`` (imports of what the
    caller does next) is called while other processes parse, if any do (fork_map's ``meanwhile``).
    """
    content_dir = Path(content_dir)
    diagnostics = DiagnosticList()
    loaded = []

    def warm_up_all():
        if labs is None:  # what check_labs imports when a concept names a lab
            import quizgen.lab.runner
            import quizgen.notebooks.recipe  # noqa: F401
        if warm_up is not None:
            warm_up()

    for result, file_diagnostics in load_files(concept_files(content_dir), cache, warm_up_all):
        diagnostics.items.extend(file_diagnostics)
        if result is not None:
            loaded.append(result)
    check_course(loaded, diagnostics)
    info = load_course_info(content_dir, diagnostics)
    labs_folder = course_labs(content_dir, info, diagnostics)
    check_labs(loaded, labs, labs_folder, diagnostics)
    root = content_dir.resolve()
    concepts = tuple(resolve_files(item, root, diagnostics) for item in loaded if item.concept is not None)
    if diagnostics.errors:
        raise ContentError(diagnostics.items)
    return Course(
        title=info.title if info else root.name,
        description=info.description if info else "",
        labs=labs_folder,
        folder=root,
        quiz=info.quiz if info else QuizSettings(),
        concepts=concepts,
    )


def course_labs(content_dir: Path, info: CourseInfo | None, diagnostics: DiagnosticList) -> Path | None:
    """The folder named by course.yml's `labs`, resolved; None when it names none (or one that is missing)."""
    if info is None or info.labs is None:
        return None
    folder = (content_dir / info.labs).resolve()
    if not folder.is_dir():
        path = content_dir / COURSE_FILE
        line = next((number for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                     if text.startswith("labs:")), 1)
        diagnostics.error(str(path), line, f"labs: {info.labs} is not a folder (looked for {folder})")
        return None
    return folder


def concept_files(content_dir: Path) -> list[Path]:
    return sorted(
        path for path in content_dir.rglob("*.md")
        if not any(part.startswith((".", "_")) for part in path.relative_to(content_dir).parts)
    )


def load_files(paths: list[Path], cache: ParseCache | None = None,
               warm_up: Callable[[], object] | None = None) -> list[tuple[LoadedFile | None, list]]:
    """Load each file (from the cache when its bytes are known), parsing the rest on every core for
    a large course: parsing Markdown is most of the time. ``warm_up``: fork_map's ``meanwhile``."""
    results: dict[Path, tuple] = {}
    keys = {}
    if cache is not None:
        for path in paths:
            keys[path] = cache.key(path)
            hit = cache.get(keys[path])
            if hit is not None:
                results[path] = hit
    todo = [path for path in paths if path not in results]
    parsed = fork_map(_load_one, todo, min_work=PARALLEL_MIN_FILES, meanwhile=warm_up)
    for path, result in zip(todo, parsed):
        results[path] = result
        if cache is not None and keys[path] is not None:
            cache.put(keys[path], result)
    return [results[path] for path in paths]


class ParseCache:
    """Parsed concept files on disk, keyed by the file's bytes, its path, the parser's code and the
    versions of Python and the parsing libraries.

    A key changes whenever anything that could change the result does (the file, how it is named in
    diagnostics, quizgen's parsing code, an upgrade), so an entry is never stale. Entries are pickles
    quizgen wrote itself; an unreadable one counts as a miss. `rm -r` the folder at any time.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.code = _parser_code_digest()

    @classmethod
    def default(cls) -> ParseCache | None:
        """~/.cache/quizgen/parsed (XDG_CACHE_HOME respected), or None when QUIZGEN_NO_CACHE is set."""
        if os.environ.get("QUIZGEN_NO_CACHE"):
            return None
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return cls(Path(base) / "quizgen" / "parsed")

    def key(self, path: Path) -> str | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None  # reported by the loader itself
        return hashlib.sha256(self.code + str(path).encode() + b"\0" + data).hexdigest()

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pickle"

    def get(self, key: str | None):
        if key is None:
            return None
        try:
            return pickle.loads(self._file(key).read_bytes())
        except Exception:  # noqa: BLE001 - missing, truncated or from another Python: parse again
            return None

    def put(self, key: str, result) -> None:
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
            partial.replace(target)
        except OSError:
            pass  # a read-only or full disk only costs speed


def _parser_code_digest() -> bytes:
    """A digest of every module whose code shapes a parsed file and of the libraries' versions, so
    that a code change or an upgrade misses the cache."""
    import json

    import quizgen
    from quizgen import attributes, errors, markdown, model, questions, variants
    from quizgen.versions import library_versions

    digest = hashlib.sha256(quizgen.__version__.encode())
    digest.update(json.dumps(library_versions(PARSER_LIBRARIES), sort_keys=True).encode())
    modules = [attributes, errors, markdown, model, sys.modules[__name__]]
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    for package in (questions, variants):
        for path in sorted(Path(package.__file__).parent.glob("*.py")):
            digest.update(path.read_bytes())
    return digest.digest()


def _load_one(path: Path) -> tuple[LoadedFile | None, list]:
    diagnostics = DiagnosticList()
    return load_concept_file(path, diagnostics), diagnostics.items


# --- one file -------------------------------------------------------------------------------------


def load_concept_file(path: Path, diagnostics: DiagnosticList) -> LoadedFile | None:
    shown = str(path)
    text = read_text(path, shown, diagnostics)
    if text is None:
        return None
    lines = text.split("\n")
    tokens = structure_parser().parse(text)
    if not tokens or tokens[0].type != "front_matter" or tokens[0].map[0] != 0:
        diagnostics.error(shown, 1, "missing front matter: start the file with '---', then id: and title:, then '---'")
        return None
    yaml_first_line = tokens[0].map[0] + 2
    data, node = parse_yaml(tokens[0].content, shown, yaml_first_line, diagnostics)
    if data is None:
        return None
    if not isinstance(data, dict):
        diagnostics.error(shown, yaml_first_line, "the front matter must be a mapping of fields (id: ..., title: ...)")
        return None
    key_line = _key_lines(node, yaml_first_line)
    front = _validate_front_matter(data, node, yaml_first_line, shown, diagnostics)

    blocks = top_level_blocks(tokens[1:])
    explanation_blocks, question_blocks = split_questions(blocks, shown, diagnostics)
    explanation = _source(lines, explanation_blocks)
    if not explanation:
        line = min(tokens[0].map[1] + 1, len(lines))
        diagnostics.error(shown, line, "the explanation is empty: write it after the front matter")
    questions = parse_questions(question_blocks, lines, shown, diagnostics)

    if front is None:
        return None
    if not explanation or questions is None:
        return LoadedFile(front.id, shown, None, key_line.get("id", 1))
    if not front.lab:
        for question in questions:
            if question.claim:
                diagnostics.error(shown, question.line - 1, f"question '{question.id}' names claim "
                                  f"'{question.claim}' but the concept has no lab: add lab: to the front matter")
    check_objectives(front, questions, shown, diagnostics)
    objectives = tuple(objective.model_copy(update={"line": _yaml_line(node, ("objectives", index), yaml_first_line)})
                       for index, objective in enumerate(front.objectives))
    # quiz stays the model it is: its fields_set says which settings the concept overrides.
    concept = Concept(**front.model_dump(exclude={"quiz", "objectives"}), objectives=objectives, quiz=front.quiz,
                      explanation=explanation,
                      questions=tuple(questions), path=shown,
                      files=linked_files(text, lines))
    link_lines = {
        (name, index): _yaml_line(node, (name, index), yaml_first_line)
        for name in ("related", "learn_after")
        for index in range(len(getattr(front, name)))
    }
    return LoadedFile(front.id, shown, concept, key_line.get("id", 1), link_lines, key_line)


def check_objectives(front, questions, shown: str, diagnostics: DiagnosticList) -> None:
    """Each objective= a question names must be one of its concept's objectives (quizgen.lint warns on the
    objectives no question assesses, and on untagged questions)."""
    known = [objective.id for objective in front.objectives]
    for question in questions:
        for objective_id in question.objective:
            if objective_id not in known:
                listed = f"its objectives are {', '.join(known)}" if known else "the concept declares no objectives:"
                diagnostics.error(shown, question.line - 1, f"question '{question.id}' names the unknown objective "
                                  f"'{objective_id}' ({listed}{'' if known else ' add objectives: to the front matter'})")


MAX_FILE_BYTES = 20 * 2**20  # an image every export copies (Moodle XML in base64) and every form repeats


def linked_files(text: str, lines: list[str]) -> tuple[LocalFile, ...]:
    """The local files (images) the file's Markdown shows, each at the line that writes it; their
    names in the content folder are found, and checked, by resolve_files (not cached: files change)."""
    found = []
    for image, (first, last) in images_of(text):
        src = image.attrGet("src")
        written = (src, unquote(src))
        line = next((n for n in range(first, last) if any(form in lines[n] for form in written)), first) + 1
        found.append(LocalFile(src=src, name="", line=line, alt=image.content))
    return tuple(found)


def resolve_files(item: LoadedFile, root: Path, diagnostics: DiagnosticList) -> Concept:
    """The concept with each LocalFile named by its path in the content folder; a file that is missing,
    a folder or outside the content folder is an error at its line."""
    concept = item.concept
    if not concept.files:
        return concept
    resolved = []
    for file in concept.files:
        relative = unquote(urlsplit(file.src).path)
        target = (Path(item.path).parent / relative).resolve()
        if not target.is_relative_to(root):
            diagnostics.error(item.path, file.line, f"image '{relative}' is outside the course folder {root}: "
                              "keep the files a course shows inside it")
        elif not target.is_file():
            what = ("is a folder, not a file" if target.is_dir() else
                    "is not a regular file" if target.exists() else "does not exist")
            diagnostics.error(item.path, file.line, f"image '{relative}' {what} (looked for {target})")
        elif (size := target.stat().st_size) > MAX_FILE_BYTES:
            diagnostics.error(item.path, file.line, f"image '{relative}' is {size / 2**20:.0f} MiB; a file the "
                              f"course shows may be at most {MAX_FILE_BYTES // 2**20} MiB (every export carries it)")
        else:
            resolved.append(file.model_copy(update={"name": target.relative_to(root).as_posix()}))
    return concept.model_copy(update={"files": tuple(resolved)})


def read_text(path: Path, shown: str, diagnostics: DiagnosticList) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        diagnostics.error(shown, 1, f"cannot read the file: {exc.strerror}")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diagnostics.error(shown, line, f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x} cannot be decoded); "
                                       "save it with UTF-8 encoding")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_yaml(text: str, shown: str, first_line: int, diagnostics: DiagnosticList):
    """(data, node) of a YAML document; (None, None) after reporting malformed YAML at its line."""
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        diagnostics.error(shown, line, f"malformed YAML: {exc.problem or exc.context}")
        return None, None
    except yaml.reader.ReaderError as exc:
        line = first_line + text[: exc.position].count("\n")
        diagnostics.error(shown, line, f"malformed YAML: control character #x{exc.character:04x} is not allowed")
        return None, None
    except yaml.YAMLError as exc:
        diagnostics.error(shown, first_line, "malformed YAML: " + " ".join(str(exc).split()))
        return None, None
    finally:
        loader.dispose()
    if data is None:
        diagnostics.error(shown, first_line, "the YAML is empty: it needs at least id: and title:")
        return None, None
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, _value in node.value:
            line = first_line + key.start_mark.line
            if key.value in seen:
                diagnostics.error(shown, line, f"duplicate field '{key.value}' (first on line {seen[key.value]})")
            seen.setdefault(key.value, line)
    return data, node


def _key_lines(node: yaml.Node, first_line: int) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): first_line + key.start_mark.line for key, _ in node.value}


def _yaml_line(node: yaml.Node, loc: tuple, first_line: int) -> int:
    """The line of the YAML value at ``loc`` (a pydantic error location), or its nearest parent's."""
    line = first_line + node.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                break
            line = first_line + match[0].start_mark.line
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = first_line + node.start_mark.line
        else:
            break
    return line


def _validate_front_matter(data, node, first_line, shown, diagnostics) -> FrontMatter | None:
    try:
        return FrontMatter.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            line = first_line - 1 if error["type"] == "missing" else _yaml_line(node, error["loc"], first_line)
            diagnostics.error(shown, line, describe_validation_error(error, FrontMatter))
        return None


# --- Markdown structure ---------------------------------------------------------------------------


def top_level_blocks(tokens: list[Token]) -> list[Block]:
    blocks, current, depth = [], [], 0
    for token in tokens:
        current.append(token)
        depth += token.nesting
        if depth == 0:
            blocks.append(Block(current))
            current = []
    return blocks


def _heading(block: Block, tag: str) -> str | None:
    """The heading's text on one line if ``block`` is a heading of level ``tag`` (h2, h3, h4).

    A paragraph underlined with '---' is a heading too (setext), so the text may span lines.
    """
    if block.type == "heading" and block.tokens[0].tag == tag:
        return " ".join(block.tokens[1].content.split())
    return None


def _quoted(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _source(lines: list[str], blocks: list[Block]) -> str:
    if not blocks:
        return ""
    return "\n".join(lines[blocks[0].start : blocks[-1].end]).strip()


def split_questions(blocks, shown, diagnostics):
    """(explanation blocks, question-area blocks): the file is cut at its '## Questions' heading."""
    for index, block in enumerate(blocks):
        if (_heading(block, "h2") or "").casefold() == QUESTIONS_HEADING:
            rest = blocks[index + 1 :]
            for later in rest:
                if _heading(later, "h2") is not None:
                    diagnostics.error(shown, later.start + 1, f"'## {_quoted(_heading(later, 'h2'))}' comes after "
                                      "'## Questions': the questions must be the file's last section")
            return blocks[:index], [b for b in rest if _heading(b, "h2") is None]
    return blocks, []


def attribute_line_above(blocks: list[Block], index: int) -> Block | None:
    """The paragraph written directly above the heading at ``index`` if it looks like ``{...}``."""
    if index == 0:
        return None
    above = blocks[index - 1]
    if above.type != "paragraph" or above.end != blocks[index].start:
        return None
    return above if above.tokens[1].content.rstrip().split("\n")[-1].lstrip().startswith("{") else None


def parse_questions(blocks: list[Block], lines: list[str], shown: str, diagnostics: DiagnosticList):
    """Parse every question section; None if any question has an error (all are reported)."""
    sections: list[QuestionSection] = []
    attribute_blocks = set()
    broken = False
    for index, block in enumerate(blocks):
        title = _heading(block, "h3")
        if title is not None:
            heading_line = block.start + 1
            above = attribute_line_above(blocks, index)
            attrs = read_attribute_line(above, heading_line, shown, diagnostics)
            if above is not None:
                attribute_blocks.add(id(above))
            broken |= attrs is None
            sections.append(QuestionSection(shown, lines, title, heading_line, attrs or {}, heading_line - 1, []))
        elif index + 1 < len(blocks) and attribute_line_above(blocks, index + 1) is block \
                and _heading(blocks[index + 1], "h3") is not None:
            continue  # the attribute line of the next question, read with its heading
        elif not sections:
            diagnostics.error(shown, block.start + 1, "text between '## Questions' and the first question: "
                              "each question starts with an attribute line and a '###' heading")
            broken = True
        elif _heading(block, "h4") is not None:
            name = _heading(block, "h4")
            key = name.casefold()
            if key in sections[-1].subsections:
                diagnostics.error(shown, block.start + 1, f"duplicate section '#### {name}'")
            sections[-1].subsections[key] = Subsection(name, block.start + 1, [])
        elif sections[-1].subsections:
            list(sections[-1].subsections.values())[-1].blocks.append(block)
        else:
            sections[-1].body.append(block)

    questions, seen = [], {}
    for section in sections:
        if not section.attrs:
            continue
        question = parse_question(section)
        diagnostics.items.extend(section.diagnostics.items)
        if question is None:
            broken = True
            continue
        if question.id in seen:
            diagnostics.error(shown, section.attrs_line, f"duplicate question id '{question.id}' "
                              f"(first used on line {seen[question.id]})")
            broken = True
        seen.setdefault(question.id, section.attrs_line)
        questions.append(question)
    return None if broken else questions


def read_attribute_line(block: Block | None, heading_line: int, shown: str, diagnostics: DiagnosticList):
    """The attributes above a question heading, or None after reporting what is wrong with them."""
    if block is None:
        diagnostics.error(shown, heading_line, "a question needs an attribute line directly above its "
                          "heading, like {#question-id type=choice}")
        return None
    text = block.tokens[1].content.strip()
    if "\n" in text:
        diagnostics.error(shown, heading_line - 1, "leave a blank line above the attribute line")
        return None
    try:
        return parse_attribute_line(text)
    except AttributeSyntaxError as exc:
        diagnostics.error(shown, heading_line - 1, f"malformed attribute line: {exc}")
        return None


def parse_question(section: QuestionSection):
    kind = section.attrs.get("type")
    if kind is None:
        section.error(section.attrs_line, f"the attribute line needs a type: one of {', '.join(TYPES)}")
        return None
    if kind not in TYPES:
        section.error(section.attrs_line, f"unknown question type '{kind}' (expected one of {', '.join(TYPES)})")
        return None
    if "id" not in section.attrs:
        section.error(section.attrs_line, "the question needs an id: start the attribute line with {#question-id ...")
        return None
    if has_parameters(section):
        return expand(section, TYPES[kind].parse)
    formulas = formula_attributes(section.attrs)
    if formulas:
        key = next(iter(formulas))
        section.error(section.attrs_line, f"{key}= is a formula ('= {formulas[key]}'): a question with formulas "
                      "needs a '#### Parameters' section")
        return None
    return TYPES[kind].parse(section)


# --- checks that span files -----------------------------------------------------------------------


def check_course(loaded: list[LoadedFile], diagnostics: DiagnosticList) -> None:
    by_id: dict[str, LoadedFile] = {}
    for item in loaded:
        if item.id in by_id:
            first = by_id[item.id]
            diagnostics.error(item.path, item.id_line, f"duplicate concept id '{item.id}' "
                              f"(also in {first.path}:{first.id_line})")
        by_id.setdefault(item.id, item)
    for item in loaded:
        if item.concept is not None:
            check_links(item, by_id, diagnostics)
    check_cycles(loaded, by_id, diagnostics)


def check_labs(loaded: list[LoadedFile], labs: Mapping[str, Collection[str]] | None, folder: Path | None,
               diagnostics: DiagnosticList) -> None:
    """Each concept's lab must exist in ``folder`` (None: the shipped labs) and load whole (its lab,
    notebook recipe and exercises), and each claim a question names must be one its lab declares."""
    named = [item for item in loaded if item.concept is not None and item.concept.lab]
    if not named:
        return
    if labs is None:
        from quizgen.lab.runner import discover, labs_dir

        try:
            specs = discover(folder)
            for spec in {specs[item.concept.lab] for item in named if item.concept.lab in specs}:
                spec.validate()
        except QuizgenError as error:  # a lab file that does not even import, a recipe naming no exercise
            diagnostics.items.extend(error.diagnostics)
            return
        labs = {lab_id: [claim.name for claim in spec.claims] for lab_id, spec in specs.items()}
        grids = {lab_id: spec.grids for lab_id, spec in specs.items()}
        known = ", ".join(sorted(labs)) or f"none in {labs_dir(folder)}"
    else:
        grids = {}
        known = ", ".join(sorted(labs)) or "none"
    for item in named:
        concept = item.concept
        if concept.lab not in labs:
            diagnostics.error(item.path, item.field_lines.get("lab", item.id_line), f"concept '{concept.id}' "
                              f"names the unknown lab '{concept.lab}' (labs: {known}).")
            continue
        claims = sorted(labs[concept.lab])
        for question in concept.questions:
            if question.claim and question.claim not in claims:
                diagnostics.error(item.path, question.line, f"question '{question.id}' names the unknown claim "
                                  f"'{question.claim}' (known claims: {', '.join(claims)}).")
            problem = grid_problem(question, concept.lab, grids.get(concept.lab, {}))
            if problem:
                diagnostics.error(item.path, question.line, problem)


def grid_problem(question, lab_id: str, grids: dict[str, dict[str, list]]) -> str | None:
    """What is wrong with a question that reads a lab grid (metric=<grid>.<name>), or None: its parameters
    must be the grid's axes, each value a point of the grid, and the lab gives the answer."""
    grid, _, name = (getattr(question, "metric", None) or "").partition(".")
    if grid not in grids:
        return None
    axes = grids[grid]
    described = "; ".join(f"{axis}: {', '.join(display(v) for v in values)}" for axis, values in axes.items())
    if question.answer is not None:
        return (f"question '{question.id}' reads lab {lab_id}'s grid '{grid}', which measures each variant's answer: "
                "remove answer=")
    if not question.generated:
        return (f"question '{question.id}' reads lab {lab_id}'s grid '{grid}' ({described}): give it the parameters "
                f"{', '.join(axes)} under '#### Parameters'")
    missing = [axis for axis in axes if axis not in question.variant.values]
    if missing:
        return (f"question '{question.id}' reads lab {lab_id}'s grid '{grid}' but has no parameter "
                f"{', '.join(missing)}: a variant must name a point of the grid ({described})")
    for variant in question.variants:
        for axis, values in axes.items():
            value = variant.variant.values[axis]
            if not any(_same_value(value, point) for point in values):
                return (f"question '{question.id}': {axis}={display(value)} is not a point of lab {lab_id}'s grid "
                        f"'{grid}' ({described})")
    return None


def _same_value(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12
    return a == b


def check_links(item: LoadedFile, by_id: dict[str, LoadedFile], diagnostics: DiagnosticList) -> None:
    concept = item.concept
    for name in ("related", "learn_after"):
        for index, link in enumerate(getattr(concept, name)):
            line = item.link_lines[(name, index)]
            target_id, _, question_id = link.partition("#")
            target = by_id.get(target_id)
            if target is None:
                diagnostics.error(concept.path, line, f"{name} names unknown concept '{target_id}'")
            elif question_id and target.concept is not None and target.concept.question(question_id) is None:
                diagnostics.error(concept.path, line, f"{name}: concept '{target_id}' has no question '{question_id}'")
            elif target_id == concept.id and not question_id:
                diagnostics.error(concept.path, line, f"{name}: a concept cannot name itself")


def learn_after_graph(concepts) -> dict[str, list[str]]:
    """Concept id -> concept ids it sends the learner to next (links to its own questions excluded)."""
    graph = {}
    for concept in concepts:
        targets = [link.partition("#")[0] for link in concept.learn_after]
        graph[concept.id] = list(dict.fromkeys(t for t in targets if t != concept.id))
    return graph


def check_cycles(loaded: list[LoadedFile], by_id: dict[str, LoadedFile], diagnostics: DiagnosticList) -> None:
    """Report each learn_after cycle once, at the learn_after line of the concept it returns to."""
    graph = learn_after_graph(item.concept for item in by_id.values() if item.concept is not None)
    done: set[str] = set()
    reported: set[frozenset] = set()
    for root in graph:
        if root in done:
            continue
        # Iterative depth-first search: a long chain of concepts must not hit the recursion limit.
        path, on_path, pending = [root], {root}, [iter(graph[root])]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
                continue
            if target not in graph or target in done:
                continue
            if target in on_path:
                cycle = path[path.index(target):] + [target]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    item = by_id[target]
                    line = item.field_lines.get("learn_after", item.id_line)
                    diagnostics.error(item.path, line, "learn_after forms a cycle: " + " → ".join(cycle))
                continue
            path.append(target)
            on_path.add(target)
            pending.append(iter(graph[target]))


def load_course_info(content_dir: Path, diagnostics: DiagnosticList) -> CourseInfo | None:
    path = content_dir / COURSE_FILE
    if not path.is_file():
        return None
    shown = str(path)
    text = read_text(path, shown, diagnostics)
    if text is None:
        return None
    data, node = parse_yaml(text, shown, 1, diagnostics)
    if data is None:
        return None
    try:
        return CourseInfo.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            line = 1 if error["type"] == "missing" else _yaml_line(node, error["loc"], 1)
            diagnostics.error(shown, line, describe_validation_error(error, CourseInfo))
        return None
