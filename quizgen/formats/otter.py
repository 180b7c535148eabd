"""Otter-Grader assign-format master notebooks: build/export/otter/<lab>/<lab>.ipynb.

For instructors who grade with Otter (locally or on Gradescope): `otter assign <lab>.ipynb dist/` turns
each master into a student notebook and an autograder. The master is the solution notebook with Otter's
markup around the graded parts:

- an `# ASSIGNMENT CONFIG` cell: exception-based tests, the `SEED` variable as Otter's seed;
- each exercise, the predictions, the measurements and each auto-graded quiz question is a question
  (`# BEGIN QUESTION` … `# END QUESTION`) whose solution is marked `# BEGIN SOLUTION` / `# SOLUTION`;
- public tests check the form of an answer, hidden tests its value: exercises on seeded inputs the
  learner has not seen, measurements against the reference run (when the build was given one) or by
  relations, quiz answers against the key.

Multi questions keep the course's partial credit: one hidden test per right option, the k-th passing
when (right chosen - wrong chosen) >= k, so that the passed shares add up to the course's rule.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from quizgen.formats.notation import number
from quizgen.notebooks import cell_id, lab_plans, notebook_json
from quizgen.notebooks.exercises import solution_source
from quizgen.notebooks.plan import ANSWER, EXERCISE, MEASURE, PREDICT, Cell, Plan
from quizgen.notebooks.questions import AUTO_GRADED, reference_answer
from quizgen.notebooks.recipes import flat_metrics
from quizgen.questions.short import normalize_answer

NAME = "otter"
README = """\
# Otter-Grader masters

One master notebook per lab, in Otter's assign format (exception-based tests, hidden tests, `SEED` as
the seed variable). To make the student notebook and the autograder:

    pip install otter-grader
    otter assign {lab}/{lab}.ipynb dist/{lab}

The notebooks import `quizgen.lab` (the lab engine and its pre-trained model): the grading image needs
quizgen with its `lab` extra installed (see requirements.txt next to each master).
"""


def write(course, results, out_dir: Path) -> None:
    plans = lab_plans(course)
    if plans:
        (out_dir / "README.md").write_text(README.format(lab=plans[0].lab_id), encoding="utf-8")
    for plan in plans:
        folder = out_dir / plan.lab_id
        folder.mkdir()
        (folder / f"{plan.lab_id}.ipynb").write_text(notebook_json(master_notebook(plan, (results or {}).get(plan.lab_id))),
                                                     encoding="utf-8")
        (folder / "requirements.txt").write_text("quizgen[lab]\ntorch==2.13.0\n", encoding="utf-8")


def master_notebook(plan: Plan, results: dict | None = None, run_tests: bool = True) -> dict:
    cells = [_raw(assignment_config(plan, run_tests))]
    questions = {question.id: question for question in plan.questions}
    for index, cell in enumerate(plan.cells):
        if cell.role == EXERCISE:
            points = _exercise_points(plan, cell.key)
            cells += _question(cell.key, points, [_code(index, cell, _solution_block(cell))],
                               exercise_tests(cell.key, points))
        elif cell.role == PREDICT:
            cells += _question("predictions", float(len(plan.predictions)), [_code(index, cell, _marked(cell))],
                               prediction_tests(plan, float(len(plan.predictions))))
        elif cell.role == MEASURE:
            cells += _question("measured", plan.measured_points, [_code(index, cell, _marked(cell))],
                               measurement_tests(plan, results, plan.measured_points))
        elif cell.role == ANSWER and questions[cell.key].type in AUTO_GRADED:
            question = questions[cell.key]
            cells += _question(_question_name(question.id), float(question.points), [_code(index, cell, _marked(cell))],
                               quiz_tests(question, float(question.points)))
        elif cell.role == ANSWER:
            cells.append(_code(index, cell, cell.source))  # graded by hand: the exemplar stays in the key
        else:
            cells.append(_plain(index, cell))
    for position, cell in enumerate(cells):
        cell["id"] = cell["id"] or f"otter-{position:03d}"  # Otter's own cells get ids by position
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}, "quizgen": {"lab": plan.lab_id, "version": "otter-master"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def assignment_config(plan: Plan, run_tests: bool) -> str:
    return textwrap.dedent(f"""\
        # ASSIGNMENT CONFIG
        name: {plan.lab_id}
        requirements: requirements.txt
        run_tests: {str(run_tests).lower()}
        init_cell: true
        check_all_cell: false
        export_cell: false
        seed:
            variable: SEED
            autograder_value: 0
            student_value: 0
        tests:
            ok_format: false
        generate: true""")


# --- cells ------------------------------------------------------------------------------------------


def _raw(source: str) -> dict:
    return {"cell_type": "raw", "id": "", "metadata": {}, "source": source}


def _plain(index: int, cell: Cell) -> dict:
    node = {"cell_type": cell.kind, "id": cell_id(index, cell), "metadata": {}, "source": cell.reference}
    if cell.kind == "code":
        node |= {"execution_count": None, "outputs": []}
    return node


def _code(index: int, cell: Cell, source: str) -> dict:
    return {"cell_type": "code", "id": cell_id(index, cell), "metadata": {}, "source": source,
            "execution_count": None, "outputs": []}


def _test_cell(name: str, source: str, points: float | None, hidden: bool) -> dict:
    """A test; points None lets Otter share the question's points equally among such tests (exactly,
    where written-out shares like 0.333333 could add up to more or less than the question's points)."""
    share = "" if points is None else f"points: {number(points)}\n"
    header = f'""" # BEGIN TEST CONFIG\n{share}hidden: {str(hidden).lower()}\n""" # END TEST CONFIG\n'
    return {"cell_type": "code", "id": "", "metadata": {}, "source": header + textwrap.dedent(source).strip(),
            "execution_count": None, "outputs": []}


