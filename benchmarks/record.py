"""What every benchmark says when it starts and leaves behind when it ends: the commit it measured, the
versions of the tools it ran with, and its figures in benchmarks/out/<name>.json.

    header = record.start("export_speed", ["text2qti"])   # prints the commit and the versions
    ...
    record.write(header, {"median_s": 0.54})             # benchmarks/out/export_speed.json

The tools the benchmarks compare quizgen with are pinned in pyproject's `bench` extra
(`pip install -e '.[bench]'`), so two runs of a script compare the same versions.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"


def commit() -> str:
    """The short commit, with "+changes" when tracked files differ from it (the figures are then not its)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:  # no git on this machine
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def compile_bytecode() -> bool:
    """Compile quizgen's modules to bytecode, as `pip install` does for a wheel and as a first run does
    anywhere Python may write __pycache__. A checkout run where PYTHONDONTWRITEBYTECODE is set (this
    project's build machines set it) would otherwise compile every module from source at every start,
    ~40 ms that no installed quizgen pays and that the tools it is compared with (installed by pip, their
    bytecode compiled) do not pay either. Returns whether every module compiled."""
    import compileall

    import quizgen

    folders = [Path(quizgen.__file__).parent, ROOT / "labs"]  # the labs ship inside the wheel (quizgen/labs)
    return all([bool(compileall.compile_dir(folder, quiet=1)) for folder in folders if folder.is_dir()])


def start(name: str, packages: list[str] = ()) -> dict:
    """Print and return what the figures were measured with: commit, Python, packages, CPUs, load; first
    compiles quizgen's bytecode (compile_bytecode), so that every run starts as an installed quizgen does."""
    compile_bytecode()
    header = {"benchmark": name, "commit": commit(), "python": platform.python_version(),
              "versions": {package: version(package) for package in ("quizgen", *packages)},
              "cpus": os.cpu_count(), "load_average_before": list(os.getloadavg())}
    versions = ", ".join(f"{package} {number}" for package, number in header["versions"].items())
    print(f"{name}: commit {header['commit']}, Python {header['python']}, {versions}; "
          f"{header['cpus']} CPUs, load average {header['load_average_before'][0]:.2f}", flush=True)
    return header


def timed(command: list[str], env: dict | None = None, cwd: Path | None = None) -> float:
    """Wall seconds of one run of ``command`` as a fresh process; a failed run ends the benchmark with its output."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:5])} … failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return elapsed


def write(header: dict, figures: dict) -> Path:
    """benchmarks/out/<name>.json: the header, the figures and the load average at the end."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{header['benchmark']}.json"
    report = header | figures | {"load_average_after": list(os.getloadavg())}
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return path
