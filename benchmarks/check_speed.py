"""Time `quizgen check` on a synthetic course of 1,000 concepts x 10 questions.

    python benchmarks/check_speed.py [--concepts 1000] [--runs 7]

Target (issue 2): median <= 3 s on a 2-core machine, and `check` must not import torch.
Each run is a fresh process, as a user runs it, so interpreter start-up and imports count.
"cold" runs with the parse cache off (every file parsed); "warm" runs with a cache that an earlier
run filled (nothing changed since): the target applies to cold runs. Writes benchmarks/out/check_speed.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402
from synthetic_course import write_course  # noqa: E402

NO_TORCH = (
    "import sys\nfrom quizgen.cli import cli\n"
    "try:\n    cli(['check', sys.argv[1]])\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
    "print('torch imported' if 'torch' in sys.modules else 'torch not imported', file=sys.stderr)\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    header = record.start("check_speed")
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder) / "course"
        write_course(course, args.concepts)
        size = sum(path.stat().st_size for path in course.iterdir())
        print(f"synthetic course: {args.concepts} concepts x 10 questions, {size / 1e6:.1f} MB of Markdown")
        command = [sys.executable, "-m", "quizgen", "check", str(course)]
        cold_env = os.environ | {"QUIZGEN_NO_CACHE": "1"}
        warm_env = os.environ | {"XDG_CACHE_HOME": str(Path(folder) / "cache")}
        subprocess.run(command, check=True, capture_output=True, env=warm_env)  # fills the cache and .pyc files
        timings = {"cold": [], "warm": []}
        for _ in range(args.runs):
            for kind, env in (("cold", cold_env), ("warm", warm_env)):
                start = time.perf_counter()
                result = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
                timings[kind].append(time.perf_counter() - start)
        print(result.stdout.strip())
        torch = subprocess.run([sys.executable, "-c", NO_TORCH, str(course)], capture_output=True, text=True,
                               env=cold_env)
        torch_line = torch.stderr.strip().splitlines()[-1]
        print(torch_line)
    for kind, values in timings.items():
        print(f"quizgen check, {kind}: median {statistics.median(values):.2f} s, min {min(values):.2f} s, "
              f"max {max(values):.2f} s over {args.runs} runs")
    record.write(header, {"concepts": args.concepts, "questions": args.concepts * 10, "markdown_bytes": size,
                          "runs": args.runs, "torch_imported": torch_line == "torch imported", "seconds": timings,
                          "median_s": {kind: statistics.median(values) for kind, values in timings.items()},
                          "target_median_cold_s": 3.0})


if __name__ == "__main__":
    main()