def _question(name: str, points: float, solution_cells: list[dict], tests: list[tuple[str, str, float, bool]]) -> list[dict]:
    return [
        _raw(f"# BEGIN QUESTION\nname: {name}\npoints: {number(points)}"),
        _raw("# BEGIN SOLUTION"),
        *solution_cells,
        _raw("# END SOLUTION"),
        _raw("# BEGIN TESTS"),
        *[_test_cell(name + label, source, test_points, hidden) for label, source, test_points, hidden in tests],
        _raw("# END TESTS"),
        _raw("# END QUESTION"),
    ]


def _solution_block(cell: Cell) -> str:
    """The stub's signature and docstring stay as the prompt; the body is the solution."""
    stub_lines = cell.source.splitlines()
    head = len(stub_lines) - 2  # the stub ends with "# YOUR CODE HERE" and "raise NotImplementedError"
    lines = cell.reference.splitlines()
    return "\n".join(lines[:head] + ["    # BEGIN SOLUTION"] + lines[head:] + ["    # END SOLUTION"])


def _marked(cell: Cell) -> str:
    """Each line that differs from the student's version is a solution line (Otter blanks it to `...`);
    its trailing hint moves to a comment line above, so that the student version keeps it."""
    student = set(cell.source.splitlines())
    lines = []
    for line in cell.reference.splitlines():
        if line in student or not line.strip():
            lines.append(line)
            continue
        code, _, hint = line.partition("  # ")
        indent = code[: len(code) - len(code.lstrip())]
        lines += ([f"{indent}# {hint}"] if hint else []) + [f"{code}  # SOLUTION"]
    return "\n".join(lines)


def _question_name(question_id: str) -> str:
    return "q_" + question_id.replace("-", "_")


def _exercise_points(plan: Plan, name: str) -> float:
    return next(exercise.points for exercise in plan.exercises if exercise.name == name)


# --- tests ------------------------------------------------------------------------------------------

