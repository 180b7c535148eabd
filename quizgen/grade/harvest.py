"""What a run harvests from a notebook, kept with the submission's hash so that its score can be computed
again without running it (`quizgen grade --rescore`), and the versions that say when that is allowed.

A harvest is the sandbox's outcome (each cell's end, the answer variables, each graded function's
result on each unseen input) plus the seed the unseen inputs were drawn from. Scoring reads nothing
else of a run, so after an instructor fixes a key, a tolerance or a hidden test's judge, the scores
follow from the harvest alone. A harvest is reused only when what produced it is unchanged:

- the submitted file (its SHA-256),
- the run's fingerprint: the lab's configuration, the sandbox version (the code on both sides of the
  sandbox, the lab engine and checkpoint the notebook imports, the Python, torch and transformers
  versions), the limits, and what the grader asked the notebook for,
- the unseen inputs: drawn again from the stored seed, they must be the same inputs (a hidden test
  whose inputs changed needs the learner's function called again).

Anything else reruns that submission only. Every harvest read back, like every outcome a Dask worker
sends, passes `outcome_from_json`: bounded, cleaned and checked against the task the grader itself
sent, so neither a worker nor an edited file can add a cell, an unseen input or a status.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from importlib import metadata
from pathlib import Path

from quizgen.grade import untrusted
from quizgen.grade.sandbox import OUTPUT_TAIL, RUNTIME_FILES, STATUSES, Outcome, _call_result, _cell_result

FORMAT = 1
GRADE_FOLDER = Path(__file__).parent
PACKAGE = GRADE_FOLDER.parent
# The grader's side of the sandbox and the sandbox's own side: a change in any of them changes what a
# notebook's run yields.
SANDBOX_SOURCES = ("boot.py", "sandbox.py", "jail.py", "untrusted.py")
# What turns a harvest into points: a change here is a new grader version (and a rescore applies it).
SCORING_SOURCES = ("grade/scoring.py", "notebooks/exercises.py", "notebooks/checks.py", "notebooks/questions.py",
                   "notebooks/plan.py", "notebooks/recipe.py", "questions")
MAX_RESULT_BYTES = 96 * 2**20  # a worker's whole reply: the sandbox's channel is capped at 64 MiB


def _digest_files(digest, root: Path, names) -> None:
    for name in names:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "missing"


@functools.cache
def sandbox_version() -> str:
    """What a notebook's run depends on besides the notebook: the same on the grader and on every worker."""
    import platform

    from quizgen import __version__

    digest = hashlib.sha256()
    python = ".".join(platform.python_version_tuple()[:2])
    digest.update(json.dumps([__version__, python, _version("torch"), _version("transformers")]).encode())
    _digest_files(digest, GRADE_FOLDER, SANDBOX_SOURCES)
    _digest_files(digest, PACKAGE, RUNTIME_FILES)
    return digest.hexdigest()[:16]


@functools.cache
def grader_version() -> str:
    from quizgen import __version__

    digest = hashlib.sha256()
    _digest_files(digest, PACKAGE, SCORING_SOURCES)
    return f"quizgen {__version__} (scoring {digest.hexdigest()[:12]})"


def text_hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def lab_files_hash(folder: Path) -> str:
    """The lab's own code: its configuration, its exercises (solutions, unseen inputs, judges) and its
    notebook recipe (predictions, measurements and their tolerances)."""
    digest = hashlib.sha256()
    _digest_files(digest, folder, sorted(p.name for p in folder.glob("*.py")))
    return digest.hexdigest()


def scoring_key(plan, lab_files: str, reference: dict | None) -> str:
    """Which key scored a submission: the lab's code, the reference run's numbers and the learner's own
    questions (their variants, keys, tolerances and points)."""
    questions = [question.model_dump(mode="json") for question in plan.questions]
    return text_hash({"lab": lab_files, "reference": reference, "questions": questions})[:16]


def run_fingerprint(config_hash: str, limits: dict, variables: list[str], exercises: list[str]) -> str:
    return text_hash({"sandbox": sandbox_version(), "config": config_hash, "limits": limits,
                      "variables": variables, "exercises": exercises})[:16]


