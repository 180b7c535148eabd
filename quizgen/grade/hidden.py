"""Hidden tests: inputs no learner has seen, and what the reference solution returns on them.

Each submission gets its own inputs, drawn from a fresh random seed, so a learner cannot collect them
from someone else's run. Only the inputs enter the sandbox (after the learner's cells have run); the
expected outputs and this code stay with the grader, and the feedback says how an answer failed, never
what was expected.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    arguments: list  # encoded as boot.decode reads them
    expected: object  # a float, a list of bools, or {"raises": "ValueError"}


def tensor(data, dtype: str) -> dict:
    return {"tensor": data, "dtype": dtype}


def has_tensor(argument) -> bool:
    """Whether an encoded argument (as boot.decode reads it) holds a tensor anywhere."""
    if "tensor" in argument:
        return True
    if "dict" in argument:
        return any(has_tensor(item) for item in argument["dict"].values())
    return "list" in argument and any(has_tensor(item) for item in argument["list"])


def cases(name: str, count: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    return [MAKERS[name](rng, index) for index in range(count)]


def _sft_loss(rng: random.Random, index: int) -> Case:
    import torch

    from quizgen.notebooks import solutions

    batch, positions, vocabulary = rng.randint(1, 4), rng.randint(4, 12), rng.randint(4, 13)
    lengths = [rng.randint(3, positions) for _ in range(batch)]
    prompt_lens = [rng.randint(1, length - 1) for length in lengths]
    ids = [[rng.randrange(1, vocabulary) if t < length else 0 for t in range(positions)] for length in lengths]
    scale = rng.choice((0.5, 2.0, 6.0))
    logits = [[[rng.gauss(0.0, scale) for _ in range(vocabulary)] for _ in range(positions)] for _ in range(batch)]
    expected = float(solutions.sft_loss(torch.tensor(logits, dtype=torch.float32), torch.tensor(ids), prompt_lens, lengths))
    return Case([tensor(logits, "float32"), tensor(ids, "int64"), {"value": prompt_lens}, {"value": lengths}], expected)


def _relative_drift(rng: random.Random, index: int) -> Case:
    import torch

    from quizgen.notebooks import solutions

    names = rng.sample(["wte.weight", "h.0.attn.c_attn.weight", "h.0.mlp.c_fc.bias", "ln_f.weight", "lm.bias"],
                       rng.randint(1, 4))
    shapes = {name: [rng.randint(1, 6) for _ in range(rng.randint(1, 2))] for name in names}
    theta_hat = {name: _random_values(rng, shape, 1.0) for name, shape in shapes.items()}
    step = rng.choice((0.0, 0.01, 0.3, 2.0))
    theta = {name: _add(values, _random_values(rng, shapes[name], step)) for name, values in theta_hat.items()}
    expected = solutions.relative_drift(
        {n: torch.tensor(v) for n, v in theta.items()}, {n: torch.tensor(v) for n, v in theta_hat.items()})
    return Case([{"dict": {n: tensor(v, "float32") for n, v in theta.items()}},
                 {"dict": {n: tensor(v, "float32") for n, v in theta_hat.items()}}], float(expected))


def _random_values(rng, shape, scale):
    if len(shape) == 1:
        return [rng.gauss(0.0, scale) for _ in range(shape[0])]
    return [_random_values(rng, shape[1:], scale) for _ in range(shape[0])]


def _add(a, b):
    return [_add(x, y) for x, y in zip(a, b)] if isinstance(a, list) else a + b


def _knowledge_retention(rng: random.Random, index: int) -> Case:
    from quizgen.notebooks import solutions

    size = rng.randint(4, 40)
    before = [rng.random() < rng.choice((0.5, 0.9)) for _ in range(size)]
    after = [rng.random() < 0.6 for _ in range(size)]
    # Always a known fact forgotten and an unknown one learned: that is what tells retention from recall.
    forgotten, learned = rng.sample(range(size), 2)
    before[forgotten], after[forgotten] = True, False
    before[learned], after[learned] = False, True
    return Case([{"value": before}, {"value": after}], float(solutions.knowledge_retention(before, after)))


def _loss_mask(rng: random.Random, index: int) -> Case:
    from quizgen.notebooks import solutions

    length = rng.randint(2, 30)
    prompt_len = rng.randint(1, length - 1)
    if index == 0:
        return Case([{"value": length}, {"value": prompt_len}, {"value": rng.choice(("prompt", "none", "Response"))}],
                    {"raises": "ValueError"})
    loss_on = "response" if index % 2 else "all"
    return Case([{"value": length}, {"value": prompt_len}, {"value": loss_on}],
                solutions.loss_mask(length, prompt_len, loss_on))


MAKERS = {"sft_loss": _sft_loss, "relative_drift": _relative_drift,
          "knowledge_retention": _knowledge_retention, "loss_mask": _loss_mask}
RELATIVE_TOLERANCE = 1e-4


def check(result: dict, case: Case) -> tuple[bool, str]:
    """Whether one result (as the sandbox reported it) matches; the message never shows the expected."""
    error = result.get("error") if isinstance(result, dict) else None
    expected = case.expected
    if isinstance(expected, dict) and "raises" in expected:
        if isinstance(error, dict) and error.get("type") == expected["raises"]:
            return True, ""
        return False, f"should raise {expected['raises']} for an invalid argument"
    if isinstance(error, dict):
        if error.get("type") == "timeout":
            return False, "did not return in time"
        if error.get("type") == "not run":
            return False, "was not tried: the notebook was stopped after a call that did not return in time"
        # Only the type: a message could quote the unseen input back to the learner.
        return False, f"raised {error.get('type')}"
    output = result.get("output") if isinstance(result, dict) else None
    if isinstance(expected, list):
        if not isinstance(output, list) or len(output) != len(expected):
            return False, f"returned {_kind(output)}, not one True/False per token"
        if not all(type(item) is bool for item in output):
            return False, "returned a list whose items are not all True or False"
        wrong = sum(a != b for a, b in zip(output, expected))
        return (True, "") if not wrong else (False, f"{wrong} of {len(expected)} positions wrong")
    if type(output) is list and len(output) == 1:
        output = output[0]  # a one-element tensor
    if type(output) not in (int, float) or abs(output) >= 2**1023:
        return False, f"returned {_kind(output)}, not a number"
    if not math.isfinite(output):
        return False, f"returned {output}"
    difference = abs(output - expected)
    if difference <= RELATIVE_TOLERANCE * max(1.0, abs(expected)):
        return True, ""
    relative = difference / abs(expected) if expected else math.inf
    shown = f"{relative:.0%}" if math.isfinite(relative) and relative < 10 else "far more than 100%"
    return False, f"returned a value off by {shown}"


def _kind(value) -> str:
    if isinstance(value, dict) and "__unsupported__" in value:
        return f"something that cannot be graded ({value['__unsupported__']})"
    if value is None:
        return "None"
    return {list: "a list", dict: "a dict", str: "text", bool: "a bool"}.get(type(value), type(value).__name__)
