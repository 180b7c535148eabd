"""The code exercises: what the learner is told, the stub they start from, and the public check.

The stub is the reference solution's signature and docstring with its body replaced, read from
solutions.py with `ast` (never imported here: building a notebook must not need torch).
"""

from __future__ import annotations

import ast
import textwrap
from functools import cache
from pathlib import Path

from quizgen.formats.notation import number
from quizgen.notebooks.plan import CHECK, EXERCISE, EXPLANATION, Cell, Exercise

SOLUTIONS = Path(__file__).with_name("solutions.py")
STUB_BODY = "    # YOUR CODE HERE\n    raise NotImplementedError"

EXERCISES = {
    "sft_loss": Exercise("sft_loss", "The SFT loss on response tokens only", points=3),
    "relative_drift": Exercise("relative_drift", "Relative parameter drift", points=2),
    "knowledge_retention": Exercise("knowledge_retention", "Knowledge retention from the recall probes", points=2),
    "loss_mask": Exercise("loss_mask", "Which tokens carry the loss", points=2),
}

INTRODUCTIONS = {
    "sft_loss": r"""Supervised fine-tuning maximises $\log \Pr_\theta(y \mid x)$, so its loss is
$-\sum_t \log \Pr_\theta(y_t \mid x, y_{<t})$ over the **response** tokens $y$ only: the prompt $x$ is
context, and its tokens are masked out of the loss. Training loops report the **mean** over response
tokens, so that is what `sft_loss` returns.

The model's `logits[b, t]` score the token at position `t + 1` of row `b`, so the first response token
(at position `prompt_len`) is predicted by `logits[b, prompt_len - 1]`. Padding after a row's `length`
real tokens never counts. Work in log-probabilities (`torch.log_softmax`), not probabilities.""",
    "relative_drift": r"""How far did fine-tuning move the weights? Flatten **all** parameters into one vector
and compare the size of the change with the size of the pre-trained weights:

$$\text{drift}(\theta) = \frac{\lVert \theta - \hat\theta \rVert_2}{\lVert \hat\theta \rVert_2}$$

Both arguments are dicts `{parameter name: tensor}`, as `checks.parameters(model)` returns them.""",
    "knowledge_retention": r"""The recall probes ask the model to complete every fact it saw in pre-training.
**Knowledge retention** is the share of the facts the model knew *before* fine-tuning that it still
knows *after*. Facts it never knew cannot be forgotten, so they do not count.

Both arguments hold one bool per probe, as `checks.probe_hits(lab, model)` returns them.""",
    "loss_mask": r"""Pre-training and instruction fine-tuning run through the same loop and minimise the same
negative log-likelihood. One thing differs in the loss: **which tokens it is taken on**. Write the mask:
for each token of `<bos> prompt response <eos>`, whether predicting it counts. With
`loss_on="response"` the prompt is masked; with `loss_on="all"` every token that something predicts
counts (the first one is predicted by nothing).""",
}


@cache
def _solution_functions() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(SOLUTIONS.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def solution_source(name: str) -> str:
    """The reference solution's source, exactly as written in solutions.py."""
    lines = SOLUTIONS.read_text(encoding="utf-8").splitlines()
    node = _solution_functions()[name]
    return "\n".join(lines[node.lineno - 1 : node.end_lineno])


def stub_source(name: str) -> str:
    """The signature and docstring of the solution, and a body for the learner to write."""
    lines = SOLUTIONS.read_text(encoding="utf-8").splitlines()
    node = _solution_functions()[name]
    docstring = node.body[0]
    head = "\n".join(lines[node.lineno - 1 : docstring.end_lineno])
    return head + "\n" + STUB_BODY


def exercise_cells(name: str, position: int) -> list[Cell]:
    exercise = EXERCISES[name]
    points = f"{number(exercise.points, digits=6)} points"
    introduction = textwrap.dedent(INTRODUCTIONS[name]).strip()
    return [
        Cell("markdown", EXPLANATION, f"## Exercise {position}: {exercise.title}\n\n*{points}*\n\n{introduction}"),
        Cell("code", EXERCISE, stub_source(name), solution_source(name), key=name),
        Cell("code", CHECK, f"checks.check_{name}({name})", key=name),
    ]
