"""How fast one lab runs: every arm, from the shipped checkpoint, on CPU with 2 threads by default.

    python benchmarks/lab_speed.py [--lab initialization] [--repeats 3] [--threads 2] [--device cpu]

Reports the median wall time of the whole lab (cache bypassed), the process's peak RSS, training
throughput in tokens/s, and achieved GFLOP/s (6 · parameters · tokens / training seconds) as a share of
a large fp32 matmul's GFLOP/s measured in the same run. Also measures a short burst of the
pre-training recipe, whose larger batches use the hardware better. Writes benchmarks/out/lab_speed.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import record


def matmul_gflops(device: str, size: int = 2048, repeats: int = 10) -> float:
    import torch

    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(2):
        a @ b
    sync(device)
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def record_training_runs():
    """Wrap the one training loop so that every run a lab makes is measured."""
    from quizgen.lab import train as train_module

    runs = []
    original = train_module.train

    def measured(model, sequences, **settings):
        parameters = sum(p.numel() for p in model.parameters())
        run = original(model, sequences, **settings)
        runs.append({"parameters": parameters, "tokens": run.tokens_seen[-1], "seconds": run.elapsed_s[-1]})
        return run

    train_module.train = measured
    return runs


def throughput(runs: list[dict], peak: float) -> dict:
    tokens = sum(r["tokens"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    flops = sum(6 * r["parameters"] * r["tokens"] for r in runs)
    return {
        "training_tokens": tokens,
        "training_s": seconds,
        "tokens_per_s": tokens / seconds,
        "achieved_gflops": flops / seconds / 1e9,
        "share_of_matmul": flops / seconds / 1e9 / peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="initialization")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--pretrain-steps", type=int, default=50)
    args = parser.parse_args()
    header = record.start("lab_speed", ["torch", "transformers"])

    import torch

    from quizgen.lab import data, model, runner, world
    from quizgen.lab.pretrain import PRETRAIN_CONFIG

    torch.set_num_threads(args.threads)
    runs = record_training_runs()
    peak = matmul_gflops(args.device)

    walls, lab_runs = [], []
    for repeat in range(args.repeats):
        runs.clear()
        with tempfile.TemporaryDirectory() as cache_dir:
            started = time.perf_counter()
            results = runner.run_lab(args.lab, seed=repeat, device=args.device, threads=args.threads,
                                     cache_dir=Path(cache_dir), refresh=True)
            walls.append(time.perf_counter() - started)
        lab_runs += runs[:]
        passed = sum(c["passed"] for c in results["claims"])
        print(f"repeat {repeat}: {walls[-1]:.1f} s, {passed}/{len(results['claims'])} claims hold", flush=True)

    # A burst of the pre-training recipe (from random weights), for the large-batch throughput.
    from quizgen.lab import train as train_module

    runs.clear()
    tokenizer = world.build_tokenizer()
    base = model.random_model(model.gpt2_config(tokenizer), seed=0)
    recipe = {k: v for k, v in PRETRAIN_CONFIG.items() if k != "seed"} | {"steps": args.pretrain_steps}
    train_module.train(base, data.build_lab_data(tokenizer).pretraining, device=args.device,
                       pad_id=tokenizer.pad_token_id, **recipe)
    pretraining_runs = runs[:]
    peak_after = matmul_gflops(args.device)

    report = {
        "lab": args.lab,
        "device": args.device,
        "threads": args.threads,
        "repeats": args.repeats,
        "lab_wall_s": walls,
        "median_lab_wall_s": statistics.median(walls),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "matmul_gflops": [peak, peak_after],
        "finetuning": throughput(lab_runs, max(peak, peak_after)),
        "pretraining_burst": throughput(pretraining_runs, max(peak, peak_after)),
    }
    print(json.dumps(report, indent=2))
    record.write(header, report)


if __name__ == "__main__":
    main()
