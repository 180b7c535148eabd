"""What one training step and one evaluation cost, and what the loop's two speed-ups bought.

    python benchmarks/step_speed.py [--rounds 4] [--steps 40] [--against REV]

On the one thread an arm trains on, from the shipped checkpoint, with the initialization lab's aggressive
recipe (docs/labs.md quotes these figures):

1. **The activation alone**: GPT-2's tanh GELU on a 1024×512 tensor, torch's kernel
   (`gelu(approximate="tanh")`) against quizgen.lab.activations' sigmoid form, forward and forward+backward.
2. **A step and an evaluation, before and after**: "before" fills rows in order (one row per run of
   sequences that fits, as the loop did) and computes the activation with transformers' module;
   "first-fit" fills rows first-fit, longest first, without spreading them evenly (as the loop did next);
   "after" is the loop as it is. They alternate, --rounds times, in this one process, so that the
   machine's drift falls on all alike; the figures are medians.
3. **A step's fixed cost**: the median step at 1, 16 and 64 pairs a batch.
4. With `--against REV`: **the loop as it is against the loop at a git revision** (quizgen.lab.train and
   quizgen.lab.activations as REV had them), alternating rounds at the labs' 16 pairs: the median step of
   each, and whether the two trained the same losses bit for bit.

Writes benchmarks/out/step_speed.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from functools import reduce

import record


def median_ms(function, calls: int = 50) -> float:
    for _ in range(3):
        function()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def activation(torch) -> dict:
    from quizgen.lab.activations import GELUTanh

    x = torch.randn(1024, 512) * 3
    grad = torch.randn_like(x)
    leaf = x.clone().requires_grad_()

    def torch_both():
        torch.nn.functional.gelu(leaf, approximate="tanh").backward(grad)

    def ours_both():
        GELUTanh()(leaf).backward(grad)

    return {"torch_forward_ms": median_ms(lambda: torch.nn.functional.gelu(x, approximate="tanh")),
            "sigmoid_form_forward_ms": median_ms(lambda: GELUTanh()(x)),
            "torch_forward_backward_ms": median_ms(torch_both),
            "sigmoid_form_forward_backward_ms": median_ms(ours_both)}


def in_order(sequences, pad_id: int, loss_on: str, width: int = 64):
    """The rows the loop packed before: in order, a new row whenever the next sequence does not fit."""
    from quizgen.lab.data import packed
    from quizgen.lab.train import stacked

    groups: list[list] = [[]]
    for sequence in sequences:
        if groups[-1] and sum(len(s.ids) for s in groups[-1]) + len(sequence.ids) > width:
            groups.append([])
        groups[-1].append(sequence)
    return reduce(lambda a, b: stacked(a, b, pad_id), (packed(group, pad_id, loss_on, width) for group in groups))


def first_fit(sequences, pad_id: int, loss_on: str, width: int = 64):
    """The rows first-fit gives, longest first, not spread evenly over their count."""
    from quizgen.lab.data import _first_fit, packed
    from quizgen.lab.train import stacked

    order = sorted(sequences, key=lambda s: len(s.ids), reverse=True)
    return reduce(lambda a, b: stacked(a, b, pad_id), (packed(row, pad_id, loss_on, width) for row in _first_fit(order, width)))


def with_transformers_activation(model):
    from transformers import activations

    from quizgen.lab.activations import GELUTanh, replace_modules

    return replace_modules(model, (GELUTanh,), activations.GELUTanh)


def loop_at(revision: str) -> dict:
    """quizgen.lab.activations and quizgen.lab.train as they were at ``revision``, loaded as modules of
    their own (the rest of quizgen is today's)."""
    modules = {}
    for name in ("activations", "train"):
        path = f"quizgen/lab/{name}.py"
        shown = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=record.ROOT, capture_output=True, text=True)
        if shown.returncode:
            sys.exit(f"--against {revision}: git cannot show {path} there ({shown.stderr.strip()})")
        module = types.ModuleType(f"{name}_at_{revision}")
        sys.modules[module.__name__] = module  # dataclasses look their module up by name
        exec(compile(shown.stdout, f"{revision}:{path}", "exec"), module.__dict__)
        modules[name] = module
    return modules


