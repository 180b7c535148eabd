"""Reference solutions of the notebook exercises.

Written once, used twice: the notebook builder copies each function's source (read with `ast`, so
building a notebook never imports torch) into the solution and Otter master notebooks, and the grader
imports them to compute what a learner's function must return on inputs the learner has never seen.
A student notebook never contains this file's code, and the grading sandbox never sees this file.

Each function's signature and docstring are also the student's stub: the body becomes
`raise NotImplementedError`.
"""

from __future__ import annotations

import torch


def sft_loss(logits, input_ids, prompt_lens, lengths):
    """The SFT loss: −mean log Pr(token | prefix) over the response tokens, prompt tokens masked.

    logits: a float tensor [batch, positions, vocabulary]; logits[b, t] scores the token at t + 1.
    input_ids: a long tensor [batch, positions]; row b holds `<bos> prompt response <eos>` and padding.
    prompt_lens[b]: the number of tokens before the response in row b (<bos> included).
    lengths[b]: the number of real tokens in row b; the rest of the row is padding.
    Returns the mean over every response token of every row (a 0-d tensor or a float).
    """
    log_probs = torch.log_softmax(logits.double(), dim=-1)
    total, count = 0.0, 0
    for row, (prompt_len, length) in enumerate(zip(prompt_lens, lengths)):
        targets = input_ids[row, prompt_len:length]
        predicted = log_probs[row, prompt_len - 1 : length - 1]
        total = total - predicted.gather(-1, targets.unsqueeze(-1)).sum()
        count += length - prompt_len
    return total / count


def relative_drift(theta, theta_hat):
    """‖θ − θ̂‖₂ / ‖θ̂‖₂, with all parameters flattened into one vector.

    theta, theta_hat: dicts {parameter name: tensor}, the same names and shapes in both.
    Returns a float (or a 0-d tensor).
    """
    squared_change = sum(float((theta[name].double() - theta_hat[name].double()).square().sum()) for name in theta_hat)
    squared_norm = sum(float(theta_hat[name].double().square().sum()) for name in theta_hat)
    return (squared_change / squared_norm) ** 0.5


def knowledge_retention(before, after):
    """The share of the facts the model knew before fine-tuning that it still knows after.

    before, after: one bool per recall probe, True where greedy completion reproduced the fact.
    Facts the model did not know before fine-tuning do not count.
    """
    known = [index for index, hit in enumerate(before) if hit]
    return sum(bool(after[index]) for index in known) / len(known)


def loss_mask(length, prompt_len, loss_on):
    """For each of a sequence's `length` tokens, whether the loss is taken on predicting it.

    The sequence is `<bos> prompt response <eos>`; its first `prompt_len` tokens come before the
    response. loss_on="response" is the fine-tuning objective (prompt masked); loss_on="all" is
    pre-training's (every token that something predicts). Any other value raises ValueError.
    Returns a list of `length` bools.
    """
    if loss_on == "response":
        first_target = prompt_len
    elif loss_on == "all":
        first_target = 1  # nothing predicts the first token
    else:
        raise ValueError(f"loss_on must be 'response' or 'all', not {loss_on!r}")
    return [position >= first_target for position in range(length)]
