"""Time `quizgen check` on a synthetic course of 1,000 concepts x 10 questions.

    python benchmarks/check_speed.py [--concepts 1000] [--runs 7]

Target (issue 2): median <= 3 s on a 2-core machine, and `check` must not import torch.
Each run is a fresh process, as a user runs it, so interpreter start-up and imports count.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
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
    with tempfile.TemporaryDirectory() as folder:
        course = Path(folder) / "course"
        write_course(course, args.concepts)
        size = sum(path.stat().st_size for path in course.iterdir())
        print(f"synthetic course: {args.concepts} concepts x 10 questions, {size / 1e6:.1f} MB of Markdown")
        command = [sys.executable, "-m", "quizgen", "check", str(course)]
        subprocess.run(command, check=True, capture_output=True)  # warm the file cache and .pyc files
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = subprocess.run(command, check=True, capture_output=True, text=True)
            timings.append(time.perf_counter() - start)
        print(result.stdout.strip())
        torch = subprocess.run([sys.executable, "-c", NO_TORCH, str(course)], capture_output=True, text=True)
        print(torch.stderr.strip().splitlines()[-1])
    print(f"quizgen check: median {statistics.median(timings):.2f} s, min {min(timings):.2f} s, "
          f"max {max(timings):.2f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
