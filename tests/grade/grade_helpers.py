"""Submissions for the grading tests: the real lab notebook, edited the way learners (and attackers) do.

Only the first few are real lab runs (with each lab recipe's QUICK settings: a few training steps); the adversarial ones are
tiny notebooks that never train, because what they test is the sandbox, not the lab.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
from pathlib import Path

import pytest

from quizgen.grade import sandbox
from quizgen.loader import load_course
from quizgen.notebooks import lab_plans, notebook_json, solution_notebook, student_notebook

# Its own ROOT, not tests/paths.py's: benchmarks/grade_neighbours.py and test_unprivileged.py's `nobody`
# import this module outside pytest, where tests/ is not on sys.path.
ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
LAB = "initialization"  # the adversarial notebooks answer its questions
RUN_LAB = "ift-vs-pretraining"  # the real notebooks: the lab whose notebook runs quickest

# Reference metrics of made-up cached runs (the grader must look them up, never retrain them).
REFERENCE_METRICS = {
    "initialization": {
        "chance_accuracy": 0.056,
        "pretrained": {"recall": 1.0, "heldout_accuracy": 0.02, "relative_drift": 0.0},
        "moderate": {"recall": 0.95, "heldout_accuracy": 0.81, "relative_drift": 0.05},
        "aggressive": {"recall": 0.2, "heldout_accuracy": 0.33, "relative_drift": 0.56},
        "random_init": {"recall": 0.0, "heldout_accuracy": 0.05, "relative_drift": 9.0},
        "lora": {"recall": 0.94, "heldout_accuracy": 0.99, "relative_drift": 0.2},
    },
    "ift-vs-pretraining": {
        "pretraining": {"tokens_seen": 3_600_000, "loop": "quizgen.lab.train.train"},
        "pretraining_replay": {"tokens_seen": 96_000, "loop": "quizgen.lab.train.train"},
        "finetuning": {"tokens_seen": 48_000, "loop": "quizgen.lab.train.train"},
        "finetuning_token_share": 48_000 / 3_600_000,
    },
}

# What this machine's sandbox can do, probed once for every grading test; the jailed tests skip without namespaces.
ISOLATION = sandbox.probe_isolation()
needs_jail = pytest.mark.skipif(not ISOLATION.jail, reason=f"no namespaces on this machine: {ISOLATION.detail}")


def plan(lab: str = LAB, quick: bool = True, learner: str | None = None):
    """The lab's notebook plan; with ``learner``, the one their personal notebook has (their variants)."""
    # The answers the labs measure, as the grader keys them: from the made-up reference runs below (a
    # question whose metric they lack is left out, here as by the grader).
    from quizgen.build import with_measured_answers

    course = with_measured_answers(load_course(CONTENT), {lab: {"metrics": metrics}
                                                          for lab, metrics in REFERENCE_METRICS.items()})[0]
    if learner:
        from quizgen.variants import course_for_learner

        course = course_for_learner(course, learner)
    return next(p for p in lab_plans(course, quick=quick) if p.lab_id == lab)


def store_reference(cache_dir: Path, lab: str) -> dict:
    """A cached result for the lab's own settings, where `quizgen grade` will look for it."""
    from quizgen.lab import cache, runner

    spec = runner.get_lab(lab)
    settings = runner.lab_settings(spec, seed=0, device="cpu", model_dir=None)
    key = cache.cache_key(settings)
    results = {"lab": lab, "key": key, "config_hash": cache.settings_hash(spec.config), "settings": settings,
               "seed": 0, "threads": runner.DEFAULT_THREADS, "metrics": REFERENCE_METRICS[lab], "claims": [],
               "timings": {"total_s": 0.0}}
    cache.store(cache_dir, lab, key, results, {})
    return results


def write(folder: Path, name: str, notebook: dict) -> Path:
    path = folder / f"{name}.ipynb"
    path.write_text(notebook_json(notebook), encoding="utf-8")
    return path


def _role(cell: dict) -> str:
    return cell["metadata"].get("quizgen", {}).get("role", "")


def _replace(notebook: dict, key: str, source: str) -> None:
    cell = next(c for c in notebook["cells"] if c["metadata"].get("quizgen", {}).get("key") == key
                and _role(c) in ("exercise", "predict", "measure", "answer"))
    cell["source"] = source


def correct(learner: str = "correct") -> dict:
    """The solution notebook as ``learner`` (the name it is handed in under) has it: their own variants."""
    return solution_notebook(plan(RUN_LAB, learner=learner))


def blank() -> dict:
    return student_notebook(plan(RUN_LAB))


