"""Full-size lab notebooks against the lab time budget: each lab's solution notebook, with the lab's own
settings (not the recipes' QUICK ones), run top to bottom by nbclient on a fresh kernel, as a learner runs it.

    python benchmarks/notebook_speed.py [--labs initialization keeping-knowledge sft-objective ift-vs-pretraining] [--runs 1]

Reports, per lab, the wall time of the whole notebook (kernel start included), the time of its slowest
cells, and the budget (issue 3: one lab, all arms, CPU, 2 threads, <= 60 s median). Writes
benchmarks/out/notebook_speed.json. Run it on a quiet machine: the numbers are CPU-bound.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import record

ROOT = Path(__file__).resolve().parent.parent
LAB_BUDGET_S = 60
LABS = ("initialization", "keeping-knowledge", "sft-objective", "ift-vs-pretraining")


def cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_notebook(plan) -> dict:
    import nbclient
    import nbformat

    from quizgen.notebooks import notebook_json, solution_notebook

    notebook = nbformat.reads(notebook_json(solution_notebook(plan)), as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        nbclient.NotebookClient(notebook, timeout=1800, kernel_name="python3", record_timing=True,
                                resources={"metadata": {"path": folder}}).execute()
        wall = time.perf_counter() - started
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
              if o.output_type == "error"]
    if errors:
        sys.exit(f"{plan.lab_id}: a cell failed: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    cells = sorted(((cell_seconds(cell), cell.source.splitlines()[0][:70] if cell.source else "")
                    for cell in notebook.cells if cell.cell_type == "code"), reverse=True)
    return {"wall_s": wall, "cells_s": sum(s for s, _ in cells), "slowest": cells[:4]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labs", nargs="+", default=list(LABS))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    header = record.start("notebook_speed", ["torch", "transformers", "nbclient", "ipykernel"])

    from quizgen.loader import load_course
    from quizgen.notebooks import lab_plans

    plans = {plan.lab_id: plan for plan in lab_plans(load_course(ROOT / "content"))}
    report = {"budget_s": LAB_BUDGET_S, "runs": args.runs, "labs": {}}
    for lab in args.labs:
        runs = [run_notebook(plans[lab]) for _ in range(args.runs)]
        median = statistics.median(run["wall_s"] for run in runs)
        report["labs"][lab] = {"wall_s": [run["wall_s"] for run in runs], "median_s": median,
                               "slowest_cells": runs[0]["slowest"]}
        verdict = "within" if median <= LAB_BUDGET_S else "OVER"
        print(f"{lab}: median {median:.1f} s over {args.runs} run(s), {verdict} the {LAB_BUDGET_S} s budget; "
              f"slowest cells: " + "; ".join(f"{s:.1f} s {src!r}" for s, src in runs[0]["slowest"][:3]))
    print(f"load average before {header['load_average_before'][0]:.1f}, after {os.getloadavg()[0]:.1f}")
    record.write(header, report)


if __name__ == "__main__":
    main()
