"""Generated questions at scale: `quizgen check` and every export on the synthetic 1,000 x 10 course whose
numeric and choice questions each have 20 variants (5,000 generated questions, 100,000 variants).

    python benchmarks/variant_speed.py [--concepts 1000] [--variants 20] [--runs 5]

Targets (issue 14): `check` median <= 5 s; every export format <= 20 s (median of each). Each run is a
fresh process with the parse cache off ("cold": every file parsed, every variant expanded), as a user
runs it the first time. Writes benchmarks/out/variant_speed.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402
from synthetic_course import write_course  # noqa: E402

CHECK_TARGET_S, EXPORT_TARGET_S = 5.0, 20.0
COLD = os.environ | {"QUIZGEN_NO_CACHE": "1"}  # every file parsed, as on a first run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=1000)
    parser.add_argument("--variants", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    header = record.start("variant_speed")
    from quizgen.formats import names

    quizgen = [sys.executable, "-m", "quizgen"]
    figures: dict = {"concepts": args.concepts, "variants_per_question": args.variants, "check_s": [], "export_s": {}}
    with tempfile.TemporaryDirectory() as folder:
        course, out = Path(folder) / "course", Path(folder) / "out"
        write_course(course, args.concepts, args.variants)
        figures["check_s"] = [record.timed(quizgen + ["check", str(course)], env=COLD) for _ in range(args.runs)]
        median = statistics.median(figures["check_s"])
        print(f"check: median {median:.2f} s (min {min(figures['check_s']):.2f}; target <= {CHECK_TARGET_S:g} s)")
        for name in names("export"):
            values = [record.timed(quizgen + ["export", "--format", name, str(course), "--out", str(out)], env=COLD)
                      for _ in range(args.runs)]
            figures["export_s"][name] = values
            print(f"export {name}: median {statistics.median(values):.2f} s (min {min(values):.2f}; "
                  f"target <= {EXPORT_TARGET_S:g} s)", flush=True)
    figures["check_median_s"] = median
    figures["export_median_s"] = {name: statistics.median(values) for name, values in figures["export_s"].items()}
    figures["targets_met"] = median <= CHECK_TARGET_S and all(
        value <= EXPORT_TARGET_S for value in figures["export_median_s"].values())
    record.write(header, figures)


if __name__ == "__main__":
    main()
