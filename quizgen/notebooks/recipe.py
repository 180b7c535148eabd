"""What a lab's notebook is made of, and how its recipe becomes a `Plan`.

A lab folder may hold a `notebook.py`, the lab's recipe: which of its configuration the notebook
copies (`CONFIG`), the cells between the configuration and the quiz (`CELLS`, made with `text`, `code`,
`train`, `exercise`, `predict` and `measure` below), what the learner predicts (`PREDICTIONS`) and
measures (`MEASUREMENTS`, each described once), the relations any run must show (`RELATIONS`) and
settings small enough for a test (`QUICK`). docs/labs.md describes it. Every notebook opens with the
lab's docstring, the setup and the configuration, and closes with the concept's quiz. A lab without a
`notebook.py` gets the generic notebook: its configuration, its `run` function and the quiz.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

from quizgen.errors import QuizgenError
from quizgen.lab.claims import flatten
from quizgen.notebooks.plan import (
    CODE, CONFIG, EXPLANATION, MEASURE, PREDICT, SETUP, TRAIN, Cell, Measurement, Plan, Prediction, Relation,
)
from quizgen.notebooks.questions import AUTO_GRADED, answer_format, question_cells

__all__ = ["Measurement", "Prediction", "Relation", "code", "exercise", "measure", "predict", "text", "train",
           "reference_interval", "retention_interval", "plan_for", "flat_metrics"]

# The notebook's own work must fit in the lab's time budget on a laptop CPU: it runs each named arm once
# and skips the lab's sweeps (grid, interpolation), which the site shows from the cached results.
SETUP_SOURCE = '''\
# The lab engine, the shipped pre-trained model θ̂ and its data. SEED and the thread count are those of
# the course's reference run: keep them, and your numbers can be compared with the course's.
try:
    from quizgen.lab.runner import TRAINING_THREADS, LabContext  # first: it sets how torch's threads wait
    from quizgen.notebooks import checks

    import torch
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(f"this notebook runs on quizgen's lab engine, and {missing.name} is not installed: "
                              "run  pip install 'quizgen[lab]' torch==2.13.0  and restart the kernel") from None

SEED = 0
torch.manual_seed(SEED)
torch.set_num_threads(TRAINING_THREADS)
lab = LabContext(seed=SEED, device="cpu", model_dir=None)
ANSWERS, PREDICTIONS, MEASURED = {}, {}, {}'''

HOW_IT_WORKS = """\
**How this notebook works.** Run the cells from top to bottom. Write your code where it says
`# YOUR CODE HERE`; the check under each exercise tells you what is still wrong (the grader also tests
your code on inputs you have not seen). Before each fine-tuning run, record what you **predict** will
happen; after it, record what you **measured**. Answer the quiz questions at the end in the answer
cells. Do not rename the variables `ANSWERS`, `PREDICTIONS` and `MEASURED` or the functions you write:
the grader reads them. This notebook runs the lab's main arms; the course site shows the results of
its longer sweeps."""



# --- what a recipe's CELLS are made of ------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """Where the recipe places an exercise, the predictions or the measurements."""

    kind: str  # "exercise", "predict" or "measure"
    name: str = ""


def text(markdown: str) -> Cell:
    return Cell("markdown", EXPLANATION, textwrap.dedent(markdown).strip())


def code(source: str) -> Cell:
    return Cell("code", CODE, textwrap.dedent(source).strip())


def train(source: str) -> Cell:
    """A cell that fine-tunes: predictions come before the first, measurements after the last."""
    return Cell("code", TRAIN, textwrap.dedent(source).strip())


def exercise(name: str) -> Slot:
    """The exercise `name` of the lab's exercises.py: its text, its stub and its public check."""
    return Slot("exercise", name)


def predict() -> Slot:
    return Slot("predict")


def measure() -> Slot:
    return Slot("measure")


