"""build(content, out, formats): load the course once, render every format, swap the results in.

Gather everything first, then write (MkDocs' rule): the course is loaded and validated before any
output is touched. Each format renders into a staging folder next to its target; only when every
format has succeeded are the targets replaced, each by a rename. A failed build leaves the previous
output as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.formats import get_format
from quizgen.forms import FORM_FORMATS, make_form
from quizgen.loader import load_course
from quizgen.model import Course


@dataclass
class BuildReport:
    course: Course
    written: dict[str, Path] = field(default_factory=dict)  # format name -> its output folder


def target_dir(out: Path, name: str, kind: str) -> Path:
    return out / "export" / name if kind == "export" else out / kind


def build(content: Path, out: Path, formats: list[str], results: dict | None = None,
          forms: int = 0, seed: int = 0) -> BuildReport:
    """Render ``formats`` of the course in ``content`` under ``out``; raises ContentError on bad content.

    With ``forms`` > 0, the formats that support forms write form-1/ … form-N/ instead, each a
    reproducible shuffle (``seed``) with its own answer key.
    """
    course = load_course(content)
    results = {} if results is None else results
    versions = [(f"form-{n}", make_form(course, seed, n)) for n in range(1, forms + 1)]
    report = BuildReport(course)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".staging-"))
    try:
        staged = {}
        for name in formats:
            module = get_format(name)
            folder = staging / name
            folder.mkdir()
            if versions and name in FORM_FORMATS:
                for label, form in versions:
                    (folder / label).mkdir()
                    module.write(form, results, folder / label)
            else:
                module.write(course, results, folder)
            staged[name] = (folder, target_dir(out, name, module.KIND))
        for name, (folder, target) in staged.items():
            replace_dir(folder, target)
            report.written[name] = target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``: the old folder moves aside first, so a reader never sees a mix."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)
