"""Every registered question type through every output, and a type no output knows through all of them.

The tests are parametrized by quizgen.questions.TYPES, so registering a type makes each of them ask for
it: a sample question (tests/fixtures/courses/every-type/), then every format in quizgen.formats.DECLARED,
the site's template and its checker in site.js, the notebook's answer cell, check_answers, the grader's
scorer and the Otter tests; and each type as a generated question (two variants) through every format
that pools variants (Canvas, QTI 2.1, Moodle XML, GIFT, the key, the CSV). A throwaway type registered
for one test ("fake", with every field any real type has, so that code reading attributes could write
it as a choice or a critique) shows that each output refuses a type it has no entry for with
UnsupportedQuestionType, instead of writing it as another type or leaving it out.
"""

from __future__ import annotations

import io
import re
import zipfile
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

import pytest

from quizgen.errors import QuizgenError
from quizgen.formats import DECLARED, get_format
from quizgen.formats.common import full_id, stable_id, variant_id
from quizgen.grade.scoring import score_questions
from quizgen.loader import load_course
from quizgen.notebooks.checks import check_answers, chosen_letters
from quizgen.notebooks.questions import answer_format, question_cells, reference_answer
from quizgen.formats.otter import quiz_tests
from quizgen.questions import TYPES, UnsupportedQuestionType, question_type
from quizgen.questions.base import Option, QuestionAttrs, QuestionBody, QuestionType, Variant, body_texts
from quizgen.questions.critique import Criterion
from quizgen.site.pages import ASSETS_DIR
from paths import FIXTURES

EVERY_TYPE = FIXTURES / "courses" / "every-type"
COURSE = load_course(EVERY_TYPE)
(CONCEPT,) = COURSE.concepts
SAMPLES = {}
for _question in CONCEPT.questions:
    SAMPLES.setdefault(_question.type, _question)


def sample(name: str):
    assert name in SAMPLES, f"add a question of type {name!r} to {EVERY_TYPE}/every-type.md"
    return SAMPLES[name]


def course_of(question):
    """The every-type course with this one question."""
    concept = CONCEPT.model_copy(update={"questions": (question,)})
    return COURSE.model_copy(update={"concepts": (concept,)})


