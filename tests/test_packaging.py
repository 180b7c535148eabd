"""quizgen installed from its wheel, not from this checkout, still finds everything it ships: the output
templates, the vendored KaTeX and the pre-trained checkpoint."""

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


def test_the_wheel_carries_templates_katex_and_the_checkpoint(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("quizgen/templates/canvas/item.xml", "quizgen/templates/site/base.html",
                   "quizgen/templates/site/assets/vendor/katex/katex.min.js",
                   "quizgen/lab/checkpoint/model.safetensors", "quizgen/lab/checkpoint/config.json"):
        assert needed in names, needed
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "content/"))]


def test_an_installed_quizgen_builds_the_site_and_every_export(installed, tmp_path):
    _, site = installed
    where = run_installed(site, tmp_path, "-c", "import quizgen; print(quizgen.__file__)")
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr  # not this checkout
    formats = ["site", "canvas", "qti21", "moodle", "gift", "key", "csv", "critique"]
    # The wheel does not carry the labs yet (issue 11): the course's labs/ folder comes with it, in the working
    # directory, where quizgen looks first. Without it, build refuses the concepts' labs, as check does.
    refused = run_installed(site, tmp_path, "-m", "quizgen", "build", "--content", str(ROOT / "content"),
                            "--out", str(tmp_path / "refused"), "--format=site")
    assert refused.returncode == 1 and "names the unknown lab 'initialization'" in refused.stderr, refused.stderr
    shutil.copytree(ROOT / "labs", tmp_path / "labs")
    result = run_installed(site, tmp_path, "-m", "quizgen", "build", "--content", str(ROOT / "content"),
                           "--out", str(tmp_path / "out"), *[f"--format={name}" for name in formats])
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "site" / "index.html").is_file()
    assert (tmp_path / "out" / "site" / "assets" / "vendor" / "katex" / "katex.min.js").is_file()
    assert len(list((tmp_path / "out" / "export" / "canvas").glob("*.zip"))) == 4
    assert (tmp_path / "out" / "export" / "key" / "key.html").is_file()
