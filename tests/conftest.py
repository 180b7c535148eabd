import os
import tempfile

import pytest

from paths import CHROMIUM, CHROMIUM_ARGS, FIXTURES, ROOT

# The CLI caches parsed files under XDG_CACHE_HOME; tests must neither read a developer's cache nor
# leave one behind, so the whole run (subprocesses included) gets a fresh one.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="quizgen-test-cache-")

REFERENCE_CACHE = ROOT / "build" / "lab-cache"  # where `quizgen verify` (run by make test first) caches the labs


@pytest.fixture
def full_course():
    from quizgen.loader import load_course

    return load_course(FIXTURES / "courses" / "full")


@pytest.fixture(scope="session")
def full_size_initialization(tmp_path_factory):
    """The initialization lab's solution notebook at the lab's own settings, graded in the sandbox against
    the reference run in build/lab-cache: (the grading report, its output folder).

    It is the suite's longest notebook, so it runs once per session: the notebook tests check that it
    ran top to bottom, the grading tests that it earns every point against a real reference run.
    """
    pytest.importorskip("torch")
    pytest.importorskip("nbformat")
    from quizgen.grade import runner
    from quizgen.grade.sandbox import Limits, probe_isolation
    from quizgen.lab import runner as lab_runner
    from quizgen.loader import load_course
    from quizgen.notebooks import lab_plans, notebook_json, solution_notebook

    lab = "initialization"
    if lab_runner.cached_results(lab, cache_dir=REFERENCE_CACHE) is None:
        pytest.skip(f"no reference run of {lab} in build/lab-cache: run `quizgen verify` (make test does)")
    # The solution as the learner "full-size" has it: their variants of the generated questions, with the
    # answers the lab measured filled in from the reference cache (what the grader scores against).
    from quizgen.build import with_measured_answers
    from quizgen.variants import course_for_learner

    course = with_measured_answers(load_course(ROOT / "content"), None, REFERENCE_CACHE)[0]
    plan = next(plan for plan in lab_plans(course_for_learner(course, "full-size")) if plan.lab_id == lab)
    folder = tmp_path_factory.mktemp("full-size-submission")
    (folder / "full-size.ipynb").write_text(notebook_json(solution_notebook(plan)), encoding="utf-8")
    out = tmp_path_factory.mktemp("full-size-grades")
    report = runner.grade([folder], lab_id=lab, out=out, content=ROOT / "content", workers=1,
                          cache_dir=REFERENCE_CACHE, limits=Limits(cell_timeout=600, wall_timeout=1200),
                          isolation=probe_isolation())
    return report, out


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium under Playwright, one per session (the site and the key tests share it)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (make test-setup installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
