"""Each export scores the course's rules as its LMS would (issue 16): the multi rule (ticking every option,
or none, earns nothing) in QTI 2.1, Moodle XML and GIFT, which let quizgen set it, Canvas's own fixed rule
as docs/exports.md states it, and the short answers written differently that each format can accept.

The scorers here are ports of what each consumer does: QTI 2.1's mapResponse with the mapping's bounds
and patternMatch (an XML Schema pattern, checked by libxml2's own schema engine), Moodle's
qtype_multichoice_multi_question::grade_response and qtype_shortanswer's compare_string_with_wildcard,
Canvas's MultipleAnswersQuestion / UserAnswer#score and ShortAnswerQuestion#matching_answer."""

from __future__ import annotations

import re
import shutil
import zipfile
from itertools import combinations

import pytest
from lxml import etree

import readers
from quizgen.build import build
from quizgen.loader import load_course
from quizgen.formats.moodle import MOODLE_FRACTIONS
from paths import FIXTURES, ROOT

SCORING = FIXTURES / "courses" / "scoring"
QTI21 = readers.QTI21
QTI12 = readers.QTI12
needs_node = pytest.mark.skipif(not (ROOT / "node_modules" / "gift-pegjs").is_dir() or not shutil.which("node"),
                                reason="gift-pegjs is not installed: run `make test-setup`")

