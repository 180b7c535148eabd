"""What a learner's notebook imports: the helpers its cells call, what public checks report with, and
how answers are compared.

This module is the only part of quizgen/notebooks/ that a learner's notebook (and so `quizgen grade`'s
sandbox) ever sees. It must therefore hold no solution, no hidden test and no reference value. Each
exercise's public check is written in its lab's exercises.py and copied into the notebook; it tests
*properties* the right answer must have (the drift of θ̂ from itself is 0, uniform logits give a loss
of log V, ...) and prints what failed, never the expected result.

Checks print and never raise, so a notebook with an unfinished exercise still runs top to bottom.
"""

from __future__ import annotations

import math
import re
import traceback

# --- helpers the notebooks call ------------------------------------------------------------------


def parameters(model) -> dict:
    """The model's parameters as {name: tensor}, detached copies (tied weights appear once)."""
    return {name: parameter.detach().clone() for name, parameter in model.named_parameters()}


def probe_hits(lab, model) -> list[bool]:
    """One bool per recall probe: whether greedy completion reproduces the fact."""
    from quizgen.lab.metrics import score

    probes = lab.data.recall_probes
    scored = score(model, probes, lab.device, lab.pad_id)
    hits = []
    for is_argmax, probe in zip(scored.is_argmax, probes):
        answer_positions = range(probe.prompt_len - 1, probe.prompt_len - 1 + probe.answer_len)
        hits.append(all(is_argmax[position] for position in answer_positions))
    return hits


def batch_logits(model, sequences, pad_id: int):
    """(logits, input_ids, prompt_lens, lengths) for a right-padded batch of sequences."""
    import torch

    from quizgen.lab.data import padded

    input_ids, attention_mask = padded(sequences, pad_id)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
    return logits, input_ids, [s.prompt_len for s in sequences], [len(s.ids) for s in sequences]


# --- reporting: what every public check (in each lab's exercises.py) uses -----------------------


class Report:
    """What one public check found; printed by show(), counted by the Otter master's public test."""

    def __init__(self, title: str, hidden_tests: bool = True):
        self.title, self.lines, self.failed, self.hidden_tests = title, [], 0, hidden_tests
        self._number_checked = False

    def check(self, passed: bool, message: str) -> bool:
        self.lines.append(f"  {'✓' if passed else '✗'} {message}")
        self.failed += not passed
        return passed

    def call(self, function, *args):
        """(function(*args), True), or (None, False) after reporting what went wrong."""
        try:
            return function(*args), True
        except NotImplementedError:
            self.check(False, "not implemented yet")
        except Exception as error:  # noqa: BLE001 - a learner's bug is feedback, not a crash
            frame = traceback.extract_tb(error.__traceback__)[-1]
            self.check(False, f"raised {type(error).__name__}: {error} (line {frame.lineno})")
        return None, False

    def number(self, function, *args) -> float | None:
        """function(*args) as a plain float, or None; the first call also checks that it is one."""
        value, ok = self.call(function, *args)
        if not ok:
            return None
        value = number(value)
        if not self._number_checked:
            self._number_checked = True
            self.check(value is not None, "returns a single number (a float or a 0-d tensor)")
        return value

    def raises(self, kind: type, message: str, function, *args) -> bool:
        try:
            function(*args)
        except kind:
            return self.check(True, message)
        except Exception as error:  # noqa: BLE001
            return self.check(False, f"{message} (it raised {type(error).__name__})")
        return self.check(False, message)

    def show(self) -> "Report":
        verdict = "all public checks pass" if not self.failed else f"{self.failed} public check(s) fail"
        print(f"{self.title}: {verdict}")
        print("\n".join(self.lines))
        if not self.failed and self.hidden_tests:
            print("  (the grader also tests it on inputs you have not seen)")
        return self


def number(value) -> float | None:
    """A plain float from a float, an int or a one-element tensor; None for anything else."""
    if hasattr(value, "numel") and hasattr(value, "item"):
        if value.numel() != 1:
            return None
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float.__float__(float(value))


def near(a: float, b: float, tolerance: float = 1e-4) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(b))


def plain(value):
    """A result as plain Python (tensors and arrays as nested lists, 0-d ones as numbers), as the
    grading sandbox reports it; what `close` and `same_list` compare."""
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


# --- how a result on an unseen input is compared: (got, expected) -> None, or what is wrong ----------
# Both are plain (see plain()). The message never shows the expected value.


def close(got, expected, tolerance=1e-4):
    """A number within `tolerance`, relative (absolute below 1)."""
    import math

    if type(got) is list and len(got) == 1:
        got = got[0]  # a one-element tensor
    if type(got) not in (int, float) or abs(got) >= 2**1023:
        kind = "None" if got is None else {list: "a list", dict: "a dict", str: "text", bool: "a bool"}.get(
            type(got), type(got).__name__)
        return f"returned {kind}, not a number"
    if not math.isfinite(got):
        return f"returned {got}"
    difference = abs(got - expected)
    if difference <= tolerance * max(1.0, abs(expected)):
        return None
    relative = difference / abs(expected) if expected else math.inf
    shown = f"{relative:.0%}" if math.isfinite(relative) and relative < 10 else "far more than 100%"
    return f"returned a value off by {shown}"


