"""The site's site.js scores by the course's rules (issue 16), checked in Chromium against the Python model
on a small course of its own (tests/fixtures/courses/scoring): ticking every option, or none, of a multi
question earns nothing; short answers written differently are accepted exactly where ShortQuestion.accepts
accepts them."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from itertools import combinations

import pytest

from quizgen.build import build
from quizgen.loader import load_course
from paths import FIXTURES

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SCORING = FIXTURES / "courses" / "scoring"
RESPONSES = [
    "Catastrophic forgetting.", "catastrophic-forgetting", "  CATASTROPHIC   forgetting!", "forgetting",
    "catastrophic forgetting (MLE)", "maximum likelihood estimation (MLE)", "MLE (maximum likelihood estimation)",
    "Maximum-likelihood estimation.", "maximum likelihood principle", "maximum likelihood estimation MLE",
    "maximum likelihood estimation (MSE)", "NLL loss", "next token cross-entropy", "categorical cross-entropy",
    "“Cross entropy”", "negative log likelihood (NLL)", "cross-entropy (MSE)", "crossentropy", "ﬁne", "...",
]


@pytest.fixture(scope="module")
def course():
    return load_course(SCORING)


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    """The fixture course's concept page, served over loopback, in a fresh browser page."""
    root = tmp_path_factory.mktemp("scoring-site")
    build(SCORING, root, ["site"], {})

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"http://127.0.0.1:{httpd.server_port}/site/concepts/scoring.html")
    page.wait_for_load_state("load")
    yield page
    assert errors == []
    context.close()
    httpd.shutdown()
    httpd.server_close()


def stored(page, key: str):
    course_key = "quizgen:" + page.locator("body").get_attribute("data-course")
    answers = json.loads(page.evaluate("key => window.localStorage.getItem(key) || '{}'", course_key)).get("answers", {})
    return answers.get(key)


def tick(page, question, chosen: set[int]):
    section = page.locator(f"#q-{question.id}")
    boxes = section.locator(".options input")
    for index in range(len(question.options)):
        boxes.nth(index).set_checked(index in chosen)
    section.locator("form.quiz .actions button").first.click()
    return section


def test_the_site_gives_nothing_for_every_option_or_none_and_the_model_s_credit_between(page, course):
    for _, question in course.questions:
        if question.type != "multi":
            continue
        key = f"scoring#{question.id}"
        every = set(range(len(question.options)))
        section = tick(page, question, every)
        expect(section.locator("form .verdict")).to_contain_text(f"0 of {question.points:g} point")
        assert stored(page, key)["score"] == 0, question.id
        right = {i for i, option in enumerate(question.options) if option.correct}
        tries = ([set(c) for size in range(1, len(question.options)) for c in combinations(sorted(every), size)]
                 if len(question.options) <= 5 else [right, {0}, right | {len(question.options) - 1}])
        for chosen in tries:
            tick(page, question, chosen)
            assert stored(page, key)["score"] == pytest.approx(question.score(chosen)), (question.id, chosen)
        # Ticking nothing is not an answer: the site asks for one and stores no score for it.
        before = stored(page, key)
        section = tick(page, question, set())
        expect(section.locator("form .verdict")).to_contain_text("Select at least one option first")
        assert stored(page, key) == before


def test_the_site_accepts_short_answers_exactly_where_the_model_does(page, course):
    for _, question in course.questions:
        if question.type != "short":
            continue
        section = page.locator(f"#q-{question.id}")
        field = section.get_by_label("Your answer")
        for response in RESPONSES:
            field.fill(response)
            field.press("Enter")
            verdict = section.locator("form .verdict")
            if question.accepts(response):
                expect(verdict).to_contain_text("Correct.")
            elif response.strip():
                expect(verdict).to_contain_text("Not one of the accepted answers")
    assert course.concept("scoring").question("mle-name").accepts("maximum likelihood estimation (MLE)")
