"""The course's scoring rules in Python (issue 16): multi partial credit gives nothing for ticking every
option or none, and short answers accept right answers written differently — in the model, the grader
and the Otter tests alike. The site runs the same rules in tests/site/test_site_scoring.py, the exports
in tests/exports/test_scoring_exports.py."""

from __future__ import annotations

from itertools import combinations

import pytest

from quizgen.formats.otter import multi_partial_tests, short_answer_test
from quizgen.grade import scoring
from quizgen.loader import load_course
from quizgen.notebooks.questions import letters
from quizgen.questions.multi import option_fractions, partial_score
from quizgen.questions.short import answer_matches, literal_forms, normalize_answer
from paths import FIXTURES

SCORING = FIXTURES / "courses" / "scoring"

# The answers the review found rejected (issue 16), each with the accepted answer it means.
MEANT = {
    "forgetting-name": ["Catastrophic forgetting.", "catastrophic-forgetting", "  CATASTROPHIC   forgetting!"],
    "mle-name": ["maximum likelihood estimation (MLE)", "Maximum-likelihood estimation.", "maximum likelihood principle",
                 "MLE (maximum likelihood estimation)"],
    "loss-name": ["NLL loss", "next token cross-entropy", "categorical cross-entropy", "Cross entropy.",
                  "negative log likelihood (NLL)", "next-token cross entropy"],
}
NOT_MEANT = {
    "forgetting-name": ["forgetting", "catastrophic", "catastrophic forgetting (MLE)", "...", ""],
    "mle-name": ["maximum likelihood estimation MLE", "maximum likelihood estimation (MSE)", "likelihood"],
    "loss-name": ["cross-entropy (MSE)", "mean squared error", "cross entropy NLL", "crossentropy"],
}


@pytest.fixture(scope="module")
def course():
    return load_course(SCORING)


def multi_questions(course):
    return [question for _, question in course.questions if question.type == "multi"]


def test_ticking_every_option_or_none_earns_nothing(course):
    questions = multi_questions(course) + multi_questions(load_course(FIXTURES / "courses" / "full"))
    assert len(questions) >= 6
    for question in questions:
        every = set(range(len(question.options)))
        right = {index for index, option in enumerate(question.options) if option.correct}
        assert question.score(every) == 0, question.id
        assert question.score(set()) == 0, question.id
        assert question.score(right) == pytest.approx(question.points), question.id


def test_partial_credit_is_plus_one_over_r_minus_one_over_w(course):
    question = next(q for q in multi_questions(course) if q.id == "more-right")  # 3 right, 1 wrong, 2 points
    assert question.option_fractions() == pytest.approx((1 / 3, 1 / 3, 1 / 3, -1))
    assert question.score({0}) == pytest.approx(2 / 3)
    assert question.score({0, 1}) == pytest.approx(4 / 3)
    assert question.score({0, 1, 3}) == 0  # once 2 × (2 - 1) / 3: a guess of everything but one right option
    question = next(q for q in multi_questions(course) if q.id == "more-wrong")  # 2 right, 3 wrong, 1 point
    assert question.score({0, 2}) == pytest.approx(1 / 2 - 1 / 3)
    assert question.score({0, 1, 2}) == pytest.approx(2 / 3)
    assert question.score({0, 2, 3, 4}) == 0
    exact = next(q for q in multi_questions(course) if q.id == "exact")
    assert exact.score({0, 1}) == exact.points and exact.score({0}) == 0 and exact.score({0, 1, 2}) == 0


def test_the_rule_over_every_choice_of_options():
    for correct in ([True, False], [True, True, False], [True, False, False, False], [True, True, False, False, False]):
        fractions = option_fractions(correct)
        assert sum(f for f in fractions if f > 0) == pytest.approx(1) and sum(fractions) == pytest.approx(0)
        for size in range(len(correct) + 1):
            for chosen in combinations(range(len(correct)), size):
                expected = max(0.0, sum(fractions[i] for i in chosen))
                assert partial_score(correct, set(chosen)) == pytest.approx(expected)
                assert 0 <= partial_score(correct, set(chosen)) <= 1


def test_a_multi_question_without_a_wrong_option_is_an_error_at_its_line():
    expected = (FIXTURES / "bad" / "multi-no-wrong" / "expected").read_text()
    assert expected.startswith("concept.md:11: a multi question needs at least one wrong option")


class Plan:
    def __init__(self, questions):
        self.questions = questions


class Outcome:
    def __init__(self, answers):
        self.variables = {"ANSWERS": answers}