# Right answers written differently (issue 16) and what each literal-matching LMS must accept of them.
SHORT_RESPONSES = {
    "forgetting-name": ["Catastrophic forgetting.", "catastrophic forgetting", "CATASTROPHIC INTERFERENCE."],
    "mle-name": ["maximum likelihood estimation (MLE)", "Maximum likelihood principle", "MLE."],
    "loss-name": ["NLL loss", "next token cross entropy", "categorical cross-entropy", "Cross-entropy."],
}
WRONG_RESPONSES = {"forgetting-name": ["forgetting"], "mle-name": ["likelihood"], "loss-name": ["cross-entropy (MSE)"]}
# What the full rule also accepts, which a literal-matching LMS cannot (docs/exports.md).
RULE_ONLY = {"loss-name": ["next-token cross entropy!", "  NLL   loss  "], "mle-name": ["maximum likelihood, estimation"]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("scoring")
    report = build(SCORING, out, ["canvas", "qti21", "moodle", "gift"])
    return report, out / "export"


@pytest.fixture(scope="module")
def course():
    return load_course(SCORING)


def multi_questions(course):
    return {question.id: question for _, question in course.questions if question.type == "multi"}


def every_choice(count: int):
    for size in range(count + 1):
        yield from (set(chosen) for chosen in combinations(range(count), size))


def choices_to_try(question):
    """Every way of ticking a small question's options; for a large one, none, all, the right ones and
    each single option."""
    count = len(question.options)
    if count <= 6:
        return list(every_choice(count))
    right = {i for i, option in enumerate(question.options) if option.correct}
    return [set(), set(range(count)), right, *({i} for i in range(count))]


# --- QTI 2.1 -------------------------------------------------------------------------------------------


def qti21_items(export) -> dict:
    with zipfile.ZipFile(export / "qti21" / "all-concepts.zip") as archive:
        return {item.get("label").split("#")[1]: item for item in
                (etree.fromstring(archive.read(name)) for name in archive.namelist() if name.startswith("items/"))}


def qti21_score(item, chosen_ids: list[str]) -> float:
    """SCORE after the item's responseProcessing, for a multiple response (a list of choice identifiers):
    mapResponse (the mapped values of the distinct chosen keys summed, then bounded), or match against the
    correct response; an empty response is NULL and sets nothing (SCORE keeps its default 0)."""
    declaration = item.find(f"{QTI21}responseDeclaration")
    processing = item.find(f"{QTI21}responseProcessing")
    if not chosen_ids:
        return 0.0
    if processing.find(f".//{QTI21}mapResponse") is not None:
        mapping = declaration.find(f"{QTI21}mapping")
        values = {e.get("mapKey"): float(e.get("mappedValue")) for e in mapping.findall(f"{QTI21}mapEntry")}
        total = sum(values.get(key, float(mapping.get("defaultValue", 0))) for key in set(chosen_ids))
        return min(float(mapping.get("upperBound", "inf")), max(float(mapping.get("lowerBound", "-inf")), total))
    correct = {v.text for v in declaration.find(f"{QTI21}correctResponse").findall(f"{QTI21}value")}
    value = processing.find(f".//{QTI21}setOutcomeValue/{QTI21}baseValue")
    return float(value.text) if set(chosen_ids) == correct else 0.0


def xsd_pattern_matches(pattern: str, text: str) -> bool:
    """patternMatch: whether ``text`` matches the XML Schema regular expression ``pattern`` (libxml2's)."""
    document = etree.fromstring(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="v"><xs:simpleType>'
        '<xs:restriction base="xs:string"><xs:pattern/></xs:restriction></xs:simpleType></xs:element></xs:schema>')
    document.find(".//{http://www.w3.org/2001/XMLSchema}pattern").set("value", pattern)
    schema = etree.XMLSchema(document)
    value = etree.Element("v")
    value.text = text
    return schema.validate(value)


def test_qti21_multi_mapping_gives_nothing_for_every_option_or_none(exported, course):
    items = qti21_items(exported[1])
    for question_id, question in multi_questions(course).items():
        item = items[question_id]
        ids = [c.get("identifier") for c in item.iter(f"{QTI21}simpleChoice")]
        assert qti21_score(item, ids) == pytest.approx(0, abs=1e-12), question_id
        assert qti21_score(item, []) == 0, question_id
        for chosen in choices_to_try(question):
            assert qti21_score(item, [ids[i] for i in chosen]) == pytest.approx(question.score(chosen)), (question_id, chosen)


def test_qti21_short_answers_match_by_the_course_rule(exported, course):
    items = qti21_items(exported[1])
    for question_id, responses in SHORT_RESPONSES.items():
        question = course.concept("scoring").question(question_id)
        pattern = items[question_id].find(f".//{QTI21}patternMatch").get("pattern")
        for response in responses + RULE_ONLY.get(question_id, []) + WRONG_RESPONSES[question_id]:
            assert xsd_pattern_matches(pattern, response) == question.accepts(response), response
        assert all(xsd_pattern_matches(pattern, answer) for answer in question.accepted)


# --- Moodle XML and GIFT -------------------------------------------------------------------------------


# Moodle's listed fractions have 7 decimals (33.33333 %): a sum is within this of the exact one, and Moodle
# grades a fraction below 0.000001 as wrong and above 0.999999 as right (graded_state_for_fraction).
MOODLE_SLACK = 1e-6


def moodle_multi_score(fractions: list[float], chosen: set[int], points: float) -> float:
    """qtype_multichoice_multi_question::grade_response: the chosen answers' fractions summed, kept
    within 0 and 1 (a blank response is not gradable: the attempt scores 0)."""
    if not chosen:
        return 0.0
    return points * min(1.0, max(0.0, sum(fractions[i] for i in chosen)))


def moodle_shortanswer_accepts(answers: list[str], response: str) -> bool:
    """qtype_shortanswer_question::compare_string_with_wildcard with usecase 0, for each answer."""
    for answer in answers:
        bits = [re.escape(bit.replace("\\*", "*")) for bit in re.split(r"(?<!\\)\*+", answer)]
        if re.fullmatch(".*".join(bits), response.strip(), flags=re.IGNORECASE):
            return True
    return False


def moodle_listed(fraction: float) -> bool:
    """match_grade_options(..., 'error'): a fraction within 1e-5 of one of Moodle's grade options."""
    return any(abs(abs(fraction) - value) < 1e-5 for value in (0.0, *MOODLE_FRACTIONS))


def test_moodle_multi_fractions_are_listed_and_give_nothing_for_every_option_or_none(exported, course):
    questions = readers.etree.parse(str(exported[1] / "moodle" / "questions.xml")).getroot()
    by_id = {q.findtext("idnumber").split("#")[1]: q for q in questions.iter("question") if q.get("type") != "category"}
    for question_id, question in multi_questions(course).items():
        fractions = [float(a.get("fraction")) / 100 for a in by_id[question_id].findall("answer")]
        assert all(moodle_listed(f) for f in fractions), (question_id, fractions)
        every = set(range(len(fractions)))
        assert moodle_multi_score(fractions, every, 1) < MOODLE_SLACK, question_id  # graded wrong, shown as 0
        assert moodle_multi_score(fractions, set(), 1) == 0, question_id
        right = {i for i, option in enumerate(question.options) if option.correct}
        assert moodle_multi_score(fractions, right, 1) > 1 - MOODLE_SLACK, question_id  # graded right
        assert abs(sum(f for f in fractions if f > 0) - 1) < 0.005  # qtype_multichoice's check on import
        if question.scoring == "partial" and question_id != "many-options":
            for chosen in choices_to_try(question):
                assert moodle_multi_score(fractions, chosen, question.points) == pytest.approx(
                    question.score(chosen), abs=MOODLE_SLACK * question.points), (question_id, chosen)


def test_moodle_rounds_fractions_past_ten_options_and_says_so(exported):
    report, _ = exported
    warned = [w for w in report.warnings if "Moodle's listed grade fractions" in w.message]
    assert len(warned) == 1 and warned[0].line > 0 and str(warned[0].path).endswith("scoring.md")


def test_moodle_short_answers_accept_the_forms_learners_type(exported, course):
    questions = readers.etree.parse(str(exported[1] / "moodle" / "questions.xml")).getroot()
    by_id = {q.findtext("idnumber").split("#")[1]: q for q in questions.iter("question") if q.get("type") != "category"}
    for question_id, responses in SHORT_RESPONSES.items():
        answers = [a.findtext("text") for a in by_id[question_id].findall("answer")]
        for response in responses:
            assert moodle_shortanswer_accepts(answers, response), (question_id, response)
        for response in WRONG_RESPONSES[question_id]:
            assert not moodle_shortanswer_accepts(answers, response), (question_id, response)


@needs_node
def test_gift_weights_give_nothing_for_every_option_or_none(exported, course):
    parsed = [q for q in readers.parse_gift(exported[1] / "gift" / "questions.gift.txt") if q["type"] != "Category"]
    by_id = dict(zip([q.id for _, q in course.questions], parsed))
    for question_id, question in multi_questions(course).items():
        fractions = [(choice["weight"] or 0) / 100 for choice in by_id[question_id]["choices"]]
        assert all(moodle_listed(f) for f in fractions)
        assert moodle_multi_score(fractions, set(range(len(fractions))), 1) < MOODLE_SLACK, question_id
        assert moodle_multi_score(fractions, set(), 1) == 0, question_id
        right = {i for i, option in enumerate(question.options) if option.correct}
        assert moodle_multi_score(fractions, right, 1) > 1 - MOODLE_SLACK, question_id
    for question_id, responses in SHORT_RESPONSES.items():
        answers = [choice["text"]["text"] for choice in by_id[question_id]["choices"]]
        assert all(moodle_shortanswer_accepts(answers, response) for response in responses), question_id


# --- Canvas ---------------------------------------------------------------------------------------------


def canvas_items(export, course) -> dict:
    ids = readers.item_ids(course)
    root = readers.canvas_assessment(export / "canvas" / "all-concepts.zip")
    return {ids[item.get("ident")].split("#")[1]: item for item in root.iter(f"{QTI12}item")}


def canvas_multiple_answers_score(correct: list[bool], chosen: set[int], points: float) -> float | None:
    """Canvas's MultipleAnswersQuestion#correct_answer_parts and UserAnswer#score (no incorrect_dock): each
    right option chosen earns points/R, each wrong one chosen costs points/R, floored at 0; nothing
    chosen is no answer (nil: 0 points)."""
    if not chosen:
        return 0.0
    right = sum(correct)
    right_chosen = sum(1 for i in chosen if correct[i])
    wrong_chosen = len(chosen) - right_chosen
    return max(0.0, right_chosen / right * points - wrong_chosen / right * points)


def test_canvas_keeps_its_own_multi_rule_as_the_docs_say(exported, course):
    """Canvas fixes its partial credit (docs/exports.md): ticking nothing earns 0; ticking everything
    earns (R - W)/R of the points where right options outnumber wrong ones, else 0."""
    items = canvas_items(exported[1], course)
    for question_id, question in multi_questions(course).items():
        kind = next(f.findtext(f"{QTI12}fieldentry") for f in items[question_id].iter(f"{QTI12}qtimetadatafield")
                    if f.findtext(f"{QTI12}fieldlabel") == "question_type")
        assert kind == "multiple_answers_question"
        if question.scoring != "partial":
            continue
        correct = [option.correct for option in question.options]
        right, wrong = sum(correct), len(correct) - sum(correct)
        assert canvas_multiple_answers_score(correct, set(), question.points) == 0
        every = canvas_multiple_answers_score(correct, set(range(len(correct))), question.points)
        assert every == pytest.approx(max(0, (right - wrong) / right) * question.points)
    assert canvas_multiple_answers_score([True, True, True, False], {0, 1, 2, 3}, 2) == pytest.approx(4 / 3)


def test_canvas_short_answers_accept_the_forms_learners_type(exported, course):
    items = canvas_items(exported[1], course)
    for question_id, responses in SHORT_RESPONSES.items():
        answers = [v.text for v in items[question_id].iter(f"{QTI12}varequal")]

        def accepts(response):  # ShortAnswerQuestion#matching_answer: stripped, lower-cased, equal
            return any(answer.strip().lower() == response.strip().lower() for answer in answers)

        assert all(accepts(response) for response in responses), question_id
        assert not any(accepts(response) for response in WRONG_RESPONSES[question_id]), question_id
