"""Scoring, outside the sandbox: a sandbox outcome (plain JSON) -> points and feedback per item.

Every value is type-checked here before it is compared; a learner's object never reaches this module,
only the plain numbers, strings and lists the sandbox converted it to. Items:

- exercises: the learner's function on unseen inputs, partial credit per input, each result judged as
  its exercise says (quizgen.notebooks.exercises);
- predictions: the literal values written in the prediction cell (before the first training cell), read
  from the notebook's text, one point each (the feedback says whether the reference run bore them out);
- measurements: compared with the cached reference run when the learner kept the lab's configuration
  (same configuration hash); numbers from changed settings earn nothing (nothing ran them outside);
- quiz questions: by type, with the partial credit the course defines for multi questions.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import asdict, dataclass, field

from quizgen.grade.sandbox import GRADED, MISSING_ANSWER_CELL
from quizgen.notebooks.plan import EXERCISE, MEASURE, PREDICT, TRAIN, Plan
from quizgen.notebooks.checks import chosen_letters
from quizgen.notebooks.questions import AUTO_GRADED, letters
from quizgen.questions import for_type


@dataclass
class Item:
    id: str
    kind: str  # exercise, prediction, measured, question
    title: str
    points: float
    earned: float = 0.0
    feedback: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


# --- reading the submitted notebook (statically, outside the sandbox) ------------------------------


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell.get("cell_type") == "code"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _meta(cell: dict) -> dict:
    metadata = cell.get("metadata")
    quizgen = metadata.get("quizgen") if isinstance(metadata, dict) else None
    return quizgen if isinstance(quizgen, dict) else {}


PREDICTION_ASSIGNMENT = re.compile(r"^\s*PREDICTIONS\s*(\[|=)", re.M)


def required_cells(plan: Plan) -> dict[str, re.Pattern]:
    """Each graded cell's key and how to recognise it when an editor dropped the cell metadata."""
    required = {exercise.name: re.compile(rf"^\s*def\s+{exercise.name}\s*\(", re.M) for exercise in plan.exercises}
    if plan.predictions:
        required["PREDICTIONS"] = PREDICTION_ASSIGNMENT
    if plan.measurements:
        required["MEASURED"] = re.compile(r"^\s*MEASURED\s*(\[|=)", re.M)
    for question in plan.questions:
        if question.type in AUTO_GRADED:
            required[question.id] = re.compile(rf"""^\s*ANSWERS\s*\[\s*['"]{re.escape(question.id)}['"]\s*\]\s*=""", re.M)
    return required


def missing_cells(plan: Plan, notebook: dict) -> list[str]:
    cells = code_cells(notebook)
    keys = {_meta(cell).get("key") for cell in cells if _meta(cell).get("role") in (EXERCISE, PREDICT, MEASURE, "answer")}
    sources = "\n".join(_source(cell) for cell in cells)
    return [key for key, pattern in required_cells(plan).items() if key not in keys and not pattern.search(sources)]


def train_from(notebook: dict) -> int:
    """Position (among code cells) of the first training cell: predictions must be written before it."""
    training_call = re.compile(r"\b(finetune|pretrain_phase)\s*\(|\brun\s*\(\s*lab\s*\)")
    for position, cell in enumerate(code_cells(notebook)):
        if _meta(cell).get("role") == TRAIN or (training_call.search(_source(cell)) and "def finetune" not in _source(cell)):
            return position
    return len(code_cells(notebook))