# --- outcomes as JSON: written by us, read back bounded ------------------------------------------------------


def outcome_to_json(outcome: Outcome) -> dict:
    data = outcome.to_json()
    data.pop("output_tail")
    return data


def _seconds(value) -> float:
    return float(value) if type(value) in (int, float) and math.isfinite(value) and 0 <= value < 1e7 else 0.0


def outcome_from_json(data: object, task: dict) -> Outcome:
    """An outcome from outside this process (a worker's reply, a stored harvest), rebuilt field by field and
    checked against ``task`` (what the grader asked to run): at most one result per code cell, in the
    notebook's order; only the exercises and unseen inputs it sent; a known status. Raises
    untrusted.Rejected otherwise."""
    if not isinstance(data, dict):
        raise untrusted.Rejected("not an outcome")
    status = data.get("status")
    if status not in STATUSES:
        raise untrusted.Rejected("an unknown status")
    message = data.get("message")
    outcome = Outcome(status=status, message=untrusted.clean_text(message, 2000) if isinstance(message, str) else "")
    expected = [index for index, _ in task["cells"]]
    cells = data.get("cells")
    if not isinstance(cells, list) or len(cells) > len(expected):
        raise untrusted.Rejected("more cell results than cells")
    for position, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("index") != expected[position] or type(cell.get("index")) is not int:
            raise untrusted.Rejected("a cell result out of the notebook's order")
        outcome.cells.append(_cell_result(cell, expected[position]))
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise untrusted.Rejected("answer variables that are not a dict")
    outcome.variables = variables
    exercises = data.get("exercises")
    if not isinstance(exercises, dict) or not set(exercises) <= set(task["exercise_inputs"]):
        raise untrusted.Rejected("results of functions that were not asked for")
    for name, record in exercises.items():
        if not isinstance(record, dict) or type(record.get("defined")) is not bool \
                or not isinstance(record.get("results"), list) \
                or len(record["results"]) > len(task["exercise_inputs"][name]):
            raise untrusted.Rejected("more results than unseen inputs")
        results = [_call_result(result) if isinstance(result, dict) and "error" in result
                   else {"output": result.get("output") if isinstance(result, dict) else None}
                   for result in record["results"]]
        outcome.exercises[name] = {"defined": record["defined"], "results": results}
    outcome.execution_s = _seconds(data.get("execution_s"))
    outcome.total_s = _seconds(data.get("total_s"))
    return outcome


def output_tail_from(value: object) -> str:
    return untrusted.clean_text(value, OUTPUT_TAIL, keep_newlines=True) if isinstance(value, str) else ""


# --- the stored harvest ------------------------------------------------------------------------------------


def path(out: Path, learner: str) -> Path:
    return out / "harvests" / f"{learner}.json"


def store(out: Path, learner: str, *, sha256: str, fingerprint: str, seed: int, inputs: str, outcome: Outcome,
          worker: str) -> None:
    from quizgen.grade.reports import write_atomic

    record = {"format": FORMAT, "sha256": sha256, "run": fingerprint, "seed": seed, "inputs": inputs,
              "worker": worker, "outcome": outcome_to_json(outcome)}
    write_atomic(path(out, learner), json.dumps(record, sort_keys=True) + "\n")


def load(out: Path, learner: str) -> dict | None:
    """The stored harvest of a learner, parsed with the bounds of anything from a sandbox; None if none."""
    try:
        data = path(out, learner).read_bytes()
    except OSError:
        return None
    try:
        harvest = untrusted.parse(data, MAX_RESULT_BYTES, max_items=4 * untrusted.MAX_ITEMS)
    except untrusted.Rejected:
        return None
    if not isinstance(harvest, dict) or harvest.get("format") != FORMAT or type(harvest.get("seed")) is not int:
        return None
    return harvest


def why_not_reusable(harvest: dict | None, sha256: str, fingerprint: str) -> str | None:
    """Why a stored harvest cannot stand for a new run of this file, or None when it can."""
    if harvest is None:
        return "no harvest is stored"
    if harvest.get("sha256") != sha256:
        return "the notebook changed"
    if harvest.get("run") != fingerprint:
        return "the lab configuration, the sandbox or the limits changed"
    return None
