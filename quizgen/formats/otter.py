"""Otter-Grader assign-format master notebooks: build/export/otter/<lab>/<lab>.ipynb.

For instructors who grade with Otter (locally or on Gradescope): `otter assign <lab>.ipynb dist/` turns
each master into a student notebook and an autograder. The master is the solution notebook with Otter's
markup around the graded parts:

- an `# ASSIGNMENT CONFIG` cell: exception-based tests, the `SEED` variable as Otter's seed;
- each exercise, the predictions, the measurements and each auto-graded quiz question is a question
  (`# BEGIN QUESTION` … `# END QUESTION`) whose solution is marked `# BEGIN SOLUTION` / `# SOLUTION`;
- public tests check the form of an answer, hidden tests its value: each exercise by its own public
  check and on its own unseen inputs (drawn from a fixed seed), judged by its own compare, the very
  definition quizgen's grader uses; measurements against the reference run (when the build was given
  one) or by relations; quiz answers against the key.

Multi questions keep the course's partial credit (quizgen.questions.multi): with R right and W wrong
options and L their least common multiple, L hidden tests, the k-th passing when right chosen x L/R -
wrong chosen x L/W >= k, so that the passed shares add up to the course's rule. Short answers are checked
with the course's own rule (quizgen.questions.short), its source written into the test.
"""

from __future__ import annotations

import inspect
import json
import math
import textwrap
from pathlib import Path

from quizgen.formats.notation import number
from quizgen.notebooks import cell_id, lab_plans, notebook_json
from quizgen.notebooks.plan import ANSWER, EXERCISE, MEASURE, PREDICT, Cell, Plan
from quizgen.notebooks.questions import AUTO_GRADED, letters, reference_answer
from quizgen.notebooks.recipe import flat_metrics
from quizgen.questions import UnsupportedQuestionType
from quizgen.questions import short

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
            exercise = next(exercise for exercise in plan.exercises if exercise.name == cell.key)
            cells += _question(cell.key, exercise.points, [_code(index, cell, _solution_block(cell))],
                               exercise_tests(exercise, exercise.points))
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


# --- tests ------------------------------------------------------------------------------------------

UNSEEN_SEED = 20250  # the Otter master's unseen inputs; quizgen's grader draws a fresh seed per submission


def exercise_tests(exercise, points: float) -> list[tuple[str, str, float, bool]]:
    """The exercise's own public check and its unseen inputs, judged by its own compare, as Otter tests."""
    name, check = exercise.name, exercise.check.__name__
    indent = lambda source: textwrap.indent(source, " " * 4)  # noqa: E731
    public = (f"def test_{name}_public(checks, {name}):\n{indent(exercise.check_source())}\n\n"
              f"    report = {check}({name})\n"
              f"    assert not report.failed, 'a public check fails: see the check under the exercise'\n")
    reference = exercise.solution_source().replace(f"def {name}(", "def reference(", 1)
    unseen, compare = exercise.unseen.__name__, exercise.compare.__name__
    loop = textwrap.dedent(f"""\
        rng = random.Random({UNSEEN_SEED})
        for case in range({exercise.cases}):
            arguments = {unseen}(rng, case)
            try:
                expected, raised = checks.plain(reference(*copy.deepcopy(arguments))), None
            except Exception as error:
                expected, raised = None, type(error)
            if raised is not None:
                try:
                    {name}(*arguments)
                except raised:
                    continue
                raise AssertionError(f"on an unseen input (case {{case}}) your function should raise {{raised.__name__}}")
            message = {compare}(checks.plain({name}(*arguments)), expected)
            assert message is None, f'on an unseen input (case {{case}}) your function {{message}}'""")
    parts = ["import copy\nimport random", reference, exercise.unseen_source(), exercise.compare_source(), loop]
    hidden = f"def test_{name}_unseen(checks, {name}):\n" + "\n\n".join(indent(part) for part in parts) + "\n"
    return [("public", public, 0, False), ("hidden", hidden, points, True)]


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
        if measurement.reference is None:  # graded by the relations only
            continue
        try:
            low, high = measurement.reference(metrics)
        except (KeyError, TypeError, ZeroDivisionError):
            continue
        intervals[measurement.name] = (round(low, 6), round(high, 6))
    return intervals