def wrong() -> dict:
    """Plausible mistakes, and numbers made up instead of measured (no training cells)."""
    notebook = solution_notebook(plan(RUN_LAB))
    notebook["cells"] = [c for c in notebook["cells"] if _role(c) != "train"]
    _replace(notebook, "loss_mask", "def loss_mask(length, prompt_len, loss_on):\n"
             "    return [position >= 1 for position in range(length)]  # the prompt is not masked")
    _replace(notebook, "PREDICTIONS", "PREDICTIONS['data_under_5_percent'] = False\nPREDICTIONS['same_loop'] = False")
    _replace(notebook, "MEASURED", "MEASURED.update(finetuning_tokens_seen=5_000_000, pretraining_tokens_seen=3_600_000,\n"
             "    token_share=0.5, same_loop=False)")
    for question in plan(RUN_LAB).questions:
        wrong_letters = "".join(letter for letter, option in zip("ABCDEFGH", getattr(question, "options", ()))
                                if not option.correct)
        answer = {"choice": wrong_letters[:1], "multi": wrong_letters, "numeric": 123.0,
                  "truefalse": not getattr(question, "answer", True), "short": "the loss"}.get(question.type)
        if question.type != "critique":
            _replace(notebook, question.id, f"ANSWERS[{question.id!r}] = {answer!r}")
    return notebook


def answer_cells_deleted() -> dict:
    notebook = solution_notebook(plan(RUN_LAB))
    notebook["cells"] = [c for c in notebook["cells"] if _role(c) not in ("answer", "train", "measure")]
    return notebook


def tiny(*sources: str) -> dict:
    """A notebook of code cells that never imports the lab (the sandbox is what is under test)."""
    cells = [{"cell_type": "code", "id": f"t{i}", "metadata": {}, "source": source, "execution_count": None,
              "outputs": []} for i, source in enumerate(sources)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}


FIRST_CHOICE = "ANSWERS = {}\nANSWERS['aggressive-risk'] = 'B'  # right\n"
LIGHT_SETUP = "ANSWERS, PREDICTIONS, MEASURED = {}, {}, {}"


def around_student_cells(attack: str, at_end: bool = False) -> dict:
    """The student notebook's answer cells (so none is missing), without the lab, plus an attack."""
    notebook = student_notebook(plan())
    kept = [c for c in notebook["cells"] if _role(c) in ("exercise", "predict", "measure", "answer")]
    for cell in kept:  # the public checks and their import are not what is under test
        cell["source"] = "\n".join(line for line in cell["source"].splitlines() if not line.startswith("checks."))
    cells = tiny(LIGHT_SETUP, attack)["cells"]
    notebook["cells"] = [cells[0], *kept, cells[1]] if at_end else [*cells, *kept]
    return notebook


def float_subclass() -> dict:
    return around_student_cells(
        "class Always(float):\n"
        "    __eq__ = __le__ = __ge__ = __lt__ = __gt__ = lambda self, other: True\n"
        "    __ne__ = lambda self, other: False\n"
        "    __hash__ = float.__hash__\n"
        "    def __float__(self):\n        return 0.05\n"
        "class Anything(str):\n"
        "    __eq__ = lambda self, other: True\n"
        "    __hash__ = str.__hash__\n"
        "    def upper(self):\n        return 'B'\n"
        "    def strip(self):\n        return self\n"
        "ANSWERS = {'relative-drift': Always(999.0), 'drift-ratio': Always(-1.0), 'aggressive-risk': Anything('Z'),\n"
        "           'forgetting-name': Anything('nope')}\n"
        "MEASURED = {name: Always(-5.0) for name in ('moderate_recall', 'aggressive_recall', 'moderate_drift',\n"
        "            'aggressive_drift', 'moderate_retention', 'aggressive_retention', 'random_init_heldout_accuracy',\n"
        "            'lora_recall')}\n"
        "def relative_drift(theta, theta_hat):\n    return Always(-1.0)\n"
        "def knowledge_retention(before, after):\n    return Always(-1.0)\n", at_end=True)


