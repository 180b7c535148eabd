"""How much grading costs beyond the notebooks themselves: 20 submissions of one lab, 2 workers.

    python benchmarks/grade_speed.py [--lab initialization] [--submissions 20] [--workers 2] [--quick]

Each submission is the lab's solution notebook (the lab's own settings unless --quick), so the
submissions are graded against the cached reference run, as a class that kept the settings would be.
Reports, per submission, the notebook's own execution (the sum of its cells' times, measured in the
sandbox) and the grader's overhead beyond it (sandbox start, jail, harvest, unseen inputs, scoring,
files); the median overhead is the number to keep at or under 2 s. Also shows that the reference run
is looked up once and never retrained per submission: the grader's own process runs the training loop
zero times while grading. Writes benchmarks/out/grade_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import record

ROOT = Path(__file__).resolve().parent.parent
LAB_BUDGET_S = 60  # issue 3: one lab, all arms, CPU, 2 threads


def count_training_runs() -> list:
    """Wrap the one training loop in this process: any reference retraining would show up here."""
    from quizgen.lab import train as train_module

    calls = []
    original = train_module.train

    def counted(*args, **kwargs):
        calls.append(kwargs.get("desc"))
        return original(*args, **kwargs)

    train_module.train = counted
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lab", default="initialization")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="each lab recipe's QUICK settings (graded by relations)")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "build" / "lab-cache")
    args = parser.parse_args()
    header = record.start("grade_speed", ["torch", "transformers"])

    from quizgen.grade import runner as grade_runner
    from quizgen.grade.sandbox import Limits, probe_isolation
    from quizgen.lab import runner as lab_runner
    from quizgen.loader import load_course
    from quizgen.notebooks import lab_plans, notebook_json, solution_notebook

    os.chdir(ROOT)
    started = time.perf_counter()
    reference = lab_runner.run_lab(args.lab, cache_dir=args.cache_dir)
    reference_s = time.perf_counter() - started
    print(f"reference run of {args.lab}: {'cached' if reference['cached'] else 'computed'} in {reference_s:.1f} s")

    plan = next(p for p in lab_plans(load_course(ROOT / "content"), quick=args.quick)
                if p.lab_id == args.lab)
    notebook = solution_notebook(plan)
    trainings_in_grader = count_training_runs()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for number in range(args.submissions):
            learner = dict(notebook, metadata=dict(notebook["metadata"], learner=f"learner-{number:02d}"))
            (folder / f"learner-{number:02d}.ipynb").write_text(notebook_json(learner), encoding="utf-8")
        isolation = probe_isolation()
        started = time.perf_counter()
        report = grade_runner.grade([folder], lab_id=args.lab, out=folder / "out", content=ROOT / "content",
                                    workers=args.workers, cache_dir=args.cache_dir, isolation=isolation,
                                    limits=Limits(cell_timeout=600, wall_timeout=1800))
        wall_s = time.perf_counter() - started

    records = report.records
    execution = [r["timings"]["execution_s"] for r in records]
    overhead = [r["timings"]["overhead_s"] for r in records]
    scores = sorted({(r["status"], r["score"], r["points_possible"]) for r in records})
    result = {
        "commit": header["commit"], "versions": header["versions"],
        "lab": args.lab, "submissions": len(records), "workers": args.workers, "quick": args.quick,
        "isolation": isolation.mode, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
        "reference": {"cached": reference["cached"], "lookup_s": reference_s, "key": reference["key"]},
        "grader_reference_cached": report.header["reference"]["cached"],
        "trainings_in_grader_process": len(trainings_in_grader),
        "wall_s": wall_s,
        "execution_s": {"median": statistics.median(execution), "min": min(execution), "max": max(execution)},
        "overhead_s": {"median": statistics.median(overhead), "min": min(overhead), "max": max(overhead)},
        "lab_budget_s": LAB_BUDGET_S,
        "outcomes": [{"status": s, "score": score, "points_possible": p} for s, score, p in scores],
    }
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "grade_speed.json").write_text(json.dumps(result, indent=2) + "\n")

    print(f"{len(records)} submissions, {args.workers} workers, isolation {isolation.mode}: {wall_s:.1f} s wall")
    print(f"notebook execution per submission: median {result['execution_s']['median']:.1f} s "
          f"(lab budget {LAB_BUDGET_S} s)")
    print(f"grader overhead per submission: median {result['overhead_s']['median']:.2f} s, "
          f"max {result['overhead_s']['max']:.2f} s (target <= 2 s)")
    print(f"reference results: {'reused from the cache' if result['grader_reference_cached'] else 'computed'}; "
          f"training runs in the grader process while grading: {len(trainings_in_grader)}")
    print("outcomes: " + "; ".join(f"{o['status']} {o['score']:g}/{o['points_possible']:g}" for o in result["outcomes"]))


if __name__ == "__main__":
    main()