def multi_partial_tests(name: str, chosen: str, right: set[str], count: int) -> list[tuple[str, str, None, bool]]:
    """The course's partial credit, points x max(0, right chosen / R - wrong chosen / W), as Otter tests
    for a question of ``count`` options: with L = lcm(R, W), L tests each worth an equal share, the k-th
    passing when right chosen x L/R - wrong chosen x L/W >= k."""
    right_letters = _letters_literal(right)
    wrong = count - len(right)
    shares = math.lcm(len(right), wrong) if wrong else len(right)
    net = (f"len(chosen & set({right_letters})) * {shares // len(right)}"
           + (f" - len(chosen - set({right_letters})) * {shares // wrong}" if wrong else ""))
    return [(f"_net_{k}", f"def test_{name}_net_{k}(ANSWERS):\n    chosen = {chosen}\n"
                          f"    assert {net} >= {k}, 'not all the right options, or some wrong ones'\n", None, True)
            for k in range(1, shares + 1)]


def short_answer_test(name: str, key: str, accepted) -> str:
    """A hidden test that checks a short answer by the course's rule: short.normalize_answer and
    short.answer_matches, their source and patterns written into the test (Otter's grader has no quizgen)."""
    source = "\n".join([
        "import re", "import unicodedata",
        f"_SEPARATORS = re.compile({short._SEPARATORS.pattern!r})", f"_GLOSS = re.compile({short._GLOSS.pattern!r})",
        inspect.getsource(short.normalize_answer), inspect.getsource(short.answer_matches)])
    return (f"def test_{name}_correct(ANSWERS):\n{textwrap.indent(source, '    ')}\n"
            f"    assert answer_matches(str(ANSWERS.get({key!r})), {list(accepted)!r}), 'not the right answer'\n")


def _letters_literal(names) -> str:
    """Python for a set's worth of option names: 'AC' while each is one letter, else ['AA', 'C']."""
    names = sorted(names)
    return repr("".join(names)) if all(len(letter) == 1 for letter in names) else repr(names)


def quiz_tests(question, points: float) -> list[tuple[str, str, float, bool]]:
    """A public test (answered) and hidden tests (right) per auto-graded question, written per type; a
    type without a test here is an UnsupportedQuestionType (a rubric-graded one has no answer to test)."""
    name, key = _question_name(question.id), question.id
    answer = reference_answer(question)
    public = f"def test_{name}_answered(ANSWERS):\n    assert ANSWERS.get({key!r}) is not None, 'answer in the cell above'\n"
    if question.type == "choice":
        check = f"str(ANSWERS.get({key!r})).strip().upper() == {answer!r}"
    elif question.type == "multi":
        # The answer as a set of option names, read as checks.chosen_letters reads it.
        if all(len(letter) == 1 for letter in letters(question)):
            chosen = (f"set((''.join(v) if isinstance(v := ANSWERS.get({key!r}), (list, tuple)) else str(v))"
                      ".upper().replace(',', '').replace(' ', ''))")
        else:
            chosen = (f"set(map(lambda x: str(x).strip().upper(), v if isinstance(v := ANSWERS.get({key!r}), "
                      "(list, tuple)) else str(v).replace(',', ' ').replace(';', ' ').split()))")
        right = {letter for letter, option in zip(letters(question), question.options) if option.correct}
        if question.scoring == "partial":
            return [("public", public, 0, False), *multi_partial_tests(name, chosen, right, len(question.options))]
        check = f"{chosen} == set({_letters_literal(right)})"
    elif question.type == "truefalse":
        check = f"ANSWERS.get({key!r}) is {answer!r}"
    elif question.type == "numeric":
        check = f"abs(float(ANSWERS.get({key!r})) - {question.answer!r}) <= {question.margin!r} + 1e-12"
    elif question.type == "short":
        return [("public", public, 0, False), ("hidden", short_answer_test(name, key, question.accepted), points, True)]
    else:
        raise UnsupportedQuestionType(f"the Otter export cannot test question type '{question.type}': "
                                      "quiz_tests has no test for it")
    hidden = f"def test_{name}_correct(ANSWERS):\n    assert {check}, 'not the right answer'\n"
    return [("public", public, 0, False), ("hidden", hidden, points, True)]
