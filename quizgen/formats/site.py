"""The quiz site learners use: an index in learning order, a page per concept with its questions,
tag pages, search and review pages with a search index, and the shared assets (CSS, JS, the math
font). Static files only; no request leaves the site. See docs/site.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from quizgen.model import Course
from quizgen.parallel import fork_map
from quizgen.site.pages import Site

NAME = "site"
PARALLEL_MIN_PAGES = 200  # below this, starting worker processes costs more than it saves


def write(course: Course, results: dict, out_dir: Path) -> None:
    site = Site(course, results or {})
    (out_dir / "concepts").mkdir(parents=True, exist_ok=True)
    (out_dir / "tags").mkdir(parents=True, exist_ok=True)
    for path, content in site.listing_files():
        (out_dir / path).parent.mkdir(parents=True, exist_ok=True)  # labs/<lab>/ for a notebook
        (out_dir / path).write_bytes(content)
    # Rendering pages is most of the time; forked workers inherit the gathered site and each writes
    # its share (a page depends only on its ConceptPage, so the output is the same).
    fork_map(lambda page: (out_dir / page.path).write_bytes(site.render_concept(page)), site.concept_pages(),
             min_work=PARALLEL_MIN_PAGES)
    for path, source in site.static_files():
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

