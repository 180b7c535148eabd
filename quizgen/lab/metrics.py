"""What a lab measures on a model. Probabilities come from the model's softmax in float64, a path
independent of the loss the loop optimises (so the two can be checked against each other)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from quizgen.lab.data import LabData, Sequence, padded

EVAL_BATCH = 512


@dataclass
class Scored:
    """Per sequence: log Pr of each token given its prefix (positions 1..n-1), and whether it was the argmax."""

    logprobs: list[list[float]]
    is_argmax: list[list[bool]]


def score(model, sequences: list[Sequence], device: str = "cpu", pad_id: int = 0) -> Scored:
    import torch

    model.eval()
    logprobs: list[list[float]] = [[] for _ in sequences]
    is_argmax: list[list[bool]] = [[] for _ in sequences]
    # Batches of similar lengths waste little on padding; results go back in the original order.
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i].ids))
    with torch.inference_mode():
        for start in range(0, len(order), EVAL_BATCH):
            rows = order[start : start + EVAL_BATCH]
            chunk = [sequences[i] for i in rows]
            input_ids, attention_mask = padded(chunk, pad_id)
            logits = model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device)).logits
            logits = logits[:, :-1].double().cpu()
            probabilities = torch.softmax(logits, dim=-1)
            targets = input_ids[:, 1:]
            token_logprobs = probabilities.gather(-1, targets.unsqueeze(-1)).squeeze(-1).log()
            hits = logits.argmax(-1) == targets
            for row, (index, sequence) in enumerate(zip(rows, chunk)):
                n = len(sequence.ids) - 1
                logprobs[index] = token_logprobs[row, :n].tolist()
                is_argmax[index] = hits[row, :n].tolist()
    return Scored(logprobs, is_argmax)


def completion_accuracy(scored: Scored, sequences: list[Sequence]) -> float:
    """Share of sequences whose answer greedy decoding reproduces from the prompt.

    Greedy completion matches the answer exactly when every answer token is the argmax given the prompt
    and the answer tokens before it, so one teacher-forced pass decides it for all probes at once.
    """
    correct = 0
    for hits, sequence in zip(scored.is_argmax, sequences):
        answer_positions = range(sequence.prompt_len - 1, sequence.prompt_len - 1 + sequence.answer_len)
        correct += all(hits[p] for p in answer_positions)
    return correct / len(sequences)


def response_logprobs(scored: Scored, sequences: list[Sequence]) -> list[float]:
    """log Pr(y|x) for each sequence, y being the response (answer and <eos>)."""
    return [sum(lp[s.prompt_len - 1 :]) for lp, s in zip(scored.logprobs, sequences)]


def response_nll_per_token(scored: Scored, sequences: list[Sequence]) -> float:
    """−mean over response tokens of log Pr(token | prefix): what the SFT loss should equal."""
    total = sum(response_logprobs(scored, sequences))
    count = sum(len(s.ids) - s.prompt_len for s in sequences)
    return -total / count


def perplexity(scored: Scored) -> float:
    total = sum(sum(lp) for lp in scored.logprobs)
    count = sum(len(lp) for lp in scored.logprobs)
    return math.exp(-total / count)


def layer_of(parameter_name: str) -> str:
    """Group parameter names by transformer block (GPT-2 `h.3.`, Llama `layers.3.`, …)."""
    match = re.search(r"\.(?:h|layers|layer|blocks)\.(\d+)\.", parameter_name)
    if match:
        return f"layer_{match.group(1)}"
    if re.search(r"wte|wpe|embed", parameter_name):
        return "embeddings"
    return "other"


def relative_drift(model, reference: dict) -> tuple[float, dict[str, float]]:
    """‖θ−θ₀‖/‖θ₀‖ over all parameters, and per layer (tied weights count once)."""
    squared_change: dict[str, float] = {}
    squared_norm: dict[str, float] = {}
    for name, parameter in model.named_parameters():
        before = reference[name].to(parameter.device).double()
        after = parameter.detach().double()
        layer = layer_of(name)
        squared_change[layer] = squared_change.get(layer, 0.0) + (after - before).square().sum().item()
        squared_norm[layer] = squared_norm.get(layer, 0.0) + before.square().sum().item()
    total = math.sqrt(sum(squared_change.values()) / sum(squared_norm.values()))
    per_layer = {layer: math.sqrt(squared_change[layer] / squared_norm[layer]) for layer in sorted(squared_change)}
    return total, per_layer


def subset(scored: Scored, sequences: list[Sequence], indices) -> tuple[Scored, list[Sequence]]:
    return (Scored([scored.logprobs[i] for i in indices], [scored.is_argmax[i] for i in indices]),
            [sequences[i] for i in indices])


def validation_nll(model, data: LabData, device: str = "cpu", pad_id: int = 0) -> float:
    """−mean log Pr of the responses to the validation questions: what early stopping watches."""
    questions = [data.finetune_heldout[i] for i in data.validation]
    return response_nll_per_token(score(model, questions, device, pad_id), questions)


def evaluate(model, data: LabData, reference: dict | None, device: str = "cpu", pad_id: int = 0) -> dict:
    """Every per-arm metric except the ones the loop reports (loss curve, tokens, wall time)."""
    def scored(sequences):
        return score(model, sequences, device, pad_id)

    probes, train_pairs, heldout = scored(data.recall_probes), scored(data.finetune_train), scored(data.finetune_heldout)
    train_logprobs = response_logprobs(train_pairs, data.finetune_train)
    heldout_logprobs = response_logprobs(heldout, data.finetune_heldout)
    metrics = {
        "recall": completion_accuracy(probes, data.recall_probes),
        "train_accuracy": completion_accuracy(train_pairs, data.finetune_train),
        "heldout_accuracy": completion_accuracy(heldout, data.finetune_heldout),
        "perplexity": perplexity(scored(data.general_heldout)),
        "train_logprob": sum(train_logprobs) / len(train_logprobs),
        "heldout_logprob": sum(heldout_logprobs) / len(heldout_logprobs),
        "train_response_nll": response_nll_per_token(train_pairs, data.finetune_train),
    }
    if data.validation:  # the held-out questions in their two halves (early stopping uses the first)
        metrics["validation_nll"] = response_nll_per_token(*subset(heldout, data.finetune_heldout, data.validation))
        metrics["test_accuracy"] = completion_accuracy(*subset(heldout, data.finetune_heldout, data.test))
    if reference is not None:
        metrics["relative_drift"], metrics["drift_per_layer"] = relative_drift(model, reference)
    return metrics
