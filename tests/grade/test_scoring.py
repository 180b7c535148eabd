"""Scoring outside the sandbox, on plain outcomes: no notebook runs here."""

from __future__ import annotations

import pytest

import grade_helpers as subs
from quizgen.grade import scoring
from quizgen.grade.sandbox import Outcome
from quizgen.lab.runner import get_lab
from quizgen.notebooks import solution_notebook, student_notebook
from quizgen.notebooks.recipe import flat_metrics

LAB_CONFIG = get_lab(subs.LAB).config
REFERENCE = flat_metrics({"metrics": subs.REFERENCE_METRICS[subs.LAB]})
GOOD = {"moderate_recall": 0.93, "aggressive_recall": 0.22, "moderate_drift": 0.052, "aggressive_drift": 0.55,
        "moderate_retention": 0.94, "aggressive_retention": 0.2, "random_init_heldout_accuracy": 0.06,
        "lora_recall": 0.93}


def outcome(measured=None, config=None, answers=None) -> Outcome:
    variables = {"MEASURED": measured, "ANSWERS": answers or {}} | (LAB_CONFIG if config is None else config)
    return Outcome(variables=variables)


def measured_item(plan, result: Outcome):
    return scoring.score_measurements(plan, result, REFERENCE, LAB_CONFIG)[0]


def test_the_labs_own_settings_are_compared_with_the_reference_run_within_tolerances():
    plan = subs.plan(quick=False)
    item = measured_item(plan, outcome(GOOD))
    assert item.earned == item.points == 8 and "same configuration hash" in item.feedback[0]
    # The aggressive arm's numbers are graded by the relations alone (it is chaotic across machines).
    assert "✓ aggressive_recall: recorded (graded by the relations: an arm this chaotic lands elsewhere on " \
           "other hardware)" in item.feedback
    off = GOOD | {"moderate_drift": 0.07, "aggressive_recall": "0.22"}  # 40% off; text, not a number
    item = measured_item(plan, outcome(off))
    assert item.earned == 6
    assert "✗ moderate_drift: outside the range the reference run allows" in item.feedback
    assert "✗ aggressive_recall: expected a number, got '0.22'" in item.feedback


def test_numbers_from_changed_settings_earn_nothing_however_well_they_fit_the_relations():
    plan = subs.plan(quick=False)
    changed = LAB_CONFIG | {"AGGRESSIVE": {"lr": 1e-3, "steps": 500}}
    made_up = {name: value * 3 for name, value in GOOD.items()}  # far from the reference, relations intact
    item = measured_item(plan, outcome(made_up | {"moderate_recall": 0.9, "moderate_retention": 0.9,
                                                  "aggressive_retention": 0.5}, changed))
    assert item.earned == 0 and "(AGGRESSIVE)" in item.feedback[0] and "earn no points" in item.feedback[0]
    assert all(line.endswith("(not scored)") for line in item.feedback[1:]) and len(item.feedback) > 1


def test_answers_are_type_checked_and_multi_questions_give_partial_credit():
    plan = subs.plan()
    questions = {q.id: q for q in plan.questions}
    # signs-of-aggressive: one right option ticked, or (with one right option) it and a wrong one: partial credit
    signs = questions["signs-of-aggressive"]
    right = [letter for letter, option in zip("ABCDEFGH", signs.options) if option.correct]
    wrong = [letter for letter, option in zip("ABCDEFGH", signs.options) if not option.correct]
    partial = right[0] if len(right) > 1 else right[0] + wrong[0]
    answers = {"aggressive-risk": "b ", "random-init-same-result": "False", "relative-drift": True,
               "drift-ratio": questions["drift-ratio"].answer, "forgetting-name": "Catastrophic  Forgetting",
               "signs-of-aggressive": partial}
    items = {item.id: item for item in scoring.score_questions(plan, outcome(GOOD, answers=answers))}
    assert items["question:aggressive-risk"].earned == 1
    assert items["question:random-init-same-result"].earned == 0  # text, not the bool False
    assert "answer True or False" in items["question:random-init-same-result"].feedback[0]
    assert items["question:relative-drift"].earned == 0  # a bool is not a number
    assert items["question:drift-ratio"].earned == 1 and items["question:forgetting-name"].earned == 1
    multi = questions["signs-of-aggressive"]
    assert 0 < items["question:signs-of-aggressive"].earned < multi.points
    assert items["question:critiquing-strategy"].points == 0


def test_a_choice_answer_is_exactly_one_letter():
    plan = subs.plan("sft-objective")  # mask-retention: option A is right
    for answer, earned in (("a", 1), (" A ", 1), ("", 0), (" ", 0), ("AB", 0), ("ABC", 0), ("B", 0)):
        # Once, "" and "AB" were read as option A (a substring of the letters "ABCD").
        items = {item.id: item for item in scoring.score_questions(plan, outcome(answers={"mask-retention": answer}))}
        assert items["question:mask-retention"].earned == earned, answer


def test_answer_cells_are_found_by_metadata_or_by_what_they_assign():
    plan = subs.plan()
    notebook = student_notebook(plan)
    assert scoring.missing_cells(plan, notebook) == []
    for cell in notebook["cells"]:
        cell["metadata"] = {}  # an editor that drops metadata
    assert scoring.missing_cells(plan, notebook) == []
    notebook["cells"] = [c for c in notebook["cells"] if "ANSWERS['aggressive-risk']" not in c["source"]]
    assert scoring.missing_cells(plan, notebook) == ["aggressive-risk"]


def test_predictions_are_the_literal_values_written_in_the_prediction_cell():
    plan = subs.plan()
    notebook = solution_notebook(plan)
    code = scoring.code_cells(notebook)
    first_training = scoring.train_from(notebook)
    assert "finetune(" in code[first_training]["source"] and "PREDICTIONS[" in code[first_training - 1]["source"]
    written = scoring.written_predictions(notebook)
    on_time = scoring.score_predictions(plan, written, REFERENCE)
    assert [item.earned for item in on_time] == [1, 1, 1, 1], [item.feedback for item in on_time]
    assert any("the reference run showed" in item.feedback[0] for item in on_time)

    blank = student_notebook(plan)  # the prediction cell keeps its None values
    for cell in blank["cells"]:
        if cell["metadata"].get("quizgen", {}).get("role") == "answer":
            cell["source"] += "\nPREDICTIONS.update(forgets_more='aggressive')\nPREDICTIONS['drifts_more'] = 'aggressive'"
    late = scoring.score_predictions(plan, scoring.written_predictions(blank), REFERENCE)
    assert all(item.earned == 0 for item in late)

    computed = solution_notebook(plan)
    cell = next(c for c in computed["cells"] if c["metadata"].get("quizgen", {}).get("role") == "predict")
    cell["source"] = "PREDICTIONS = {'forgets_more': ['aggressive', 'moderate'][0], 'drifts_more': 'aggressive'}"
    assert scoring.written_predictions(computed) == {}  # a computed dict is not a written prediction
    cell["source"] = "PREDICTIONS['forgets_more'] = 'aggressive'\nPREDICTIONS['drifts_more'] = choose()"
    values = scoring.written_predictions(computed)
    assert values["forgets_more"] == "aggressive" and scoring.unreadable(values["drifts_more"])

    moved = solution_notebook(plan)
    moved["cells"].append(moved["cells"].pop(next(i for i, c in enumerate(moved["cells"])
                                                  if c["metadata"].get("quizgen", {}).get("role") == "predict")))
    assert scoring.written_predictions(moved) == "the prediction cell comes after the first fine-tuning cell"
