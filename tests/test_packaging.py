"""quizgen installed from its wheel, not from this checkout, still finds everything it ships: the output
templates, the vendored math font, the pre-trained checkpoint and the course labs, from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from paths import ROOT



@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, a folder it was installed into)."""
    pytest.importorskip("setuptools", minversion="68")  # the test extra installs it: built offline
    folder = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/lib/ (and would reuse stale files there), and build/ is
    # quizgen's own output folder.
    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "node_modules", "__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "--disable-pip-version-check", "-w", str(folder / "dist"), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((folder / "dist").glob("quizgen-*.whl"))
    site = folder / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
                           "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return wheel, site


def run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(site), "QUIZGEN_NO_CACHE": "1"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_the_wheel_carries_templates_the_math_font_and_the_checkpoint(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("quizgen/templates/canvas/item.xml", "quizgen/templates/site/base.html",
                   "quizgen/templates/site/assets/vendor/noto-sans-math/LICENSE",
                   "quizgen/lab/checkpoint/model.safetensors", "quizgen/lab/checkpoint/config.json",
                   *(f"quizgen/labs/{path.relative_to(ROOT / 'labs')}" for path in (ROOT / "labs").glob("*/*.py"))):
        assert needed in names, needed
    assert not [name for name in names if "__pycache__" in name]
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "content/"))]


def test_an_installed_quizgen_builds_the_site_and_every_export(installed, tmp_path):
    _, site = installed
    where = run_installed(site, tmp_path, "-c", "import quizgen; print(quizgen.__file__)")
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr  # not this checkout
    formats = ["site", "canvas", "qti21", "moodle", "gift", "key", "csv", "critique", "notebooks", "otter"]
    # From an empty folder: the labs the course names come with the wheel.
    result = run_installed(site, tmp_path, "-m", "quizgen", "build", "--content", str(ROOT / "content"),
                           "--out", str(tmp_path / "out"), *[f"--format={name}" for name in formats])
    assert result.returncode == 0, result.stdout + result.stderr
    notebooks = sorted(path.name for path in (tmp_path / "out" / "notebooks").iterdir())
    labs = sorted(path.parent.name for path in (ROOT / "labs").glob("*/lab.py"))
    assert notebooks == [f"{lab}.ipynb" for lab in labs]
    assert "def check_relative_drift(" in (tmp_path / "out" / "notebooks" / "initialization.ipynb").read_text()
    assert len(list((tmp_path / "out" / "export" / "otter").glob("*/*.ipynb"))) == len(labs)
    assert (tmp_path / "out" / "site" / "index.html").is_file()
    assert (tmp_path / "out" / "site" / "assets" / "vendor" / "noto-sans-math" / "LICENSE").is_file()
    assert len(list((tmp_path / "out" / "export" / "canvas").glob("*.zip"))) == 5  # one a concept, one in all
    assert (tmp_path / "out" / "export" / "key" / "key.html").is_file()


@pytest.mark.slow
def test_an_installed_quizgen_lists_and_runs_its_labs_from_any_folder(installed, tmp_path):
    pytest.importorskip("torch")
    _, site = installed
    listed = run_installed(site, tmp_path, "-m", "quizgen", "lab", "list")
    assert listed.returncode == 0, listed.stderr
    assert [line for line in listed.stdout.splitlines() if not line.startswith(" ")] == [
        "ift-vs-pretraining: Instruction fine-tuning vs pre-training",
        "initialization: Initialization and moderate adjustment in fine-tuning",
        "keeping-knowledge: Keeping pre-trained knowledge: L2-SP, replay, early stopping and WiSE-FT",
        "sft-objective: The supervised fine-tuning objective"]
    ran = run_installed(site, tmp_path, "-m", "quizgen", "lab", "run", "ift-vs-pretraining",
                        "--cache-dir", str(tmp_path / "cache"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 of 2 claims hold." in ran.stdout
    # It ran the lab the wheel carries (its source is part of the results' settings).
    import hashlib
    import json

    results = json.loads(next((tmp_path / "cache").glob("*/*/results.json")).read_text())
    shipped = site / "quizgen" / "labs" / "ift-vs-pretraining" / "lab.py"
    assert results["settings"]["lab_source"] == hashlib.sha256(shipped.read_bytes()).hexdigest()[:16]