PUBLIC_EXERCISE_TESTS = {
    "relative_drift": """
        def test_relative_drift_properties(relative_drift):
            import torch
            theta_hat = {"a": torch.ones(3), "b": torch.full((2,), 2.0)}
            assert abs(float(relative_drift(theta_hat, theta_hat))) < 1e-6, "the drift of θ̂ from itself is 0"
            doubled = {name: 2 * value for name, value in theta_hat.items()}
            assert abs(float(relative_drift(doubled, theta_hat)) - 1.0) < 1e-4, "θ = 2θ̂ has drift 1"
        """,
    "knowledge_retention": """
        def test_knowledge_retention_properties(knowledge_retention):
            assert abs(float(knowledge_retention([True, True], [True, True])) - 1.0) < 1e-9, "keeping every fact is 1"
            assert abs(float(knowledge_retention([True, True], [False, False]))) < 1e-9, "forgetting every fact is 0"
        """,
    "sft_loss": """
        def test_sft_loss_properties(sft_loss):
            import math
            import torch
            ids = torch.tensor([[1, 2, 3, 4, 0]])
            uniform = float(sft_loss(torch.zeros(1, 5, 6), ids, [2], [4]))
            assert abs(uniform - math.log(6)) < 1e-4, "uniform logits give log(vocabulary size)"
        """,
    "loss_mask": """
        def test_loss_mask_properties(loss_mask):
            assert list(loss_mask(5, 2, "response")) == [False, False, True, True, True], "the prompt carries no loss"
        """,
}

HIDDEN_INPUTS = {
    "relative_drift": """
            theta_hat = {f"p{i}": torch.randn(int(torch.randint(1, 6, (1,), generator=generator)), generator=generator)
                         for i in range(int(torch.randint(1, 4, (1,), generator=generator)))}
            theta = {name: value + float(torch.rand(1, generator=generator)) * torch.randn(value.shape, generator=generator)
                     for name, value in theta_hat.items()}
            arguments = (theta, theta_hat)""",
    "knowledge_retention": """
            size = int(torch.randint(3, 30, (1,), generator=generator))
            before = (torch.rand(size, generator=generator) < 0.8).tolist()
            before[0] = True
            after = (torch.rand(size, generator=generator) < 0.6).tolist()
            arguments = (before, after)""",
    "sft_loss": """
            batch, positions, vocabulary = 3, 9, 7
            lengths = [int(torch.randint(3, positions + 1, (1,), generator=generator)) for _ in range(batch)]
            prompt_lens = [int(torch.randint(1, length, (1,), generator=generator)) for length in lengths]
            ids = torch.randint(1, vocabulary, (batch, positions), generator=generator)
            for row, length in enumerate(lengths):
                ids[row, length:] = 0
            logits = 3 * torch.randn(batch, positions, vocabulary, generator=generator)
            arguments = (logits, ids, prompt_lens, lengths)""",
    "loss_mask": """
            length = int(torch.randint(2, 30, (1,), generator=generator))
            prompt_len = int(torch.randint(1, length, (1,), generator=generator))
            arguments = (length, prompt_len, "response" if case % 2 else "all")""",
}


def exercise_tests(name: str, points: float) -> list[tuple[str, str, float, bool]]:
    reference = textwrap.indent(solution_source(name).replace(f"def {name}(", "def reference("), " " * 4)
    compare = ("assert list(got) == list(expected), f'wrong on an unseen input (case {case})'" if name == "loss_mask" else
               "assert abs(float(got) - float(expected)) <= 1e-4 * max(1.0, abs(float(expected))), "
               "f'wrong on an unseen input (case {case})'")
    hidden = (f"def test_{name}_unseen({name}):\n    import torch\n\n{reference}\n\n"
              f"    generator = torch.Generator().manual_seed(20250)\n"
              f"    for case in range(5):\n{textwrap.indent(textwrap.dedent(HIDDEN_INPUTS[name]).strip(), ' ' * 8)}\n"
              f"        expected = reference(*arguments)\n        got = {name}(*arguments)\n        {compare}")
    return [("public", PUBLIC_EXERCISE_TESTS[name], 0, False), ("hidden", hidden, points, True)]


def prediction_tests(plan: Plan, points: float) -> list[tuple[str, str, float, bool]]:
    allowed = {p.name: list(p.allowed) for p in plan.predictions}
    source = (f"def test_predictions_recorded(PREDICTIONS):\n    allowed = {allowed!r}\n"
              "    for name, values in allowed.items():\n"
              "        assert PREDICTIONS.get(name) in values, f'record {name}: one of {values}'\n")
    return [("public", source, points, False)]


