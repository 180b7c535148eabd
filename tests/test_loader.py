"""The loader turns concept files into the typed Course every output renders from."""

import re
from pathlib import Path

import pytest

from quizgen.loader import load_course
from paths import FIXTURES, ROOT



def test_full_fixture_loads_every_field(full_course):
    assert full_course.title == "Fine-tuning, the full fixture"
    concept = full_course.concept("parameter-initialization")
    assert concept.tags == ("Foundations of Large Language Models", "Computing Sciences")
    assert concept.learn_after == ("parameter-initialization#aggressive-risk", "sft-objective")
    assert concept.lab == "initialization"
    assert concept.difficulty == "intermediate"
    assert concept.explanation.startswith("In fine-tuning, the parameters $\\theta$")
    assert [q.type for q in concept.questions] == ["choice", "multi", "truefalse", "numeric", "short", "critique"]


def test_choice_options_keep_feedback_and_misconceptions(full_course):
    question = full_course.concept("parameter-initialization").question("aggressive-risk")
    assert question.claim == "aggressive-forgets"
    assert question.points == 1
    right, wrong = question.options
    assert right.correct and not wrong.correct
    assert question.correct_option is right
    assert right.text.startswith("The model loses general knowledge")
    assert right.feedback.startswith("Right: large updates overwrite")
    assert wrong.misconception == "cost-confusion"
    assert wrong.text == "Training takes longer than it would with a moderate strategy."
    assert wrong.feedback == "Aggressive settings converge *faster* on a small set; time is not the risk."
    assert "What is the most\nsignificant risk?" in question.stem
    assert question.explanation.startswith("Fine-tuning starts from $\\hat\\theta$")


def test_multi_partial_credit_follows_the_documented_rule(full_course):
    question = full_course.concept("parameter-initialization").question("signs-of-forgetting")
    assert question.points == 2 and question.scoring == "partial"
    assert [o.correct for o in question.options] == [True, True, False]
    assert question.options[0].feedback is None
    assert question.score({0, 1}) == 2
    assert question.score({0}) == 1
    assert question.score({0, 2}) == 0
    assert question.score({0, 1, 2}) == 0  # ticking every option earns nothing
    strict = full_course.concept("ift-vs-pretraining").question("what-differs")
    assert strict.scoring == "all-or-nothing"
    assert strict.score({0}) == 0 and strict.score({0, 1}) == 1


def test_truefalse_numeric_short_and_critique(full_course):
    concept = full_course.concept("parameter-initialization")
    assert concept.question("same-objective").answer is False
    numeric = concept.question("drift")
    assert (numeric.answer, numeric.tolerance, numeric.metric) == (0.05, 0.02, "moderate.relative_drift")
    assert numeric.accepts(0.07) and numeric.accepts(0.03) and not numeric.accepts(0.071)
    relative = full_course.concept("sft-objective").question("nll-of-two")
    assert relative.unit == "nats" and relative.accepts(1.21) and not relative.accepts(1.22)
    short = concept.question("forgetting-name")
    assert short.accepted == ("catastrophic forgetting", "catastrophic interference")
    assert short.accepts("  Catastrophic \t Forgetting ") and not short.accepts("forgetting")
    critique = concept.question("critique-strategy")
    assert critique.points == 6
    assert [c.name for c in critique.rubric] == ["Risk", "Evidence", "Better plan"]
    assert critique.rubric[2].partial == "One of these." and critique.rubric[1].none == "None."
    assert critique.task.startswith("Critique this strategy")
    assert critique.exemplar.startswith("The main risk is catastrophic forgetting")


def test_option_order_and_shuffle_flag(full_course):
    question = full_course.concept("sft-objective").question("masked-tokens")
    assert question.shuffle is False
    assert question.options[0].misconception == "all-tokens"


def test_lines_point_at_question_headings(full_course):
    concept = full_course.concept("parameter-initialization")
    lines = Path(concept.path).read_text(encoding="utf-8").splitlines()
    for question in concept.questions:
        assert lines[question.line - 1] == f"### {question.title}"
        assert lines[question.line - 2].startswith("{#" + question.id + " ")


def test_the_authoring_guide_example_is_the_full_fixture():
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    example = re.search(r"````markdown\n(.*?)````", guide, re.S).group(1)
    assert example == (FIXTURES / "courses" / "full" / "parameter-initialization.md").read_text(encoding="utf-8")


def test_models_are_frozen(full_course):
    with pytest.raises(Exception):
        full_course.concepts[0].title = "changed"


def test_crlf_and_bom_are_accepted(tmp_path):
    text = (FIXTURES / "courses" / "minimal" / "only-concept.md").read_text(encoding="utf-8")
    (tmp_path / "c.md").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    course = load_course(tmp_path)
    assert course.concepts[0].questions[0].answer is False


def test_hidden_and_underscore_files_are_not_concepts(tmp_path):
    text = (FIXTURES / "courses" / "minimal" / "only-concept.md").read_text(encoding="utf-8")
    (tmp_path / "c.md").write_text(text, encoding="utf-8")
    (tmp_path / "_draft.md").write_text("not a concept", encoding="utf-8")
    (tmp_path / ".notes").mkdir()
    (tmp_path / ".notes" / "x.md").write_text("not a concept", encoding="utf-8")
    assert [c.id for c in load_course(tmp_path).concepts] == ["only-concept"]


def test_a_fenced_heading_is_not_a_question(tmp_path):
    text = (FIXTURES / "courses" / "minimal" / "only-concept.md").read_text(encoding="utf-8")
    text = text.replace("Fine-tuning starts from", "```markdown\n## Questions\n### Not a question\n```\n\nFine-tuning starts from")
    (tmp_path / "c.md").write_text(text, encoding="utf-8")
    concept = load_course(tmp_path).concepts[0]
    assert "### Not a question" in concept.explanation
    assert len(concept.questions) == 1


def test_an_underlined_heading_in_the_explanation_starts_no_section(tmp_path):
    text = (FIXTURES / "courses" / "minimal" / "only-concept.md").read_text(encoding="utf-8")
    text = text.replace("Fine-tuning starts from", "Questions\n---------\n\nFine-tuning starts from")
    (tmp_path / "c.md").write_text(text, encoding="utf-8")
    concept = load_course(tmp_path).concepts[0]
    assert concept.explanation.startswith("Questions\n---------")
    assert len(concept.questions) == 1