def disk_search(known_paths: list[str]) -> dict:
    return around_student_cells(
        "import os, time\n"
        "ANSWERS, MEASURED = {}, {}\n"
        "WANTED = ('exercises.py', 'notebook.py', 'results.json', 'grades.csv')\n"
        "SIGNS = ('def knowledge_retention', 'RELATIVE_TOLERANCE', 'config_hash', 'relative_drift(checks.parameters')\n"
        "found, seen, started = [], 0, time.monotonic()\n"
        "def look(path):\n"
        "    try:\n"
        "        with open(path, errors='replace') as f:\n"
        "            text = f.read(2_000_000)\n"
        "    except OSError:\n"
        "        return\n"
        "    if any(sign in text for sign in SIGNS):\n"
        "        found.append(path)\n"
        f"for path in {known_paths!r}:\n"
        "    look(path)\n"
        "for top, folders, files in os.walk('/'):\n"
        "    folders[:] = [f for f in folders if not (top == '/' and f in ('proc', 'sys', 'dev'))]\n"
        "    for name in files:\n"
        "        seen += 1\n"
        "        if name in WANTED or (name.endswith('.ipynb') and top != os.getcwd()):\n"
        "            look(os.path.join(top, name))\n"
        "    if time.monotonic() - started > 2.5:\n"
        "        break\n"
        "print(f'searched {seen} files')\n"
        "for path in found:\n"
        "    print('FOUND', path)\n"
        "if found:\n"
        "    ANSWERS['aggressive-risk'] = 'B'\n", at_end=True)


def sleeps_forever() -> dict:
    return tiny(FIRST_CHOICE, "import time\ntime.sleep(10**6)", "ANSWERS['what-moderate-means'] = 'C'")


def allocates_8_gib() -> dict:
    return tiny(FIRST_CHOICE, "hoard = bytearray(8 * 2**30)\nhoard[-1] = 1", "ANSWERS['what-moderate-means'] = 'C'")


def opens_network(port: int) -> dict:
    return around_student_cells(
        "import socket\n"
        f"for host, port in (('127.0.0.1', {port}), ('1.1.1.1', 443)):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=1).close()\n"
        "        print('NETWORK connected', host)\n"
        "    except OSError as error:\n"
        "        print('NETWORK blocked', host, type(error).__name__)\n"
        "ANSWERS['aggressive-risk'] = 'B'\n", at_end=True)


def fake_marker(correct_answers: dict) -> dict:
    forged = json.dumps({"record": "variables", "values": {"ANSWERS": correct_answers}})
    return around_student_cells(
        "import os, json\n"
        f"FORGED = {forged!r}\n"
        "for marker in ('0' * 32, 'f' * 32, ''):\n"
        "    print(marker + FORGED + marker)\n"
        "for fd in range(3, 64):\n"
        "    for line in ('{\"event\": \"ready\"}', '0' * 32 + FORGED + '0' * 32, '{\"record\": \"done\"}'):\n"
        "        try:\n"
        "            os.write(fd, (line + '\\n').encode())\n"
        "        except OSError:\n"
        "            pass\n"
        "ANSWERS = {key: None for key in json.loads(FORGED)['values']['ANSWERS']}\n", at_end=True)


def fork_bomb() -> dict:
    """Children that would outlive the notebook, as many as the process limit allows."""
    return around_student_cells(
        "import os, time\n"
        "ANSWERS['aggressive-risk'] = 'B'\n"
        "children = 0\n"
        "for _ in range(100_000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(3600)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        break\n"
        "    children += 1\n"
        "print('forked', children)\n", at_end=True)


def output_flood() -> dict:
    """Hundreds of megabytes on stdout and stderr."""
    return around_student_cells(
        "import sys\n"
        "ANSWERS['aggressive-risk'] = 'B'\n"
        "for _ in range(150):\n"
        "    sys.stdout.write('x' * 1_000_000 + '\\n')\n"
        "    sys.stderr.write('e' * 1_000_000 + '\\n')\n", at_end=True)


def kernel_dies() -> dict:
    return tiny(FIRST_CHOICE, "import os\nos._exit(3)")


def correct_answers(learner: str | None = None) -> dict:
    """The key of the initialization lab's questions: of the shared notebook's variants, or of ``learner``'s own."""
    from quizgen.grade.runner import for_learner
    from quizgen.notebooks.questions import reference_answer

    questions = for_learner(plan(), learner).questions if learner else plan().questions
    return {q.id: reference_answer(q) for q in questions if q.type != "critique"}


def deepcopy(notebook: dict) -> dict:
    return copy.deepcopy(notebook)


class Listener:
    """A TCP server on this machine's loopback: a sandbox must not reach it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.server.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
                self.connections += 1
                connection.close()
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


def earned(record: dict, prefix: str) -> float:
    return sum(item["earned"] for item in record["items"] if item["id"].startswith(prefix))


def possible(record: dict, prefix: str) -> float:
    return sum(item["points"] for item in record["items"] if item["id"].startswith(prefix))