def written_text(folder: Path) -> str:
    """Every file under ``folder`` as text, the members of zips included, each headed by its path."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                parts += [f"== {path.name}/{name}\n{archive.read(name).decode()}" for name in archive.namelist()]
        elif path.is_file() and path.suffix not in (".png", ".woff2", ".svg", ".js", ".css"):
            parts.append(f"== {path.relative_to(folder)}\n{path.read_text(encoding='utf-8')}")
    return "\n".join(parts)


def write(format_name: str, question, folder: Path) -> str:
    folder.mkdir(parents=True)
    get_format(format_name).write(course_of(question), {}, folder)
    return written_text(folder)


# How to find a question in each format's output: its id, as the format writes it. None: the format
# does not carry the question (the critique export carries the questions a person grades).
def _marker(format_name: str, question) -> str | None:
    qid, full = question.id, full_id(CONCEPT, question)
    rubric = question_type(question).graded == "rubric"
    markers = {
        "site": f'id="q-{qid}"',
        "canvas": f'<item ident="{stable_id("item", full)}"',
        "qti21": f'label="{full}"',
        "moodle": f"<idnumber>{full}</idnumber>",
        "gift": f"// {full}\n",
        "key": f"`{full}`",
        "csv": f"{full},",
        "critique": f"== {CONCEPT.id}/{qid}/grader.md" if rubric else None,
        "notebooks": f"ANSWERS[{qid!r}]",
        "otter": f"ANSWERS[{qid!r}]",
    }
    assert format_name in markers, f"say here how to find a question in the output of the new format {format_name!r}"
    return markers[format_name]


def test_every_type_has_a_sample_and_the_samples_load_as_their_type():
    assert sorted(SAMPLES) == sorted(TYPES)
    for name, question in SAMPLES.items():
        assert isinstance(question, TYPES[name].model)


@pytest.mark.parametrize("format_name", [entry.name for entry in DECLARED])
@pytest.mark.parametrize("type_name", list(TYPES))
def test_every_format_writes_every_type(type_name, format_name, tmp_path):
    question = sample(type_name)
    text = write(format_name, question, tmp_path / format_name)
    marker = _marker(format_name, question)
    if marker is None:
        assert f"{question.id}" not in text, f"{format_name} does not carry {type_name} questions"
    else:
        assert marker in text, f"the {format_name} output has no {type_name} question"


# The formats that write every variant of a generated question (the others see its first variant), and how
# to find one variant, and its pool, in each.
def _variant_markers(format_name: str, question, variant) -> list[str]:
    vid, qid, index = variant_id(CONCEPT, variant), question.id, variant.variant.index
    markers = {
        "canvas": [f'<item ident="{stable_id("item", vid)}"', "<selection_number>1</selection_number>",
                   f'<section ident="{stable_id("group", full_id(CONCEPT, question))}"'],
        "qti21": [f'label="{vid}"', f'href="../items/{CONCEPT.id}/{qid}.v{index}.xml"', '<selection select="1"/>'],
        "moodle": [f"<idnumber>{vid}</idnumber>", f"/{qid}</text>"],
        "gift": [f"// {vid}\n", f"/{qid}\n"],
        "key": [f'id="{CONCEPT.id}--{qid}--v{index}"'],
        "csv": [f",{index},{len(question.variants)},{variant.variant.label}\n"],
    }
    return markers[format_name]


def generated_sample(name: str):
    """The type's sample as a generated question of two variants (quizgen.variants' shape: the first
    variant carrying both), their stems told apart by the value."""
    question = sample(name)
    pool = tuple(question.model_copy(update={
        "stem": f"{question.stem} (case {k})", "variant": Variant(index=k, count=2, values={"k": k}, label=f"k={k}")})
        for k in (1, 2))
    return pool[0].model_copy(update={"variants": pool})


@pytest.mark.parametrize("format_name", ["canvas", "qti21", "moodle", "gift", "key", "csv"])
@pytest.mark.parametrize("type_name", list(TYPES))
def test_every_pooling_format_writes_every_variant_of_every_type(type_name, format_name, tmp_path):
    question = generated_sample(type_name)
    text = write(format_name, question, tmp_path / format_name)
    for variant in question.variants:
        for marker in _variant_markers(format_name, question, variant):
            assert marker in text, f"the {format_name} output lacks {marker!r} of a generated {type_name} question"
        if format_name != "key":  # the key shows the first variant in full, then each one's answer
            assert f"(case {variant.variant.index})" in text, f"{format_name} lacks the stem of {variant.variant.label}"


def test_the_exports_agree_on_each_types_answer_as_its_record_gives_it(tmp_path):
    """correct_answers comes from the type's record; the CSV and the key write it for every type."""
    for name, question in SAMPLES.items():
        answers = TYPES[name].correct_answers(question)
        if TYPES[name].graded == "rubric":
            assert answers == []
            continue
        assert answers, f"{name}: an auto-graded type gives its correct answer"
        csv_text = write("csv", question, tmp_path / name / "csv")
        assert " | ".join(answers) in csv_text
        key_text = write("key", question, tmp_path / name / "key")
        assert all(answer in key_text for answer in answers), f"the key lacks the answer of the {name} question"


# --- the site: a template per type, and site.js checks what each form says it is ----------------------


def site_js_handlers() -> tuple[set[str], set[str]]:
    """The form types site.js has a checker for, and those its restore() puts a saved answer back into."""
    script = (ASSETS_DIR / "site.js").read_text(encoding="utf-8")
    table = script[script.index("var checkers = {"):script.index("\n  };", script.index("var checkers = {"))]
    checkers = set(re.findall(r'^    "?([\w-]+)"?: function', table, re.M))
    checkers |= set(re.findall(r"^\s*checkers\.(\w+) = checkers\.\w+;", script, re.M))
    restore = script[script.index("function restore(form, entry)"):script.index("function resetForm(form)")]
    restored = set(re.findall(r'type === "([\w-]+)"', restore))
    return checkers, restored


def test_the_site_js_reader_finds_the_checkers_and_restorers_site_js_has():
    forms = {"choice", "multi", "truefalse", "numeric", "short", "critique-text", "critique"}
    assert site_js_handlers() == (forms, forms)


