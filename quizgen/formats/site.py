"""The quiz site learners use: an index in learning order, a page per concept with its questions,
tag pages, and the shared assets (CSS, JS, vendored KaTeX). Static files only; no request leaves
the site. See docs/site.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from quizgen.model import Course
from quizgen.site.pages import Site

NAME = "site"
KIND = "site"


def write(course: Course, results: dict, out_dir: Path) -> None:
    site = Site(course, results or {})
    folders: set[Path] = set()
    for path, content in site.files():
        target = out_dir / path
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        target.write_bytes(content)
    for path, source in site.static_files():
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
