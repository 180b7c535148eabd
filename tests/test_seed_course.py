"""The course shipped in content/ is real: it loads clean and holds what the seed page names."""

from pathlib import Path
from collections import Counter

import pytest

from quizgen.loader import load_course

ROOT = Path(__file__).resolve().parents[1]

SEED_TAGS = {
    "Ch.3 Prompting - Foundations of Large Language Models",
    "Foundations of Large Language Models",
    "Foundations of Large Language Models Course",
    "Computing Sciences",
}


@pytest.fixture(scope="module")
def course():
    return load_course(ROOT / "content")


def test_the_three_seed_concepts_with_their_tags_and_links(course):
    ids = ["parameter-initialization", "sft-objective", "ift-vs-pretraining"]
    assert [c.id for c in course.concepts][:3] == ids
    for concept in course.concepts[:3]:
        assert set(concept.tags) == SEED_TAGS
        assert {link for link in concept.related if "#" not in link} == set(ids) - {concept.id}
        assert concept.lab
    first = course.concept("parameter-initialization")
    assert first.title == "Parameter Initialization and Moderate Adjustment in Fine-Tuning"
    assert {"parameter-initialization#aggressive-risk", "parameter-initialization#diagnosing-degradation",
            "parameter-initialization#critiquing-strategy"} <= set(first.learn_after)
    # The seed page's Related items, questions included (/work/shared/seed/).
    assert {"sft-objective", "ift-vs-pretraining", "ift-vs-pretraining#pretraining-adaptation-relationship",
            "parameter-initialization#chatbot-strategy", "ift-vs-pretraining#methodology-must-differ",
            "sft-objective#ift-objective"} == set(first.related)


def test_the_learning_order_teaches_forgetting_and_moderate_adjustment_first(course):
    """learn_after leads parameter-initialization -> sft-objective -> ift-vs-pretraining, never back: the
    later concepts use forgetting and moderate adjustment, which the first one teaches; keeping-knowledge,
    the remedies for forgetting, may come once forgetting is taught."""
    order = ["parameter-initialization", "sft-objective", "ift-vs-pretraining", "keeping-knowledge"]
    for position, concept_id in enumerate(order):
        targets = {link.partition("#")[0] for link in course.concept(concept_id).learn_after} - {concept_id}
        assert targets <= set(order[position + 1:]), concept_id


def test_objectives_levels_difficulties_and_prediction_items(course):
    levels, difficulties, true_false = Counter(), Counter(), Counter()
    for concept in course.concepts:
        assert len(concept.objectives) >= 4, concept.id
        assessed = {objective for question in concept.questions for objective in question.objective}
        assert assessed == {objective.id for objective in concept.objectives}, concept.id
        for question in concept.questions:
            assert question.objective and question.level and question.difficulty, f"{concept.id}#{question.id}"
            levels[question.level] += 1
            difficulties[question.difficulty] += 1
            if question.type == "truefalse":
                true_false[question.answer] += 1
        # prediction items: a numeric answer the lab measures (metric=, no answer=), asked before the lab
        predictions = [q for q in concept.questions if q.type == "numeric" and q.metric and q.answer is None]
        assert len(predictions) >= 2, concept.id
        assert all("before you open the lab" in q.stem for q in predictions), concept.id
    total = sum(levels.values())
    assert 3 * sum(levels[level] for level in ("apply", "analyze", "evaluate", "create")) >= total
    assert difficulties["hard"] >= 4
    assert abs(true_false[True] - true_false[False]) <= 1


def test_short_answers_accept_the_wordings_the_review_found_rejected(course):
    estimation = course.concept("sft-objective").question("estimation-principle")
    loss = course.concept("ift-vs-pretraining").question("shared-loss-name")
    for answer in ("maximum likelihood estimation (MLE)", "maximum likelihood principle"):
        assert answer in estimation.accepted
    for answer in ("NLL loss", "next token cross-entropy", "categorical cross-entropy"):
        assert answer in loss.accepted
    assert "catastrophic forgetting" in course.concept("parameter-initialization").question("forgetting-name").accepted


def test_each_concept_has_six_questions_of_four_types_with_feedback(course):
    for concept in course.concepts:
        assert len(concept.questions) >= 6, concept.id
        assert len(Counter(q.type for q in concept.questions)) >= 4, concept.id
        for question in concept.questions:
            assert question.explanation.strip()
            for option in getattr(question, "options", ()):
                assert option.feedback, f"{concept.id}#{question.id}: option without feedback"


def test_every_seed_item_is_a_question_of_the_right_type(course):
    def question(concept_id, question_id):
        found = course.concept(concept_id).question(question_id)
        assert found is not None, f"{concept_id}#{question_id}"
        return found

    risk = question("parameter-initialization", "aggressive-risk")
    assert risk.type == "choice" and "catastrophic forgetting" in risk.correct_option.text.lower()
    assert question("parameter-initialization", "chatbot-strategy").type == "choice"
    assert question("parameter-initialization", "diagnosing-degradation").type == "choice"
    critique = question("parameter-initialization", "critiquing-strategy")
    assert critique.type == "critique" and len(critique.rubric) >= 2 and critique.exemplar
    assert question("sft-objective", "ift-objective").type == "choice"
    relation = question("ift-vs-pretraining", "pretraining-adaptation-relationship")
    assert relation.type == "choice" and relation.stem.startswith("A machine learning team")
    must_differ = question("ift-vs-pretraining", "methodology-must-differ")
    assert must_differ.type == "truefalse" and must_differ.answer is False
    assert "substantially smaller" in " ".join(must_differ.stem.split())


def test_the_sft_objective_is_written_out_in_math(course):
    explanation = course.concept("sft-objective").explanation
    assert "\\log \\Pr_\\theta(y \\mid x)" in explanation or "\\log \\Pr_{\\theta}(y \\mid x)" in explanation
    assert "$$" in explanation