@pytest.mark.parametrize("type_name", list(TYPES))
def test_site_js_checks_and_restores_every_form_each_type_shows(type_name, tmp_path):
    question = sample(type_name)
    write("site", question, tmp_path / "site")
    page = (tmp_path / "site" / "concepts" / f"{CONCEPT.id}.html").read_text(encoding="utf-8")
    kinds = re.findall(r'<form class="quiz[^"]*" data-type="([\w-]+)"', page)
    assert kinds, f"a {type_name} question shows no answer form"
    checkers, restored = site_js_handlers()
    for kind in kinds:
        assert kind in checkers, f"site.js has no checker for data-type={kind!r} ({type_name} questions)"
        assert kind in restored, f"site.js restore() does not put back a saved answer to a {kind!r} form"
    label = TYPES[type_name].label
    assert f'<p class="qmeta">{label} ·' in page


# --- notebooks, their format check, the grader and Otter ------------------------------------------------


def auto_graded_samples():
    return [name for name in TYPES if TYPES[name].graded == "auto"]


def rubric_samples():
    return [name for name in TYPES if TYPES[name].graded == "rubric"]


@pytest.mark.parametrize("type_name", list(TYPES))
def test_every_type_has_a_notebook_question_and_answer_cell(type_name):
    question = sample(type_name)
    markdown, answer = question_cells([question])
    assert markdown.source.startswith(f"### Question 1: {question.title}") and question.stem.strip() in markdown.source
    assert answer.source.startswith(f"ANSWERS[{question.id!r}] = None  # ")
    assert answer.reference.startswith(f"ANSWERS[{question.id!r}] = {reference_answer(question)!r}  # ")


def checked(answers: dict, formats: dict) -> str:
    printed = io.StringIO()
    with redirect_stdout(printed):
        check_answers(answers, formats)
    return printed.getvalue()


@pytest.mark.parametrize("type_name", auto_graded_samples())
def test_check_answers_knows_every_auto_graded_types_format(type_name):
    question = sample(type_name)
    formats = {question.id: answer_format(question)}
    assert "all public checks pass" in checked({question.id: reference_answer(question)}, formats)
    assert "1 public check(s) fail" in checked({question.id: {"not": "an answer"}}, formats)
    assert f"{question.id}: not answered yet" in checked({}, formats)


@pytest.mark.parametrize("type_name", rubric_samples())
def test_a_type_a_person_grades_has_no_answer_format_to_check(type_name):
    with pytest.raises(UnsupportedQuestionType, match="graded by a person"):
        answer_format(sample(type_name))


def test_check_answers_refuses_a_format_it_does_not_know():
    with pytest.raises(QuizgenError, match="answer format 'fake:AB'"):
        checked({"q": "A"}, {"q": "fake:AB"})


def scored(question, value):
    plan = SimpleNamespace(questions=[question])
    (item,) = score_questions(plan, SimpleNamespace(variables={"ANSWERS": {question.id: value}}))
    return item


@pytest.mark.parametrize("type_name", list(TYPES))
def test_the_grader_scores_every_type(type_name):
    question = sample(type_name)
    item = scored(question, reference_answer(question))
    if TYPES[type_name].graded == "auto":
        assert (item.points, item.earned) == (question.points, question.points), item.feedback
        assert scored(question, {"not": "an answer"}).earned == 0
    else:
        assert (item.points, item.earned) == (0, 0) and "your instructor grades it" in item.feedback[0]


def run_otter_test(source: str, answers: dict) -> bool:
    namespace: dict = {}
    exec(compile(source, "otter-test", "exec"), namespace)  # noqa: S102 - the test quizgen wrote
    test = next(value for name, value in namespace.items() if name.startswith("test_"))
    try:
        test(answers)
    except Exception:  # noqa: BLE001 - Otter counts any exception as a failed test
        return False
    return True