def plan_for(spec, concept=None, config_overrides: dict | None = None, files: Path | None = None) -> Plan:
    """The notebook plan of a lab (a `quizgen.lab.runner.LabSpec`) and its concept's questions; ``files``
    is the content folder (Course.folder), where the images the questions show are."""
    questions = tuple(q for q in (concept.questions if concept else ()))
    shown = {file.src: files / file.name for file in concept.files} if concept and files else {}
    overrides = dict(config_overrides or {})
    concept_id = concept.id if concept else None
    recipe = spec.notebook
    if recipe is None:
        return generic(spec, questions, overrides, concept_id, shown)
    check_recipe(spec)
    config_names = tuple(getattr(recipe, "CONFIG", ()))
    predictions, measurements = tuple(getattr(recipe, "PREDICTIONS", ())), tuple(getattr(recipe, "MEASUREMENTS", ()))
    cells, exercises = opening_cells(spec, config_names, overrides, getattr(recipe, "CONFIG_CODE", "")), []
    for step in recipe.CELLS:
        if isinstance(step, Cell):
            cells.append(step)
        elif step.kind == "exercise":
            exercises.append(spec.exercises[step.name])
            cells += exercises[-1].cells(len(exercises))
        elif step.kind == "predict":
            cells += predict_cells(predictions)
        else:
            cells += measure_cells(measurements)
    cells += [*quiz_cells(questions, shown), *closing_cells()]
    return Plan(spec.id, spec.title, tuple(cells), config_names, exercises=tuple(exercises), predictions=predictions,
                measurements=measurements, relations=tuple(getattr(recipe, "RELATIONS", ())), questions=questions,
                concept_id=concept_id, measured_points=float(len(measurements)))


def check_recipe(spec) -> None:
    """What a lab's notebook.py can get wrong, found without building its notebook (the loader asks, so
    that check and build refuse the same): a step CELLS cannot hold, an exercise exercises.py lacks, a
    setting CONFIG copies that lab.py does not define."""
    recipe, where = spec.notebook, spec.folder / "notebook.py"
    for step in getattr(recipe, "CELLS", None) or ():
        if not isinstance(step, (Cell, Slot)) or isinstance(step, Slot) and step.kind not in ("exercise", "predict",
                                                                                              "measure"):
            raise QuizgenError(f"CELLS holds {step!r}: use text, code, train, exercise, predict or measure", where)
        if isinstance(step, Slot) and step.kind == "exercise" and step.name not in spec.exercises:
            known = ", ".join(spec.exercises) or "none"
            raise QuizgenError(f"CELLS names the exercise '{step.name}', which exercises.py does not define "
                               f"(its exercises: {known})", where)
    if not getattr(recipe, "CELLS", None):
        raise QuizgenError("notebook.py defines no CELLS (the cells between the configuration and the quiz)", where)
    missing = [name for name in getattr(recipe, "CONFIG", ()) if not hasattr(spec.module, name)]
    if missing:
        raise QuizgenError(f"CONFIG copies {', '.join(missing)}, which lab.py does not define", where)


# --- pieces every notebook shares ------------------------------------------------------------------


def lab_docstring(spec) -> str:
    return ast.get_docstring(ast.parse(spec.path.read_text(encoding="utf-8"))) or ""


def config_source(spec, names: tuple[str, ...], overrides: dict) -> str:
    """The lab file's own assignments of `names` (comments kept), each override replacing its line."""
    source = spec.path.read_text(encoding="utf-8")
    lines = source.splitlines()
    chunks = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if name not in names:
            continue
        if name in overrides:
            chunks.append(f"{name} = {overrides[name]!r}  # reduced from the lab's setting")
            continue
        if isinstance(node.value, ast.Attribute):  # taken from another lab (runner.sibling): its value here
            chunks.append(f"{name} = {getattr(spec.module, name)!r}  # lab.py: {name} = {ast.unparse(node.value)}")
            continue
        start = node.lineno - 1
        while start > 0 and lines[start - 1].startswith("#") and not lines[start - 1].startswith("# ---"):
            start -= 1
        chunks.append("\n".join(lines[start : node.end_lineno]))
    missing = [name for name in names if not any(chunk.startswith(name) or f"\n{name} =" in chunk for chunk in chunks)]
    if missing:
        raise QuizgenError(f"the notebook copies {', '.join(missing)}, which the lab does not define", spec.path)
    return "\n".join(chunks)


def opening_cells(spec, config_names, overrides, extra_config: str = "") -> list[Cell]:
    first, _, rest = lab_docstring(spec).partition("\n")
    # The docstring's first line names the lab again ("Lab: …"), which the title already says.
    explanation = rest.strip() if first.lower().startswith("lab") else f"{first}\n{rest}".strip()
    intro = f"# Lab: {spec.title}\n\n{explanation}\n\n{HOW_IT_WORKS}"
    extra_config = textwrap.dedent(extra_config).strip()
    config = config_source(spec, config_names, overrides) + (f"\n\n{extra_config}" if extra_config else "")
    return [
        Cell("markdown", EXPLANATION, intro.strip()),
        Cell("code", SETUP, SETUP_SOURCE),
        Cell("markdown", EXPLANATION, "## The configuration\n\nThe lab's own settings, copied from "
             f"`{spec.id}/lab.py`. Change them if you like: the grader then checks the relations your "
             "runs must show instead of comparing your numbers with the course's."),
        Cell("code", CONFIG, config),
    ]