def test_the_grader_gives_nothing_for_every_letter_or_none_and_accepts_what_the_key_means(course):
    questions = [q for _, q in course.questions]
    answers = {}
    for question in multi_questions(course):
        answers[question.id] = "".join(letters(question))
    items = {item.id: item for item in scoring.score_questions(Plan(questions), Outcome(answers))}
    for question in multi_questions(course):
        assert items[f"question:{question.id}"].earned == 0, question.id
    for value in ("", [], " , "):
        items = scoring.score_questions(Plan(questions), Outcome({q.id: value for q in multi_questions(course)}))
        assert all(item.earned == 0 for item in items if item.id.startswith("question:") and item.points), value
    right = {q.id: [letter for letter, option in zip(letters(q), q.options) if option.correct]
             for q in multi_questions(course)}
    items = {item.id: item for item in scoring.score_questions(Plan(questions), Outcome(right))}
    assert all(items[f"question:{q.id}"].earned == q.points for q in multi_questions(course))
    for question_id, responses in MEANT.items():
        for response in responses:
            items = {i.id: i for i in scoring.score_questions(Plan(questions), Outcome({question_id: response}))}
            assert items[f"question:{question_id}"].earned == 1, response
    for question_id, responses in NOT_MEANT.items():
        for response in responses:
            items = {i.id: i for i in scoring.score_questions(Plan(questions), Outcome({question_id: response}))}
            assert items[f"question:{question_id}"].earned == 0, response


def test_short_answers_written_differently_are_accepted(course):
    for question_id, responses in MEANT.items():
        question = course.concept("scoring").question(question_id)
        for response in responses:
            assert question.accepts(response), response
        for response in NOT_MEANT[question_id]:
            assert not question.accepts(response), response


@pytest.mark.parametrize(("text", "normal"), [
    ("Catastrophic  Forgetting.", "catastrophic forgetting"),
    ("next-token cross–entropy", "next token cross entropy"),
    ("maximum likelihood estimation (MLE)", "maximum likelihood estimation mle"),
    ("“NLL”; loss?", "nll loss"),
    ("0.5", "0.5"), ("1,000", "1,000"), ("0.5.", "0.5"), ("e.g. 2", "e g 2"),
    ("p(x|y)", "p x|y"), ("a+b", "a+b"), ("ﬁne-tuning", "fine tuning"),
])
def test_normalisation(text, normal):
    assert normalize_answer(text) == normal


def test_literal_forms_for_lmss_that_match_literally():
    forms = literal_forms(["maximum likelihood estimation", "MLE", "next-token cross-entropy", "NLL",
                           "negative log-likelihood"])
    for form in ("maximum likelihood estimation", "maximum likelihood estimation.", "maximum likelihood estimation (MLE)",
                 "next token cross entropy", "next-token cross-entropy.", "negative log-likelihood (NLL)", "MLE."):
        assert form in forms
    assert "next-token cross-entropy (MLE)" not in forms  # a gloss only where the initials are the abbreviation
    accepted = ["maximum likelihood estimation", "MLE", "next-token cross-entropy", "NLL", "negative log-likelihood"]
    assert all(answer_matches(form, accepted) for form in forms)  # every form is one the rule accepts
    assert len({form.lower() for form in forms}) == len(forms)


def test_otter_tests_follow_the_course_rules(course):
    """The Otter tests' code, run as Otter runs it (each hidden test passing or raising), gives the same
    points as the model for every way of ticking a multi question and for the short answers above."""
    for question in multi_questions(course):
        if question.scoring != "partial" or len(question.options) > 8:
            continue
        names = letters(question)
        right = {letter for letter, option in zip(names, question.options) if option.correct}
        tests = multi_partial_tests("q", "set(ANSWERS['q'])", right, len(names))
        for size in range(len(names) + 1):
            for chosen in combinations(range(len(names)), size):
                passed = 0
                for _, code, _, _ in tests:
                    namespace = {}
                    exec(code, namespace)
                    try:
                        namespace[next(k for k in namespace if k.startswith("test_"))]({"q": [names[i] for i in chosen]})
                        passed += 1
                    except AssertionError:
                        pass
                assert question.points * passed / len(tests) == pytest.approx(question.score(set(chosen))), chosen
    for question_id, responses in {**MEANT, **NOT_MEANT}.items():
        question = course.concept("scoring").question(question_id)
        namespace = {}
        exec(short_answer_test("q", question_id, question.accepted), namespace)
        for response in responses:
            try:
                namespace["test_q_correct"]({question_id: response})
                passed = True
            except AssertionError:
                passed = False
            assert passed == question.accepts(response), response
