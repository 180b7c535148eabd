"""THE training loop. Pre-training and every fine-tuning arm run through `train`; only the data, the
starting weights, the loss mask and the hyper-parameters differ."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from quizgen.lab.data import Sequence, packed

PROGRESS_BARS = True  # a bar with ETA per run on a terminal; off in LabContext.parallel's workers


@dataclass
class TrainRun:
    """What one call of the loop did: enough to put two phases side by side."""

    loop: str  # the function that ran, as module.qualname
    steps: int
    lr: float
    batch_size: int
    loss_on: str
    losses: list[float]
    tokens_seen: list[int]  # after each step: non-pad tokens fed to the model so far
    target_tokens: list[int]  # after each step: tokens the loss was taken on so far
    elapsed_s: list[float]  # after each step: seconds since the loop started
    snapshots: dict[int, dict] = field(default_factory=dict, repr=False)

    def summary(self, up_to_step: int | None = None) -> dict:
        """The run as JSON; with up_to_step, the run as it stood after that step (a snapshot)."""
        steps = up_to_step or self.steps
        return {
            "loop": self.loop, "steps": steps, "lr": self.lr, "batch_size": self.batch_size,
            "loss_on": self.loss_on, "loss_curve": self.losses[:steps],
            "final_loss": self.losses[steps - 1] if steps else None,
            "tokens_seen": self.tokens_seen[steps - 1] if steps else 0,
            "target_tokens": self.target_tokens[steps - 1] if steps else 0,
            "train_wall_s": self.elapsed_s[steps - 1] if steps else 0.0,
        }


def stacked(first, second, pad_id: int):
    """Two packed (input_ids, labels, position_ids) triples as one batch, the narrower padded."""
    import torch

    width = max(first[0].shape[1], second[0].shape[1])

    def widened(triple):
        input_ids, labels, position_ids = triple
        extra = width - input_ids.shape[1]
        if not extra:
            return triple
        rows = input_ids.shape[0]
        tail = torch.arange(extra).expand(rows, extra)  # a padding segment of its own, as in packed()
        return (torch.cat([input_ids, torch.full((rows, extra), pad_id)], 1),
                torch.cat([labels, torch.full((rows, extra), -100)], 1), torch.cat([position_ids, tail], 1))

    return tuple(torch.cat(pair) for pair in zip(widened(first), widened(second)))


def masked_nll(model, input_ids, labels, position_ids=None, label_smoothing: float = 0.0):
    """Mean of −log Pr(token | prefix) over the positions whose label is not -100.

    With ``label_smoothing`` ε, also the objective that smoothed targets give, (1−ε)·NLL + ε·(mean over the
    vocabulary of −log Pr): returned as (nll, objective), so that what a run records stays the plain NLL.
    """
    import torch.nn.functional as F

    logits = model(input_ids=input_ids, position_ids=position_ids, use_cache=False).logits
    flat_logits, flat_labels = logits[:, :-1].reshape(-1, logits.size(-1)).float(), labels[:, 1:].reshape(-1)
    if not label_smoothing:
        return F.cross_entropy(flat_logits, flat_labels, ignore_index=-100)
    targets = flat_labels != -100
    logprobs = F.log_softmax(flat_logits[targets], dim=-1)
    nll = -logprobs.gather(-1, flat_labels[targets].unsqueeze(-1)).mean()
    uniform = -logprobs.mean()
    return nll, (1 - label_smoothing) * nll + label_smoothing * uniform


def lr_at(step: int, steps: int, lr: float, warmup_steps: int, min_lr_ratio: float, cooldown_steps: int = 0) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio·lr; with ``cooldown_steps``, warm-up, a constant
    rate, and a linear decay to 0 over the last ``cooldown_steps`` steps instead (warm-up-stable-decay)."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if cooldown_steps:
        return lr * min(1.0, (steps - step) / cooldown_steps)
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


@contextmanager
def flat_buffers(parameters, align: int = 16):
    """For the time of a ``with`` block, one weight tensor and one gradient tensor holding all of
    ``parameters``, which become views into them (each starting on a multiple of ``align`` elements) with
    their gradients zeroed: an optimizer given the flat weights updates every parameter in one call, and
    autograd accumulates each parameter's gradient into its slice of the flat gradient. Per element the
    arithmetic is the same as on separate tensors, with one difference: a parameter that no loss reaches has
    a zero gradient rather than none, so AdamW's weight decay still shrinks it (torch skips a parameter
    without a gradient). However the block ends (a learner may interrupt training in a notebook and then
    save the model), each parameter gets storage of its own back, and no gradient: a saved model must not
    share one buffer."""
    import torch

    offsets, total = [], 0
    for p in parameters:
        offsets.append(total)
        total += -(-p.numel() // align) * align
    first = parameters[0] if parameters else torch.empty(0)
    weights = torch.nn.Parameter(torch.zeros(total, dtype=first.dtype, device=first.device))
    weights.grad = torch.zeros_like(weights)
    with torch.no_grad():
        for p, start in zip(parameters, offsets):
            view = weights[start:start + p.numel()].view_as(p)
            view.copy_(p)
            p.data = view
            p.grad = weights.grad[start:start + p.numel()].view_as(p)
    try:
        yield weights, weights.grad
    finally:
        for p in parameters:
            p.data = p.data.clone()
            p.grad = None


def train(
    model,
    sequences: list[Sequence],
    *,
    steps: int,
    lr: float,
    batch_size: int,
    loss_on: str = "response",
    warmup_steps: int = 0,
    min_lr_ratio: float = 0.1,
    cooldown_steps: int = 0,
    label_smoothing: float = 0.0,
    weight_decay: float = 0.0,
    grad_clip: float = 1.0,
    seed: int = 0,
    device: str = "cpu",
    pad_id: int = 0,
    pack_width: int = 64,
    snapshot_steps: tuple[int, ...] = (),
    desc: str = "training",
    penalty=None,
    replay: list[Sequence] = (),
    replay_per_step: int = 0,
) -> TrainRun:
    """Minimise the mean −log Pr of the target tokens of `sequences` with AdamW.

    loss_on="response" is the SFT objective (prompt masked), "all" is plain language modelling.
    Each step takes `batch_size` sequences, drawn in shuffled epochs decided by `seed`; the learning
    rate warms up linearly for `warmup_steps`, then follows a cosine down to min_lr_ratio·lr
    (min_lr_ratio=1 keeps it constant); `cooldown_steps` makes it constant instead, then decaying linearly
    to 0 over the last `cooldown_steps` steps. `label_smoothing` ε trains on targets smoothed towards the
    uniform distribution (the recorded losses stay the plain −log Pr). `snapshot_steps` keeps a copy of the weights after those steps.

    Only parameters that require a gradient are trained (LoRA freezes the rest). `penalty(model)`, when
    given, is added to the loss (L2-SP's pull towards θ̂); the recorded losses are the mean −log Pr alone.
    `replay_per_step` sequences of `replay` (pre-training text, loss on every token) join each batch:
    data mixing, the loss averaged over the target tokens of both.
    """
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    batch_order = torch.Generator().manual_seed(seed)
    replay_order = torch.Generator().manual_seed(seed + 1)
    model.to(device).train()
    trained = [p for p in model.parameters() if p.requires_grad]
    with flat_buffers(trained) as (weights, grads):
        # The fused kernel is many times faster than the per-tensor loop on CPU for a model this small; on one
        # flat tensor it is one call, as are zeroing and scaling the gradients.
        optimizer = torch.optim.AdamW([weights], lr=lr, betas=(0.9, 0.95), weight_decay=weight_decay, fused=True)

        losses, snapshots, tokens_seen, target_tokens, elapsed_s = [], {}, [], [], []
        queue = torch.empty(0, dtype=torch.long)
        started = time.perf_counter()
        progress = tqdm(range(steps), desc=desc, leave=False, disable=None if PROGRESS_BARS else True)
        for step in progress:
            # Epochs of shuffled examples, so every example is seen equally often.
            while len(queue) < batch_size:
                queue = torch.cat([queue, torch.randperm(len(sequences), generator=batch_order)])
            batch, queue = [sequences[i] for i in queue[:batch_size].tolist()], queue[batch_size:]
            rows = packed(batch, pad_id, loss_on, pack_width)
            if replay_per_step:
                mixed = [replay[i] for i in torch.randint(len(replay), (replay_per_step,), generator=replay_order).tolist()]
                rows = stacked(rows, packed(mixed, pad_id, "all", pack_width), pad_id)
                batch = batch + mixed
            input_ids, labels, position_ids = (t.to(device) for t in rows)

            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, steps, lr, warmup_steps, min_lr_ratio, cooldown_steps)
            if label_smoothing:
                loss, objective = masked_nll(model, input_ids, labels, position_ids, label_smoothing)
            else:
                loss = objective = masked_nll(model, input_ids, labels, position_ids)
            if penalty is not None:
                objective = objective + penalty(model)
            grads.zero_()
            objective.backward()
            if grad_clip:  # clip_grad_norm_'s arithmetic (the same norm, the same factor), on the flat gradient
                total_norm = torch.nn.utils.get_total_norm([p.grad for p in trained])
                grads.mul_(torch.clamp(grad_clip / (total_norm + 1e-6), max=1.0))
            optimizer.step()

            losses.append(loss.item())
            tokens_seen.append((tokens_seen[-1] if tokens_seen else 0) + sum(len(s.ids) for s in batch))
            target_tokens.append((target_tokens[-1] if target_tokens else 0) + int((labels != -100).sum()))
            elapsed_s.append(time.perf_counter() - started)
            if step + 1 in snapshot_steps:
                snapshots[step + 1] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            if step % 25 == 0:
                progress.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return TrainRun(
        loop=f"{train.__module__}.{train.__qualname__}",
        steps=steps, lr=lr, batch_size=batch_size, loss_on=loss_on, losses=losses,
        tokens_seen=tokens_seen, target_tokens=target_tokens, elapsed_s=elapsed_s, snapshots=snapshots,
    )
