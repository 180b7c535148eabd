"""Whether one submission can slow another: an honest CPU-bound notebook graded beside a hostile one.

    python benchmarks/grade_neighbours.py [--cpu-seconds 8] [--children 24]

The honest notebook spins for CPU_SECONDS of CPU time and records its wall/CPU ratio; the hostile one
forks CHILDREN processes that try `setsid()` (a new session is a new scheduler autogroup, i.e. another
CPU share) and spin. Both are graded at once with 2 workers, in three set-ups: the honest one alone, beside
the hostile one with the sandbox this machine gives (a cgroup per submission as root), and beside it
without cgroups (what an ordinary user gets: one autogroup per submission, setsid refused), and, for
comparison, with neither cgroups nor the system-call filter. Prints the
honest notebook's wall/CPU ratio for each (1.0 = it had a core to itself) and writes
benchmarks/out/grade_neighbours.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "grade"))


def honest(cpu_seconds: float) -> str:
    return ("import time\n"
            "wall, cpu = time.perf_counter(), time.process_time()\n"
            "x = 0\n"
            f"while time.process_time() - cpu < {cpu_seconds}:\n"
            "    x += 1\n"
            "ANSWERS = {'ratio': (time.perf_counter() - wall) / (time.process_time() - cpu)}\n")


def hostile(children: int, seconds: float) -> str:
    return ("import os, time\n"
            "pids = []\n"
            f"for _ in range({children}):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        try:\n"
            "            os.setsid()\n"
            "        except OSError:\n"
            "            pass\n"
            "        end = time.monotonic() + " f"{seconds}\n"
            "        while time.monotonic() < end:\n"
            "            pass\n"
            "        os._exit(0)\n"
            "    pids.append(pid)\n"
            "for pid in pids:\n"
            "    os.waitpid(pid, 0)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-seconds", type=float, default=8.0)
    parser.add_argument("--children", type=int, default=24)
    args = parser.parse_args()

    import grade_helpers as subs
    from quizgen.grade import runner
    from quizgen.grade.sandbox import Limits, probe_isolation

    isolation = probe_isolation()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    bwrap = "no bwrap"
    if shutil.which("bwrap"):
        bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"quizgen {commit}, Python {sys.version.split()[0]}, {bwrap}, sandbox {isolation.mode} "
          f"(cgroups {isolation.cgroups}, seccomp {isolation.seccomp}), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    setups = {"alone": (isolation, False), "beside-hostile": (isolation, True)}
    if isolation.cgroups != "none":
        setups["beside-hostile-without-cgroups"] = (dataclasses.replace(isolation, cgroups="none"), True)
    # For comparison, what the walls are worth: neither cgroups nor the filter that refuses setsid.
    setups["beside-hostile-unprotected"] = (dataclasses.replace(isolation, cgroups="none", seccomp=False), True)
    limits = Limits(cell_timeout=600, wall_timeout=600, processes=512)
    ratios = {}
    with tempfile.TemporaryDirectory() as base:
        cache = Path(base) / "cache"
        subs.store_reference(cache, subs.LAB)
        for name, (chosen, with_hostile) in setups.items():
            folder = Path(base) / name
            folder.mkdir()
            subs.write(folder, "honest", subs.tiny(honest(args.cpu_seconds)))
            if with_hostile:
                subs.write(folder, "hostile", subs.tiny(hostile(args.children, args.cpu_seconds * 6)))
            report = runner.grade([folder], lab_id=subs.LAB, out=folder / "out", content=ROOT / "content", workers=2,
                                  cache_dir=cache, limits=limits, isolation=chosen)
            record = next(r for r in report.records if r["learner"] == "honest")
            ratios[name] = record["answers"]["variables"]["ANSWERS"]["ratio"]
            print(f"{name:32} cgroups {chosen.cgroups:4}  honest wall/CPU = {ratios[name]:.2f}")
    result = {"commit": commit, "python": sys.version.split()[0], "bwrap": bwrap, "isolation": isolation.to_json(),
              "cpus": os.cpu_count(), "load_average": os.getloadavg(),
              "cpu_seconds": args.cpu_seconds, "children": args.children, "honest_wall_per_cpu": ratios}
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "grade_neighbours.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
