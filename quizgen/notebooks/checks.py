"""What a learner's notebook imports: public checks and a few helpers.

This module is the only part of quizgen/notebooks/ that a learner's notebook (and so `quizgen grade`'s
sandbox) ever sees. It must therefore hold no solution, no hidden test and no reference value: every
check tests a *property* the right answer must have (the drift of θ̂ from itself is 0, uniform logits
give a loss of log V, ...) and prints what failed, never the expected result.

Checks print and never raise, so a notebook with an unfinished exercise still runs top to bottom.
"""

from __future__ import annotations

import math
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


# --- reporting ------------------------------------------------------------------------------------


class _Report:
    def __init__(self, title: str, hidden_tests: bool = True):
        self.title, self.lines, self.failed, self.hidden_tests = title, [], 0, hidden_tests

    def check(self, passed: bool, message: str) -> bool:
        self.lines.append(f"  {'✓' if passed else '✗'} {message}")
        self.failed += not passed
        return passed

    def show(self) -> None:
        verdict = "all public checks pass" if not self.failed else f"{self.failed} public check(s) fail"
        print(f"{self.title}: {verdict}")
        print("\n".join(self.lines))
        if not self.failed and self.hidden_tests:
            print("  (the grader also tests it on inputs you have not seen)")


def _call(report: _Report, function, *args):
    """function(*args), or None after reporting what went wrong."""
    try:
        return function(*args), True
    except NotImplementedError:
        report.check(False, "not implemented yet")
    except Exception as error:  # noqa: BLE001 - a learner's bug is feedback, not a crash
        frame = traceback.extract_tb(error.__traceback__)[-1]
        report.check(False, f"raised {type(error).__name__}: {error} (line {frame.lineno})")
    return None, False


def _number(value) -> float | None:
    """A plain float from a float, an int or a one-element tensor; None for anything else."""
    if hasattr(value, "numel") and hasattr(value, "item"):
        if value.numel() != 1:
            return None
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float.__float__(float(value))


def _close(a: float, b: float, tolerance: float = 1e-4) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(b))


# --- public checks, one per exercise --------------------------------------------------------------


def check_relative_drift(relative_drift) -> None:
    import torch

    report = _Report("relative_drift")
    generator = torch.Generator().manual_seed(7)
    theta_hat = {"a.weight": torch.randn(4, 3, generator=generator), "b.bias": torch.randn(5, generator=generator)}
    value, ok = _call(report, relative_drift, theta_hat, theta_hat)
    if ok:
        value = _number(value)
        if report.check(value is not None, "returns a single number (a float or a 0-d tensor)"):
            report.check(_close(value, 0.0), "the drift of θ̂ from itself is 0")
    doubled = {name: 2 * tensor for name, tensor in theta_hat.items()}
    value, ok = _call(report, relative_drift, doubled, theta_hat)
    if ok and (value := _number(value)) is not None:
        report.check(_close(value, 1.0), "θ = 2θ̂ has drift 1 (the change is as large as θ̂ itself)")
    one_moved = dict(theta_hat, **{"b.bias": theta_hat["b.bias"] + 1.0})
    value, ok = _call(report, relative_drift, one_moved, theta_hat)
    if ok and (value := _number(value)) is not None:
        report.check(value > 0, "a change in any one tensor counts")
        scaled, ok = _call(report, relative_drift, {k: 3 * v for k, v in one_moved.items()},
                           {k: 3 * v for k, v in theta_hat.items()})
        if ok and (scaled := _number(scaled)) is not None:
            report.check(_close(scaled, value), "scaling θ and θ̂ together leaves the drift unchanged")
    # Two tensors of very different sizes: one norm over all parameters differs from an average of
    # per-tensor drifts.
    big = {"big": torch.ones(100), "small": torch.ones(1)}
    moved = {"big": torch.ones(100), "small": torch.full((1,), 2.0)}
    value, ok = _call(report, relative_drift, moved, big)
    if ok and (value := _number(value)) is not None:
        report.check(_close(value, 1 / math.sqrt(101)),
                     "all parameters are flattened into ONE vector (not an average over tensors)")
    report.show()


def check_knowledge_retention(knowledge_retention) -> None:
    report = _Report("knowledge_retention")
    value, ok = _call(report, knowledge_retention, [True, True, True, True], [True, True, True, True])
    if ok and report.check((value := _number(value)) is not None, "returns a single number"):
        report.check(_close(value, 1.0), "keeping every known fact is retention 1")
    value, ok = _call(report, knowledge_retention, [True, True, True, True], [False, False, False, False])
    if ok and (value := _number(value)) is not None:
        report.check(_close(value, 0.0), "forgetting every known fact is retention 0")
    value, ok = _call(report, knowledge_retention, [True, False, True, False], [True, True, True, True])
    if ok and (value := _number(value)) is not None:
        report.check(_close(value, 1.0), "facts the model did not know before fine-tuning do not count")
    value, ok = _call(report, knowledge_retention, [True, True, False, False], [False, False, True, True])
    if ok and (value := _number(value)) is not None:
        report.check(_close(value, 0.0), "facts learned during fine-tuning do not make up for forgotten ones")
    value, ok = _call(report, knowledge_retention, [True, True, True, True], [True, False, True, True])
    if ok and (value := _number(value)) is not None:
        report.check(0.0 < value < 1.0, "losing some known facts gives a value between 0 and 1")
    report.show()