def against(revision: str, lab, spec, rounds: int, steps: int) -> dict:
    """Median steps of the loop at ``revision`` and as it is, in alternating rounds at the labs' batch."""
    from quizgen.lab import train
    from quizgen.lab.activations import GELUTanh, replace_modules

    then = loop_at(revision)
    variants = {revision: (then["train"].train, lambda model: replace_modules(model, (GELUTanh,), then["activations"].GELUTanh)),
                "now": (train.train, lambda model: model)}
    arm = spec.module.AGGRESSIVE | {"steps": steps}
    step_s: dict[str, list[float]] = {name: [] for name in variants}
    losses: dict[str, list[float]] = {}
    current = train.train
    try:
        for _ in range(rounds):
            for name, (loop, prepare) in variants.items():
                train.train = loop  # what lab.finetune calls
                run = lab.finetune(prepare(lab.pretrained()), desc=name, **spec.module.RECIPE, **arm)
                step_s[name].append(statistics.median(b - a for a, b in zip(run.elapsed_s, run.elapsed_s[1:])))
                losses[name] = run.losses
    finally:
        train.train = current
    medians = {name: statistics.median(times) for name, times in step_s.items()}
    return {"revision": revision, "step_s": step_s, "median_step_s": medians,
            "ratio": medians[revision] / medians["now"], "same_losses": losses[revision] == losses["now"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--against", metavar="REV", help="also time the loop as it is against the loop at this git revision")
    args = parser.parse_args()
    header = record.start("step_speed", ["torch", "transformers"])

    import torch

    from quizgen.lab import data, runner, train

    torch.set_num_threads(runner.TRAINING_THREADS)
    gelu = activation(torch)
    print(f"activation, 1024×512: forward {gelu['torch_forward_ms']:.2f} ms (torch) against "
          f"{gelu['sigmoid_form_forward_ms']:.2f} ms (sigmoid form); forward+backward "
          f"{gelu['torch_forward_backward_ms']:.2f} against {gelu['sigmoid_form_forward_backward_ms']:.2f} ms",
          flush=True)

    spec = runner.get_lab("initialization")
    lab = runner.LabContext(seed=0, device="cpu", model_dir=None)
    arm = spec.module.AGGRESSIVE | {"steps": args.steps}
    variants = {"before": (in_order, with_transformers_activation), "first-fit": (first_fit, lambda model: model),
                "after": (data.packed, lambda model: model)}
    step_s: dict[str, list[float]] = {name: [] for name in variants}
    eval_s: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _ in range(args.rounds):
            for name, (packing, prepare) in variants.items():
                train.packed = packing
                model = prepare(lab.pretrained())
                run = lab.finetune(model, desc=name, **spec.module.RECIPE, **arm)
                step_s[name].append(run.elapsed_s[-1] / run.steps)
                started = time.perf_counter()
                lab.evaluate(model)
                eval_s[name].append(time.perf_counter() - started)
    finally:
        train.packed = data.packed
    medians = {name: {"step_s": statistics.median(step_s[name]), "eval_s": statistics.median(eval_s[name])}
               for name in variants}
    step_ratio = medians["before"]["step_s"] / medians["after"]["step_s"]
    eval_ratio = medians["before"]["eval_s"] / medians["after"]["eval_s"]
    spread_ratio = medians["first-fit"]["step_s"] / medians["after"]["step_s"]
    print(f"step: {medians['before']['step_s'] * 1e3:.1f} ms before, {medians['first-fit']['step_s'] * 1e3:.1f} ms "
          f"first-fit, {medians['after']['step_s'] * 1e3:.1f} ms after ({step_ratio:.2f}x before, {spread_ratio:.2f}x "
          f"first-fit); evaluation {medians['before']['eval_s']:.2f} s before, {medians['after']['eval_s']:.2f} s "
          f"after ({eval_ratio:.2f}x); medians of {args.rounds} rounds", flush=True)

    recipe = {key: value for key, value in spec.module.RECIPE.items() if key != "batch_size"}
    by_batch = {}
    for batch_size in (1, 16, 64):
        run = lab.finetune(lab.pretrained(), desc=f"batch {batch_size}", **recipe,
                           **(arm | {"batch_size": batch_size}))
        by_batch[batch_size] = statistics.median(b - a for a, b in zip(run.elapsed_s, run.elapsed_s[1:]))
    print("median step at " + ", ".join(f"{size} pairs {seconds * 1e3:.0f} ms" for size, seconds in by_batch.items()),
          flush=True)

    compared = None
    if args.against:
        compared = against(args.against, lab, spec, args.rounds, args.steps)
        print(f"step at 16 pairs: {compared['median_step_s'][args.against] * 1e3:.1f} ms at {args.against}, "
              f"{compared['median_step_s']['now'] * 1e3:.1f} ms now ({compared['ratio']:.2f}x); the same losses bit for "
              f"bit: {'yes' if compared['same_losses'] else 'no'}; medians of {args.rounds} rounds", flush=True)

    record.write(header, {
        "threads": runner.TRAINING_THREADS, "rounds": args.rounds, "steps": args.steps, "activation": gelu,
        "step_s": step_s, "eval_s": eval_s, "medians": medians, "step_ratio": step_ratio, "eval_ratio": eval_ratio,
        "spread_step_ratio": spread_ratio,
        "median_step_s_by_batch": by_batch, "against": compared,
    })


if __name__ == "__main__":
    main()