def predict_cells(predictions: tuple[Prediction, ...]) -> list[Cell]:
    def source(solution: bool) -> str:
        lines = [f"PREDICTIONS[{p.name!r}] = {p.solution if solution else None!r}  # {p.question}" for p in predictions]
        allowed = ", ".join(f"{p.name!r}: {p.allowed!r}" for p in predictions)
        return "\n".join(lines) + f"\nchecks.check_predictions(PREDICTIONS, {{{allowed}}})"

    return [
        Cell("markdown", EXPLANATION, "## Predict, then run\n\nBefore you run the fine-tuning below, record "
             "what you expect. A prediction counts only if it is recorded **before** the runs; you will "
             "compare it with what you measure."),
        Cell("code", PREDICT, source(False), source(True), key="PREDICTIONS"),
    ]


def measure_cells(measurements: tuple[Measurement, ...]) -> list[Cell]:
    width = max(len(m.name) for m in measurements)
    student = ["# Fill in each value from your runs above."]
    solution = ["# Fill in each value from your runs above."]
    for m in measurements:
        padding = " " * (width - len(m.name))
        student.append(f"MEASURED[{m.name!r}]{padding} = None  # {m.description}")
        solution.append(f"MEASURED[{m.name!r}]{padding} = {m.solution}")
    solution.append("checks.show_measurements(PREDICTIONS, MEASURED)")
    student.append("checks.show_measurements(PREDICTIONS, MEASURED)")
    return [
        Cell("markdown", EXPLANATION, "## What you measured\n\nRecord the numbers your runs produced. "
             "The grader compares them with the course's reference run (same settings) or checks the "
             "relations between them (your own settings)."),
        Cell("code", MEASURE, "\n".join(student), "\n".join(solution), key="MEASURED"),
    ]


def quiz_cells(questions, files: dict | None = None) -> list[Cell]:
    if not questions:
        return []
    formats = ",\n    ".join(f"{q.id!r}: {answer_format(q)!r}" for q in questions if q.type in AUTO_GRADED)
    return [
        Cell("markdown", EXPLANATION, "## Quiz\n\nAnswer in the cell under each question. Choice questions take a "
             "letter, true/false questions `True` or `False`, numeric questions a number."),
        *question_cells(questions, files),
        Cell("code", CODE, f"checks.check_answers(ANSWERS, {{\n    {formats},\n}})"),
    ]


def closing_cells() -> list[Cell]:
    return [Cell("markdown", EXPLANATION, "## Submitting\n\nRestart the kernel and run every cell from the top, "
                 "then submit this `.ipynb` file. The grader runs it again from scratch in a sandbox, so "
                 "what counts is what the notebook computes, not the outputs saved in the file.")]


def reference_interval(metric: str, absolute: float = 0.0, relative: float = 0.0):
    def interval(metrics: dict) -> tuple[float, float]:
        value = metrics[metric]
        margin = absolute + relative * abs(value)
        return value - margin, value + margin

    return interval


def retention_interval(arm: str, absolute: float):
    """Retention is not cached, but recall before (b) and after (a) bound it: known-before facts still
    known after number at least a + b − 1 and at most min(a, b)."""
    def interval(metrics: dict) -> tuple[float, float]:
        before, after = metrics["pretrained.recall"], metrics[f"{arm}.recall"]
        return max(0.0, after + before - 1) / before - absolute, min(after, before) / before + absolute

    return interval


def generic(spec, questions, overrides, concept_id, files: dict | None = None) -> Plan:
    """Any other lab: its configuration and its `run` function as written, then the quiz."""
    names = tuple(spec.config)
    source = spec.path.read_text(encoding="utf-8")
    run = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == "run")
    run_source = "\n".join(source.splitlines()[run.lineno - 1 : run.end_lineno])
    cells = [
        *opening_cells(spec, names, overrides),
        Cell("markdown", EXPLANATION, "## The lab\n\nThe lab's `run` function, as written in the lab file."),
        Cell("code", CODE, run_source),
        Cell("code", TRAIN, "metrics = run(lab)"),
        *quiz_cells(questions, files),
        *closing_cells(),
    ]
    return Plan(spec.id, spec.title, tuple(cells), names, questions=questions, concept_id=concept_id)


def flat_metrics(results: dict) -> dict:
    """A cached lab result's metrics as {dotted name: value}, what Measurement.reference reads."""
    return flatten(results.get("metrics", {}))