def same_list(got, expected):
    """The same list of True/False, item by item."""
    if type(got) is not list or len(got) != len(expected):
        kind = "None" if got is None else {dict: "a dict", str: "text", bool: "a bool", list: "a list"}.get(
            type(got), type(got).__name__)
        return f"returned {kind}, not one True/False per item"
    if not all(type(item) is bool for item in got):
        return "returned a list whose items are not all True or False"
    wrong = sum(a != b for a, b in zip(got, expected))
    return f"{wrong} of {len(expected)} items wrong" if wrong else None


# --- predictions and quiz answers -----------------------------------------------------------------


def check_predictions(predictions: dict, allowed: dict) -> None:
    """Every prediction recorded, each one of its allowed values. Says nothing about which is right."""
    report = Report("predictions", hidden_tests=False)
    for name, values in allowed.items():
        value = predictions.get(name)
        shown = " or ".join(repr(v) for v in values)
        report.check(value in values and type(value) is type(values[0]), f"{name} is {shown}")
    report.show()


def chosen_letters(value, names) -> list[str] | None:
    """The option names a multi answer chooses, upper-cased, from "AC", "A, C" or ["A", "C"]; None when
    the answer is neither text nor a list of texts. While every option's name is one letter (26 options
    or fewer) text is read a letter at a time, skipping white space, commas and semicolons; past Z,
    where names have two letters (AA, AB, …), it is split at those separators, so "AC" is the option AC.
    The grader reads answers with this too (quizgen.grade.scoring)."""
    if isinstance(value, str):
        if all(len(name) == 1 for name in names):
            return [char for char in value.upper() if not char.isspace() and char not in ",;"]
        return [part for part in re.split(r"[\s,;]+", value.upper()) if part]
    if isinstance(value, (list, tuple, set)) and all(isinstance(item, str) for item in value):
        return [item.strip().upper() for item in value]
    return None


def _one_of(value, names) -> bool:
    return isinstance(value, str) and value.strip().upper() in names


def _some_of(value, names) -> bool:
    chosen = chosen_letters(value, names)
    return bool(chosen) and all(name in names for name in chosen)


# Each answer format (quizgen.notebooks.questions.ANSWER_CELLS writes them): (accepts(value, option
# names), what the learner is told to write).
ANSWER_CHECKS = {
    "choice": (_one_of, "one letter of {names}"),
    "multi": (_some_of, "letters of {names}"),
    "truefalse": (lambda value, names: isinstance(value, bool), "True or False"),
    "numeric": (lambda value, names: number(value) is not None and math.isfinite(number(value)), "a number"),
    "short": (lambda value, names: isinstance(value, str) and bool(value.strip()), "some text"),
}


def check_answers(answers: dict, formats: dict) -> None:
    """The answer format of every quiz question (never whether it is right).

    ``formats`` maps each question to "kind" or "kind:names", the option names run together ("ABCD") or,
    past 26 options, separated by commas ("A,B,…,AB"). A kind this module has no check for comes from a
    notebook and a quizgen that do not match: it raises rather than passing or failing the answer."""
    from quizgen.errors import QuizgenError

    checks = {}
    for question_id, form in formats.items():
        kind, _, listed = form.partition(":")
        if kind not in ANSWER_CHECKS:
            raise QuizgenError(f"check_answers: {question_id} has answer format {form!r}, which this version "
                               f"of quizgen cannot check (it checks {', '.join(ANSWER_CHECKS)})")
        accepts, what = ANSWER_CHECKS[kind]
        checks[question_id] = accepts, what, listed.split(",") if "," in listed else list(listed)
    report = Report("quiz answers", hidden_tests=False)
    for question_id, (accepts, what, names) in checks.items():
        value = answers.get(question_id)
        if value is None:
            report.check(False, f"{question_id}: not answered yet")
        else:
            report.check(accepts(value, names), f"{question_id}: {what.format(names=', '.join(names))}")
    report.show()


def show_measurements(predictions: dict, measured: dict) -> None:
    """What was predicted and what was measured, side by side, for the learner to compare."""
    missing = [name for name, value in measured.items() if value is None]
    for name, value in measured.items():
        shown = f"{value:.4g}" if isinstance(value, float) else repr(value)
        print(f"  {name}: {shown}")
    print("your predictions: " + ", ".join(f"{name} = {value!r}" for name, value in predictions.items()))
    if missing:
        print(f"still to fill in: {', '.join(missing)}")