def written_predictions(notebook: dict) -> dict | str:
    """The predictions as the notebook's text states them: the literal values the prediction cell (the first
    code cell that assigns PREDICTIONS) gives, read with `ast.literal_eval`, never by running anything. No
    computation can produce them, so nothing a run shows (or a learner's code rewrites) can change them.
    A string says why there are none."""
    cells = code_cells(notebook)
    position = next((i for i, cell in enumerate(cells) if _meta(cell).get("role") == PREDICT), None)
    if position is None:
        position = next((i for i, cell in enumerate(cells) if PREDICTION_ASSIGNMENT.search(_source(cell))), None)
    if position is None:
        return "the notebook has no prediction cell"
    if position >= train_from(notebook):
        return "the prediction cell comes after the first fine-tuning cell"
    try:
        tree = ast.parse(_source(cells[position]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "the prediction cell is not valid Python"
    predictions: dict = {}
    for statement in tree.body:
        target, value = _assignment(statement)
        if target is None:
            continue
        try:
            literal = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            literal = _NOT_LITERAL
        if isinstance(target, str):
            predictions[target] = literal
        else:  # PREDICTIONS = {...}: a literal dict replaces everything; anything else leaves nothing
            literal = literal if isinstance(literal, dict) and literal is not _NOT_LITERAL else {}
            predictions = {key: item for key, item in literal.items() if isinstance(key, str)}
    return predictions


_NOT_LITERAL = {"__unsupported__": "not a plain value written in the cell"}


def _assignment(statement):
    """(key, value node) for `PREDICTIONS["key"] = value`, (True, node) for `PREDICTIONS = node`, else (None, None)."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target, value = statement.target, statement.value
    else:
        return None, None
    if isinstance(target, ast.Name) and target.id == "PREDICTIONS":
        return True, value
    if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == "PREDICTIONS"
            and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str)):
        return target.slice.value, value
    return None, None


# --- typed values -------------------------------------------------------------------------------


def is_number(value) -> bool:
    return type(value) in (int, float) and abs(value) < 2**1023 and math.isfinite(value)


def unreadable(value) -> bool:
    return isinstance(value, dict) and "__unsupported__" in value


def describe_value(value) -> str:
    if unreadable(value):
        return f"a value that cannot be graded ({value['__unsupported__']})"
    if type(value) in (str, bool) and len(repr(value)) <= 42:
        return repr(value)
    return {type(None): "nothing (None)", str: "text", bool: "True/False", list: "a list", dict: "a dict",
            int: "a number", float: "a number"}.get(type(value), "something else")


# --- the four kinds of item ---------------------------------------------------------------------


def score_exercises(plan: Plan, outcome, exercise_cases: dict) -> list[Item]:
    items = []
    for exercise in plan.exercises:
        item = Item(f"exercise:{exercise.name}", "exercise", f"Exercise: {exercise.title} (`{exercise.name}`)",
                    exercise.points)
        record = outcome.exercises.get(exercise.name)
        cases = exercise_cases[exercise.name]
        if record is None:
            item.feedback.append("not tested: the notebook stopped before its functions could be called")
        elif not record["defined"]:
            item.feedback.append(f"`{exercise.name}` is not defined (or is not a function)")
        else:
            results = record["results"]
            outcomes = [exercise.judge(results[i] if i < len(results) else {}, case) for i, case in enumerate(cases)]
            passed = sum(ok for ok, _ in outcomes)
            item.earned = exercise.points * passed / len(cases)
            item.feedback.append(f"{passed} of {len(cases)} unseen inputs correct")
            for message in dict.fromkeys(message for ok, message in outcomes if not ok):
                item.feedback.append(f"on an unseen input your function {message}")
        items.append(item)
    return items


def score_predictions(plan: Plan, predictions: dict | str | None, reference: dict | None) -> list[Item]:
    items = []
    for prediction in plan.predictions:
        item = Item(f"prediction:{prediction.name}", "prediction", f"Prediction: {prediction.question}", 1.0)
        value = predictions.get(prediction.name) if isinstance(predictions, dict) else None
        if not isinstance(predictions, dict):
            item.feedback.append(f"no predictions: {predictions or 'the notebook could not be read'}")
        elif not any(value == allowed and type(value) is type(allowed) for allowed in prediction.allowed):
            item.feedback.append(f"predicted {describe_value(value)} in the prediction cell; expected one of "
                                 f"{', '.join(map(repr, prediction.allowed))}")
        else:
            item.earned = 1.0
            truth = _truth(prediction, reference)
            if truth is None:
                item.feedback.append(f"written in the prediction cell: {value!r}")
            else:
                verdict = "as the reference run showed" if truth == value else f"the reference run showed {truth!r}"
                item.feedback.append(f"written in the prediction cell: {value!r} ({verdict})")
        items.append(item)
    return items


def _truth(prediction, reference):
    if reference is None:
        return None
    try:
        return prediction.truth(reference)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def same_configuration(plan: Plan, variables: dict, lab_config: dict) -> tuple[bool, list[str]]:
    """Whether the learner ran the lab's own settings; the names that differ."""
    from quizgen.lab.cache import settings_hash

    expected = {name: lab_config.get(name) for name in plan.config_names}
    submitted = {name: variables.get(name) for name in plan.config_names}
    changed = [name for name in plan.config_names
               if settings_hash({"v": expected[name]}) != settings_hash({"v": submitted[name]})]
    return settings_hash(expected) == settings_hash(submitted), changed


def score_measurements(plan: Plan, outcome, reference: dict | None, lab_config: dict) -> list[Item]:
    if not plan.measurements:
        return []
    variables = outcome.variables or {}
    measured = variables.get("MEASURED")
    item = Item("measured", "measured", "What you measured", plan.measured_points)
    if not isinstance(measured, dict):
        item.feedback.append("MEASURED was not filled in (or its cell did not run)")
        return [item]
    same, changed = same_configuration(plan, variables, lab_config)
    if same and reference is not None:
        earned = 0.0
        for measurement in plan.measurements:
            value = measured.get(measurement.name)
            ok, message = _against_reference(measurement, value, reference)
            earned += ok
            item.feedback.append(f"{'✓' if ok else '✗'} {measurement.name}: {message}")
        item.earned = earned * plan.measured_points / len(plan.measurements)
        item.feedback.insert(0, "you ran the lab's own settings, so your numbers were compared with the course's "
                                "reference run (same configuration hash)")
        return [item]
    # Numbers from a changed configuration cannot be checked against a run, and relations alone are easy
    # to satisfy with numbers made up: they earn nothing (the relations are still shown, as feedback).
    why = (f"your settings differ from the lab's ({', '.join(changed)})" if changed
           else "no reference run is cached for these settings")
    item.feedback.append(f"{why}, so your numbers cannot be checked against a run and earn no points; "
                         "keep the lab's own settings to be graded")
    for relation in plan.relations:
        item.feedback.append(f"{'✓' if relation.holds(measured) else '✗'} {relation.description} (not scored)")
    return [item]


def _against_reference(measurement, value, reference: dict) -> tuple[bool, str]:
    if measurement.kind is bool:
        if type(value) is not bool:
            return False, f"expected True or False, got {describe_value(value)}"
        value = float(value)
    elif not is_number(value):
        return False, f"expected a number, got {describe_value(value)}"
    if measurement.reference is None:
        return True, "recorded (graded by the relations: an arm this chaotic lands elsewhere on other hardware)"
    try:
        low, high = measurement.reference(reference)
    except (KeyError, TypeError, ZeroDivisionError):
        return True, "recorded (the reference run did not measure it)"
    if low <= value <= high:
        return True, "agrees with the reference run"
    return False, "outside the range the reference run allows"


def score_questions(plan: Plan, outcome) -> list[Item]:
    variables = outcome.variables or {}
    answers = variables.get("ANSWERS")
    answers = answers if isinstance(answers, dict) else {}
    items = []
    for question in plan.questions:
        if question.type not in AUTO_GRADED:
            item = Item(f"question:{question.id}", "question", f"Question: {question.title}", 0.0)
            item.feedback.append(f"not auto-graded: your instructor grades it ({question.points:g} points)")
            items.append(item)
            continue
        item = Item(f"question:{question.id}", "question", f"Question: {question.title}", float(question.points))
        value = answers.get(question.id)
        if value is None:
            item.feedback.append("not answered")
        else:
            item.earned, message = for_type(QUESTION_SCORERS, question, "the grader")(question, value)
            item.feedback.append(message)
        items.append(item)
    return items


def _choice(question, value):
    if type(value) is not str or value.strip().upper() not in letters(question):
        return 0.0, f"answer with one letter of {', '.join(letters(question))}; got {describe_value(value)}"
    index = letters(question).index(value.strip().upper())
    option = question.options[index]
    if option.correct:
        return float(question.points), "correct"
    return 0.0, "incorrect" + (f": {option.feedback}" if option.feedback else "")


def _multi(question, value):
    allowed = letters(question)
    if type(value) is str or (type(value) is list and all(type(letter) is str for letter in value)):
        chosen = chosen_letters(value, allowed)
    else:
        return 0.0, f"answer with letters of {', '.join(allowed)}; got {describe_value(value)}"
    if not chosen or any(letter not in allowed for letter in chosen):
        return 0.0, f"answer with letters of {', '.join(allowed)}"
    earned = question.score({allowed.index(letter) for letter in chosen})
    verdict = "correct" if earned == question.points else ("partly correct" if earned else "incorrect")
    return earned, verdict


def _truefalse(question, value):
    if type(value) is not bool:
        return 0.0, f"answer True or False (without quotes); got {describe_value(value)}"
    return (float(question.points), "correct") if value == question.answer else (0.0, "incorrect")


def _numeric(question, value):
    if not is_number(value):
        return 0.0, f"answer with a number; got {describe_value(value)}"
    return (float(question.points), "correct") if question.accepts(float(value)) else (0.0, "incorrect")


def _short(question, value):
    if type(value) is not str:
        return 0.0, f"answer with text in quotes; got {describe_value(value)}"
    return (float(question.points), "correct") if question.accepts(value) else (0.0, "not an accepted answer")


# The scorer of each auto-graded type (a type graded with a rubric is left to the instructor).
QUESTION_SCORERS = {"choice": _choice, "multi": _multi, "truefalse": _truefalse, "numeric": _numeric, "short": _short}


def score(plan: Plan, outcome, *, exercise_cases: dict, reference: dict | None, lab_config: dict,
          missing: list[str], predictions: dict | str | None = None) -> tuple[str, list[Item]]:
    """The submission's final status and its scored items (partial results count whatever the status)."""
    items = [*score_exercises(plan, outcome, exercise_cases), *score_predictions(plan, predictions, reference),
             *score_measurements(plan, outcome, reference, lab_config), *score_questions(plan, outcome)]
    status = outcome.status
    if status == GRADED and missing:
        status = MISSING_ANSWER_CELL
    return status, items