@pytest.mark.parametrize("type_name", auto_graded_samples())
def test_otter_tests_every_auto_graded_type(type_name):
    question = sample(type_name)
    tests = quiz_tests(question, float(question.points))
    assert any(hidden for *_, hidden in tests) and any(not hidden for *_, hidden in tests)
    for _, source, _, _ in tests:
        assert run_otter_test(source, {question.id: reference_answer(question)}), source
        assert not run_otter_test(source, {}), source


@pytest.mark.parametrize("type_name", rubric_samples())
def test_otter_has_no_test_for_a_type_a_person_grades(type_name):
    with pytest.raises(UnsupportedQuestionType):
        quiz_tests(sample(type_name), 1.0)


# --- a type registered without teaching any output ------------------------------------------------------


class FakeAttrs(QuestionAttrs):
    type: Literal["fake"]
    shuffle: bool = True
    scoring: Literal["partial", "all-or-nothing"] = "partial"


class FakeQuestion(FakeAttrs, QuestionBody):
    """Every field a real type has: whatever an output reads off a choice, a numeric or a critique, it finds."""

    options: tuple[Option, ...]
    accepted: tuple[str, ...]
    answer: float
    tolerance: float | None = None
    relative_tolerance: float | None = None
    unit: str | None = None
    metric: str | None = None
    task: str
    rubric: tuple[Criterion, ...]
    exemplar: str

    @property
    def margin(self) -> float:
        return self.tolerance or 0.0

    def score(self, chosen: set[int]) -> float:
        return self.points

    def accepts(self, value) -> bool:
        return True


def fake_question() -> FakeQuestion:
    choice, short, critique = sample("choice"), sample("short"), sample("critique")
    return FakeQuestion(
        id="fake-one", type="fake", points=2, title="A fake question", stem="Which?", explanation="Because.",
        line=1, options=choice.options, accepted=short.accepted, answer=1.5, tolerance=0.5, unit="%",
        task=critique.task, rubric=critique.rubric, exemplar=critique.exemplar,
    )


@pytest.fixture(params=["auto", "rubric"])
def fake(request, monkeypatch) -> FakeQuestion:
    record = QuestionType("fake", FakeAttrs, FakeQuestion, parse=lambda section: None, label="Fake type",
                          graded=request.param, correct_answers=lambda question: ["the fake answer"],
                          texts=body_texts, shuffles_options=False)
    monkeypatch.setitem(TYPES, "fake", record)
    return fake_question()


def test_a_record_must_name_the_type_its_models_declare():
    with pytest.raises(TypeError, match="must declare type: Literal\\['other'\\]"):
        QuestionType("other", FakeAttrs, FakeQuestion, parse=lambda section: None, label="Other", graded="auto",
                     correct_answers=lambda question: [], texts=body_texts, shuffles_options=False)


def what_format_does_with_fake(format_name: str, graded: str) -> str:
    """What each format does with a type it has no entry for: "refuses" (UnsupportedQuestionType), or,
    for the CSV, which writes every type from its record, "writes"; the critique export leaves out an
    auto-graded type (it carries the rubric-graded ones)."""
    if format_name == "csv":
        return "writes"
    if format_name == "critique" and graded == "auto":
        return "leaves out"
    known = {"site", "canvas", "qti21", "moodle", "gift", "key", "critique", "notebooks", "otter"}
    assert format_name in known, f"say here what the new format {format_name!r} does with an unknown type"
    return "refuses"


@pytest.mark.parametrize("format_name", [entry.name for entry in DECLARED])
def test_a_type_no_format_knows_is_refused_by_name_not_written_as_another(format_name, fake, tmp_path):
    expected = what_format_does_with_fake(format_name, question_type(fake).graded)
    if expected == "refuses":
        with pytest.raises(UnsupportedQuestionType, match="'fake'"):
            write(format_name, fake, tmp_path / format_name)
    elif expected == "writes":
        text = write(format_name, fake, tmp_path / format_name)
        assert f"{full_id(CONCEPT, fake)},fake," in text and "the fake answer" in text
    else:
        assert fake.id not in write(format_name, fake, tmp_path / format_name)


