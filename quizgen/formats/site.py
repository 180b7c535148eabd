"""The quiz site learners use: an index in learning order, a page per concept with its questions,
tag pages, and the shared assets (CSS, JS, vendored KaTeX). Static files only; no request leaves
the site. See docs/site.md.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from quizgen.model import Course
from quizgen.site.pages import ConceptPage, Site

NAME = "site"
KIND = "site"
PARALLEL_MIN_PAGES = 200  # below this, starting worker processes costs more than it saves

_job: tuple[Site, list[ConceptPage], Path] | None = None  # what forked workers render


def write(course: Course, results: dict, out_dir: Path) -> None:
    global _job
    site = Site(course, results or {})
    (out_dir / "concepts").mkdir(parents=True, exist_ok=True)
    (out_dir / "tags").mkdir(parents=True, exist_ok=True)
    for path, content in site.listing_files():
        (out_dir / path).write_bytes(content)
    pages = site.concept_pages()
    workers = min(os.cpu_count() or 1, 8)
    if len(pages) < PARALLEL_MIN_PAGES or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _write_pages(site, pages, out_dir)
    else:
        # Rendering is most of the time; forked workers inherit the gathered site and each writes
        # its share of the pages (a page depends only on its ConceptPage, so the output is the same).
        _job = (site, pages, out_dir)
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                list(pool.map(_write_share, [(n, workers) for n in range(workers)]))
        finally:
            _job = None
    for path, source in site.static_files():
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _write_pages(site: Site, pages: list[ConceptPage], out_dir: Path) -> None:
    for page in pages:
        (out_dir / page.path).write_bytes(site.render_concept(page))


def _write_share(share: tuple[int, int]) -> None:
    index, count = share
    site, pages, out_dir = _job
    _write_pages(site, pages[index::count], out_dir)
