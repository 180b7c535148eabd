"""Sites built once per test session, a local HTTP server for them, and one headless Chromium.

The browser tests need Debian's chromium and the Python Playwright package; the validity and
accessibility tests need Java and node_modules (`make test-setup` installs all of them, as CI does).
Each skips with the reason when its tool is genuinely absent.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from quizgen.build import build
from paths import FIXTURES
from site_helpers import ARTIFACTS, FULL, GENERATED, GENERATED_RUBRIC, LEARNER, ROOT, lab_results

@pytest.fixture(scope="session")
def make_lab_results():
    return lab_results


@pytest.fixture(scope="session")
def sites(tmp_path_factory) -> dict[str, Path]:
    """build/ folders: "content" (the real course, no lab results), "full" (the fixture, with results),
    "lms" (a fixture that shows images, PNG and SVG, one with a space in its name), "generated" (generated
    questions of every auto-graded type), "generated-rubric" (a generated critique, and a multi whose points
    change) and "learner" (objectives, headings, a wide equation, linked sources: tests/site/courses/learner)."""
    base = tmp_path_factory.mktemp("sites")
    built = {}
    build(ROOT / "content", base / "content", ["site"], {})
    built["content"] = base / "content"
    build(FULL, base / "full", ["site"], lab_results(base / "lab-cache"))
    built["full"] = base / "full"
    build(FIXTURES / "courses" / "lms", base / "lms", ["site"], {})
    built["lms"] = base / "lms"
    build(GENERATED, base / "generated", ["site"], {})
    built["generated"] = base / "generated"
    build(GENERATED_RUBRIC, base / "generated-rubric", ["site"], {})
    built["generated-rubric"] = base / "generated-rubric"
    build(LEARNER, base / "learner", ["site"], {})
    built["learner"] = base / "learner"
    return built


@pytest.fixture(scope="session")
def server(sites):
    """http://127.0.0.1:PORT/<name>/site/... for each built site, on a loopback-only server."""
    root = next(iter(sites.values())).parent

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


class Watched:
    """One browser page, with every console error, page error and request it made."""

    def __init__(self, page, origin: str):
        self.page = page
        self.origin = origin
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("response", lambda response: response.status >= 400 and self.failed.append(response.url))

    def open(self, path: str):
        self.page.goto(f"{self.origin}/{path}")
        self.page.wait_for_load_state("load")
        return self.page

    def outside(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.origin + "/")]


@pytest.fixture(scope="session")
def context(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    yield context
    context.close()


@pytest.fixture
def watched(context, server):
    """A fresh page with empty progress (localStorage cleared for the test server's origin)."""
    page = context.new_page()
    page.goto(f"{server}/content/site/index.html")
    page.evaluate("window.localStorage.clear()")
    watch = Watched(page, server)
    yield watch
    page.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