def test_a_type_no_output_knows_is_refused_by_the_notebooks_the_grader_and_otter(fake):
    with pytest.raises(UnsupportedQuestionType, match="'fake'"):
        question_cells([fake])
    with pytest.raises(UnsupportedQuestionType, match="'fake'"):
        answer_format(fake)
    with pytest.raises(UnsupportedQuestionType, match="'fake'"):
        quiz_tests(fake, 2.0)
    if question_type(fake).graded == "auto":
        with pytest.raises(UnsupportedQuestionType, match="'fake'"):
            scored(fake, "A")
    else:
        assert scored(fake, "A").earned == 0 and "your instructor grades it" in scored(fake, "A").feedback[0]


def test_an_unregistered_type_is_refused_everywhere_it_is_looked_up(tmp_path):
    question = fake_question()  # not in TYPES
    with pytest.raises(UnsupportedQuestionType, match="'fake' is not a question type"):
        question_type(question)
    with pytest.raises(UnsupportedQuestionType, match="'fake'"):
        write("csv", question, tmp_path / "csv")
    with pytest.raises(UnsupportedQuestionType, match="'fake'"):
        scored(question, "A")


# --- option names past Z: lists of names, not strings of characters -------------------------------------


def many_options_course(tmp_path: Path, kind: str, right: tuple[int, ...]):
    options = "\n".join(f"- [{'x' if i in right else ' '}] Option {i + 1}" for i in range(28))
    tmp_path.mkdir()
    (tmp_path / "c.md").write_text(f"---\nid: c\ntitle: C\n---\nText.\n\n## Questions\n\n{{#q type={kind}}}\n"
                                   f"### Q\nWhich?\n\n{options}\n\n#### Explanation\nSo.\n", encoding="utf-8")
    return load_course(tmp_path).concepts[0].questions[0]


def test_up_to_26_options_the_answer_format_is_a_run_of_letters():
    assert answer_format(sample("choice")) == "choice:AB"
    assert answer_format(sample("multi")) == "multi:ABC"
    assert reference_answer(sample("multi")) == "AC"


def test_past_z_answer_formats_and_answers_are_lists_of_names(tmp_path):
    multi = many_options_course(tmp_path / "multi", "multi", (2, 27))
    form = answer_format(multi)
    assert form.startswith("multi:A,B,C,") and form.endswith(",Z,AA,AB")
    assert reference_answer(multi) == "C, AB"
    assert chosen_letters("C, AB", ["A", "B", "C", "AB"]) == ["C", "AB"]
    assert chosen_letters("AB", ["A", "B", "AB"]) == ["AB"]
    assert chosen_letters("a c", list("ABC")) == ["A", "C"] and chosen_letters("AC", list("ABC")) == ["A", "C"]
    assert "all public checks pass" in checked({multi.id: "C, AB"}, {multi.id: form})
    assert "all public checks pass" in checked({multi.id: ["ab", "C"]}, {multi.id: form})
    assert "1 public check(s) fail" in checked({multi.id: "C, AC"}, {multi.id: form})
    assert scored(multi, "C, AB").earned == multi.points
    assert scored(multi, ["AB"]).earned == multi.points / 2
    for _, source, _, _ in quiz_tests(multi, 1.0):
        assert run_otter_test(source, {multi.id: "AB, C"}), source
    choice = many_options_course(tmp_path / "choice", "choice", (27,))
    assert answer_format(choice).endswith(",AA,AB") and reference_answer(choice) == "AB"
    assert "all public checks pass" in checked({choice.id: "ab"}, {choice.id: answer_format(choice)})
    assert "1 public check(s) fail" in checked({choice.id: "A,B"}, {choice.id: answer_format(choice)})


def test_a_choice_answer_is_one_letter_not_a_run_of_them():
    question = sample("choice")
    assert "1 public check(s) fail" in checked({question.id: "AB"}, {question.id: answer_format(question)})
    assert "1 public check(s) fail" in checked({question.id: " "}, {question.id: answer_format(question)})


def test_a_multi_answer_with_separators_passes_the_check_as_the_grader_scores_it():
    question = sample("multi")
    assert "all public checks pass" in checked({question.id: "A, C"}, {question.id: answer_format(question)})
    assert scored(question, "A, C").earned == question.points
    assert "1 public check(s) fail" in checked({question.id: ""}, {question.id: answer_format(question)})
    assert scored(question, "").earned == 0