def measurement_tests(plan: Plan, results: dict | None, points: float) -> list[tuple[str, str, float, bool]]:
    names = [m.name for m in plan.measurements]
    public = (f"def test_measurements_recorded(MEASURED):\n    for name in {names!r}:\n"
              "        assert MEASURED.get(name) is not None, f'fill in MEASURED[{name!r}]'\n")
    relations = "\n".join(f"    assert {r.expression}, {r.description!r}" for r in plan.relations)
    intervals = _intervals(plan, results)
    share = points / 2 if intervals else points
    tests = [("public", public, 0, False),
             ("relations", f"def test_measurements_relations(MEASURED):\n    m = MEASURED\n{relations}\n", share, True)]
    if intervals:
        config = {name: (results or {}).get("settings", {}).get("config", {}).get(name) for name in plan.config_names}
        arguments = ", ".join(["MEASURED", *plan.config_names])
        tests.append(("reference", textwrap.dedent(f"""\
            def test_measurements_match_reference({arguments}):
                import json
                lab_config = json.loads({json.dumps(json.dumps(config))})
                submitted = json.loads(json.dumps({{{", ".join(f"{n!r}: {n}" for n in plan.config_names)}}}))
                if submitted != lab_config:
                    return  # the learner chose their own settings: only the relations apply
                for name, (low, high) in {intervals!r}.items():
                    value = float(MEASURED[name])
                    assert low <= value <= high, f"{{name}} is outside the range of the reference run"
            """), share, True))
    return tests


def _intervals(plan: Plan, results: dict | None) -> dict:
    if not results:
        return {}
    metrics = flat_metrics(results)
    intervals = {}
    for measurement in plan.measurements:
        try:
            low, high = measurement.reference(metrics)
        except (KeyError, TypeError, ZeroDivisionError):
            continue
        intervals[measurement.name] = (round(low, 6), round(high, 6))
    return intervals


def multi_partial_tests(name: str, chosen: str, right: set[str]) -> list[tuple[str, str, None, bool]]:
    """The course's partial credit, points x max(0, (right chosen - wrong chosen) / right options), as
    Otter tests: one per right option, the k-th passing when right chosen - wrong chosen >= k, each worth
    an equal share of the question's points."""
    right_letters = "".join(sorted(right))
    net = f"len(chosen & set({right_letters!r})) - len(chosen - set({right_letters!r}))"
    return [(f"_net_{k}", f"def test_{name}_net_{k}(ANSWERS):\n    chosen = {chosen}\n"
                          f"    assert {net} >= {k}, 'not all the right options, or some wrong ones'\n", None, True)
            for k in range(1, len(right) + 1)]


def quiz_tests(question, points: float) -> list[tuple[str, str, float, bool]]:
    name, key = _question_name(question.id), question.id
    answer = reference_answer(question)
    public = f"def test_{name}_answered(ANSWERS):\n    assert ANSWERS.get({key!r}) is not None, 'answer in the cell above'\n"
    if question.type == "choice":
        check = f"str(ANSWERS.get({key!r})).strip().upper() == {answer!r}"
    elif question.type == "multi":
        chosen = (f"set((''.join(v) if isinstance(v := ANSWERS.get({key!r}), (list, tuple)) else str(v))"
                  ".upper().replace(',', '').replace(' ', ''))")
        if question.scoring == "partial":
            return [("public", public, 0, False), *multi_partial_tests(name, chosen, set(answer))]
        check = f"{chosen} == {set(answer)!r}"
    elif question.type == "truefalse":
        check = f"ANSWERS.get({key!r}) is {answer!r}"
    elif question.type == "numeric":
        check = f"abs(float(ANSWERS.get({key!r})) - {question.answer!r}) <= {question.margin!r} + 1e-12"
    else:
        accepted = sorted({normalize_answer(text) for text in question.accepted})
        check = f"' '.join(str(ANSWERS.get({key!r})).split()).casefold() in {accepted!r}"
    hidden = f"def test_{name}_correct(ANSWERS):\n    assert {check}, 'not the right answer'\n"
    return [("public", public, 0, False), ("hidden", hidden, points, True)]
