"""Each learner's own variants: `quizgen build --learners FILE` writes a notebook per learner with their
variants of the generated questions, and `quizgen grade` scores a submission against the variants of the
learner its file name names (never against what the notebook says)."""

from __future__ import annotations

import json

from click.testing import CliRunner

import grade_helpers as subs
from quizgen.cli import cli
from quizgen.grade import scoring
from quizgen.grade.runner import for_learner
from quizgen.grade.sandbox import Outcome
from quizgen.variants import learner_index, learner_variant
from paths import ROOT


def test_the_variant_a_learner_gets_is_a_stable_spread_hash():
    picks = [learner_index(f"learner-{n}", "sft-objective", "loss-terms", 6) for n in range(600)]
    assert picks == [learner_index(f"learner-{n}", "sft-objective", "loss-terms", 6) for n in range(600)]
    assert all(60 <= picks.count(index) <= 140 for index in range(6))  # about 100 each
    assert learner_index("a", "c", "q1", 1000) != learner_index("a", "c", "q2", 1000)


def two_learners_with_different(question):
    by_answer = {}
    for n in range(50):
        learner = f"student{n}"
        by_answer.setdefault(learner_variant(question, "sft-objective", learner).answer, learner)
    assert len(by_answer) > 1
    (first, a), (second, b) = list(by_answer.items())[:2]
    return (a, first), (b, second)


def test_each_learner_is_scored_against_their_own_variant():
    plan = subs.plan("sft-objective")
    question = next(q for q in plan.questions if q.id == "loss-terms")
    assert len(question.variants) == 6
    (alice, alice_answer), (bob, bob_answer) = two_learners_with_different(question)
    for learner, own, other in ((alice, alice_answer, bob_answer), (bob, bob_answer, alice_answer)):
        mine = for_learner(plan, learner)
        for answer, earned in ((own, 1), (other, 0)):
            result = Outcome(variables={"ANSWERS": {"loss-terms": answer}})
            items = {item.id: item for item in scoring.score_questions(mine, result)}
            assert items["question:loss-terms"].earned == earned, (learner, answer)


def test_build_writes_a_notebook_per_learner_with_their_numbers(tmp_path):
    roster = tmp_path / "learners.txt"
    roster.write_text("# section A\nstudent0\n\nstudent1\nstudent2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(ROOT / "content"), "--out", str(tmp_path / "out"),
                                      "--format", "notebooks", "--learners", str(roster)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "notebooks" / "learners" / "sft-objective"
    assert sorted(path.name for path in folder.iterdir()) == ["student0.ipynb", "student1.ipynb", "student2.ipynb"]
    plan = subs.plan("sft-objective")
    question = next(q for q in plan.questions if q.id == "loss-terms")
    for learner in ("student0", "student1", "student2"):
        notebook = json.loads((folder / f"{learner}.ipynb").read_text(encoding="utf-8"))
        text = "\n".join("".join(cell["source"]) for cell in notebook["cells"])
        own = learner_variant(question, "sft-objective", learner)
        values = own.variant.values
        assert f"a {values['p']:g}-token prompt and a {values['r']:g}-token response" in text
        # No other variant's numbers, and no key.
        assert text.count("How many tokens carry the loss?") == 1


def test_a_bad_list_of_learners_is_refused_at_its_lines(tmp_path):
    roster = tmp_path / "learners.txt"
    roster.write_text("alice\n../etc/passwd\nALICE\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(ROOT / "content"), "--out", str(tmp_path / "out"),
                                      "--format", "notebooks", "--learners", str(roster)])
    assert result.exit_code == 1
    assert f"{roster}:2: '../etc/passwd' is not a learner id" in result.output
    assert f"{roster}:3: learner 'ALICE' is listed twice (first on line 1)" in result.output
    assert not (tmp_path / "out").exists()