def check_sft_loss(sft_loss) -> None:
    import torch

    report = _Report("sft_loss")
    generator = torch.Generator().manual_seed(11)
    vocab, lengths, prompt_lens = 7, [6, 4], [3, 2]
    input_ids = torch.randint(1, vocab, (2, 6), generator=generator)
    input_ids[1, 4:] = 0  # padding
    logits = torch.randn(2, 6, vocab, generator=generator)

    def loss(some_logits):
        value, ok = _call(report, sft_loss, some_logits, input_ids, prompt_lens, lengths)
        return _number(value) if ok else None

    uniform = loss(torch.zeros(2, 6, vocab))
    if report.check(uniform is not None, "returns a single number (a float or a 0-d tensor)"):
        report.check(_close(uniform, math.log(vocab)), "uniform logits give log(vocabulary size) per token")
    base = loss(logits)
    if base is None:
        report.show()
        return
    report.check(base > 0, "the loss is positive")
    in_prompt = logits.clone()
    in_prompt[0, : prompt_lens[0] - 1] += 5 * torch.randn(prompt_lens[0] - 1, vocab, generator=generator)
    changed = loss(in_prompt)
    report.check(changed is not None and _close(changed, base),
                 "predictions of prompt tokens do not count (the prompt is masked)")
    in_padding = logits.clone()
    in_padding[1, lengths[1] - 1 :] += 5.0 * torch.randn(6 - lengths[1] + 1, vocab, generator=generator)
    changed = loss(in_padding)
    report.check(changed is not None and _close(changed, base), "padding after a sequence's end does not count")
    in_response = logits.clone()
    in_response[0, prompt_lens[0] - 1] += 5 * torch.randn(vocab, generator=generator)
    changed = loss(in_response)
    report.check(changed is not None and not _close(changed, base),
                 "the prediction of the first response token counts")
    certain = torch.full((2, 6, vocab), -30.0)
    certain.scatter_(-1, torch.roll(input_ids, -1, dims=1).unsqueeze(-1), 30.0)
    changed = loss(certain)
    report.check(changed is not None and _close(changed, 0.0, 1e-3),
                 "predicting every response token with certainty gives a loss near 0")
    report.show()


def check_loss_mask(loss_mask) -> None:
    report = _Report("loss_mask")
    mask, ok = _call(report, loss_mask, 6, 3, "response")
    if ok and report.check(isinstance(mask, (list, tuple)) and len(mask) == 6, "one entry per token"):
        report.check(all(isinstance(m, bool) for m in mask), "every entry is True or False")
        report.check(not any(mask[:3]) and all(mask[3:]), "with loss_on='response' the prompt tokens carry no loss")
    mask, ok = _call(report, loss_mask, 6, 3, "all")
    if ok and isinstance(mask, (list, tuple)) and len(mask) == 6:
        report.check(not mask[0], "the first token is never a target: nothing predicts it")
        report.check(sum(map(bool, mask)) == 5, "with loss_on='all' every other token is a target")
    try:
        loss_mask(6, 3, "prompt")
        report.check(False, "an unknown loss_on raises ValueError")
    except ValueError:
        report.check(True, "an unknown loss_on raises ValueError")
    except Exception as error:  # noqa: BLE001
        report.check(False, f"an unknown loss_on raises ValueError (it raised {type(error).__name__})")
    report.show()


# --- predictions and quiz answers -----------------------------------------------------------------


def check_predictions(predictions: dict, allowed: dict) -> None:
    """Every prediction recorded, each one of its allowed values. Says nothing about which is right."""
    report = _Report("predictions", hidden_tests=False)
    for name, values in allowed.items():
        value = predictions.get(name)
        shown = " or ".join(repr(v) for v in values)
        report.check(value in values and type(value) is type(values[0]), f"{name} is {shown}")
    report.show()


def compare_predictions(predictions: dict, observed: dict) -> None:
    """Each prediction next to what this notebook measured (the learner's own numbers)."""
    for name, outcome in observed.items():
        predicted = predictions.get(name)
        if outcome is None:
            print(f"  {name}: predicted {predicted!r}; not measured yet")
        else:
            print(f"  {name}: predicted {predicted!r}, measured {outcome!r}"
                  f" {'✓' if predicted == outcome else '✗ (a surprise worth explaining)'}")


def check_answers(answers: dict, formats: dict) -> None:
    """The answer format of every quiz question (never whether it is right)."""
    report = _Report("quiz answers", hidden_tests=False)
    for question_id, form in formats.items():
        kind, _, letters = form.partition(":")
        value = answers.get(question_id)
        if value is None:
            report.check(False, f"{question_id}: not answered yet")
        elif kind == "choice":
            report.check(isinstance(value, str) and value.strip().upper() in letters,
                         f"{question_id}: one letter of {', '.join(letters)}")
        elif kind == "multi":
            chosen = list(value) if isinstance(value, (str, list, tuple, set)) else [None]
            report.check(all(isinstance(c, str) and c.strip().upper() in letters for c in chosen if str(c).strip()),
                         f"{question_id}: letters of {', '.join(letters)}")
        elif kind == "truefalse":
            report.check(isinstance(value, bool), f"{question_id}: True or False")
        elif kind == "numeric":
            report.check(_number(value) is not None and math.isfinite(_number(value)), f"{question_id}: a number")
        else:
            report.check(isinstance(value, str) and bool(value.strip()), f"{question_id}: some text")
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
