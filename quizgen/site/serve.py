"""`quizgen serve`: the site on localhost, rebuilt when a concept file changes.

The course is loaded by ``load_course``, as every command loads it, with an in-memory cache keyed by
each file's size and modification time: an edit re-reads only the files whose size or modification
time changed, re-renders only the concept pages whose inputs changed (see ``ConceptPage``), and
rewrites only the files whose bytes changed, each by an atomic rename. So one edited concept of a
1,000-concept course shows up in well under a second. A content error leaves the site as it was and
is reported as ``path:line:``.

Pages are served as built, except that an HTML response gets one extra script tag that reloads the
page after a rebuild (the files on disk never contain it).
"""

from __future__ import annotations

import functools
import http.server
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from quizgen.build import cached_lab_results
from quizgen.errors import ContentError, QuizgenError
from quizgen.loader import COURSE_FILE, concept_files, load_course
from quizgen.model import Course
from quizgen.site import pages
from quizgen.site.pages import Site

POLL_SECONDS = 0.25
RELOAD_PATH = "/__quizgen/reload.js"
VERSION_PATH = "/__quizgen/version"
RELOAD_SCRIPT = b"""(function () {
  var seen = null;
  function poll() {
    fetch("%s", {cache: "no-store"}).then(function (r) { return r.text(); }).then(function (v) {
      if (seen !== null && v !== seen) { location.reload(); }
      seen = v;
    }).catch(function () {}).then(function () { setTimeout(poll, 700); });
  }
  poll();
}());
""" % VERSION_PATH.encode()


@dataclass
class RebuildReport:
    pages_written: int = 0
    files_removed: int = 0
    concepts: int = 0
    problems: list[str] = field(default_factory=list)  # "path:line: message", when the content is bad
    seconds: float = 0.0


class StatCache:
    """Parsed files in memory, keyed by path, modification time and size: the ParseCache methods
    ``load_course`` uses, without reading a file's bytes to know that it has not changed."""

    def __init__(self):
        self.entries: dict[Path, tuple[tuple, object]] = {}  # path -> (its stat signature, the parsed result)
        self.asked: set[Path] = set()  # the files of the current load

    def key(self, path: Path) -> tuple | None:
        self.asked.add(path)
        try:
            stat = path.stat()
        except OSError:
            return None  # reported by the loader itself
        return path, stat.st_mtime_ns, stat.st_size

    def get(self, key: tuple | None):
        entry = self.entries.get(key[0]) if key is not None else None
        return entry[1] if entry is not None and entry[0] == key else None

    def put(self, key: tuple, result) -> None:
        self.entries[key[0]] = (key, result)

    def forget_the_rest(self) -> None:
        """After a load: forget the files it did not ask about (they are gone)."""
        self.entries = {path: entry for path, entry in self.entries.items() if path in self.asked}
        self.asked = set()


class Preview:
    """The site in ``out/site``, kept up to date with ``content``: call ``rebuild()`` after a change."""

    def __init__(self, content: Path, out: Path, results: dict | None = None):
        self.content = Path(content)
        self.site_dir = Path(out) / "site"
        self.fixed_results = results
        self.parsed = StatCache()
        self.page_cache: dict = {}
        self.on_disk: dict[str, bytes | tuple] = {}  # what we last wrote: bytes, or a source's stat
        self.version = 0
        self.shown: list[Path] = []  # the files (images) the last good course shows

    def load(self) -> tuple[Course | None, list[str]]:
        """The course, re-reading only changed files; or None and every problem, as `quizgen check` says them."""
        try:
            course = load_course(self.content, self.parsed)
            self.shown = sorted({course.local_file(f.name) for concept in course.concepts for f in concept.files})
        except ContentError as error:
            return None, [str(d) for d in error.diagnostics]
        finally:
            self.parsed.forget_the_rest()
        return course, []

    def rebuild(self) -> RebuildReport:
        started = time.perf_counter()
        report = RebuildReport()
        course, report.problems = self.load()
        if course is None:
            report.seconds = time.perf_counter() - started
            return report
        results = self.fixed_results if self.fixed_results is not None else cached_lab_results(course)
        site = Site(course, results)
        wanted: set[str] = set()
        for path, content in site.files(self.page_cache):
            wanted.add(path)
            if self.on_disk.get(path) != content:
                self._write(path, content)
                self.on_disk[path] = content
                report.pages_written += 1
        for path, source in site.static_files():
            wanted.add(path)
            stat = source.stat()
            signature = (str(source), stat.st_mtime_ns, stat.st_size)
            if self.on_disk.get(path) != signature:
                self._write(path, source.read_bytes())
                self.on_disk[path] = signature
        for path in set(self.on_disk) - wanted:
            (self.site_dir / path).unlink(missing_ok=True)
            del self.on_disk[path]
            report.files_removed += 1
        self.page_cache = {path: entry for path, entry in self.page_cache.items() if path in wanted}
        report.concepts = len(course.concepts)
        if report.pages_written or report.files_removed:
            self.version += 1
        report.seconds = time.perf_counter() - started
        return report

    def _write(self, path: str, content: bytes) -> None:
        """Replace one file atomically: a browser never reads half a page."""
        target = self.site_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, target)

    def forget_templates(self) -> None:
        """After a template or asset edit: recompile templates and re-render every page."""
        pages.environment.cache_clear()
        self.page_cache.clear()

    def watched_signature(self) -> tuple:
        """Changes when a concept file, course.yml, an image the course shows or a site template changes,
        or a file appears in a folder of the course (an image that was missing)."""
        folders = [self.content, *(path for path in self.content.rglob("*") if path.is_dir())]
        paths = concept_files(self.content) + [self.content / COURSE_FILE] + self.shown + folders
        return tuple(_stat(path) for path in paths), template_signature()


def template_signature() -> tuple:
    return tuple(_stat(path) for path in sorted(pages.TEMPLATES_DIR.rglob("*")) if path.is_file())


def _stat(path: Path) -> tuple:
    try:
        stat = path.stat()
        return str(path), stat.st_mtime_ns, stat.st_size
    except FileNotFoundError:
        return str(path), None, None


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site folder, /notebooks/ from the build's notebooks folder, and the reload hook."""

    preview: Preview
    notebooks: Path

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/notebooks/"):
            return str(self.notebooks / Path(clean).name)
        return super().translate_path(path)

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0]
        if route == VERSION_PATH:
            return self._send(str(self.preview.version).encode(), "text/plain")
        if route == RELOAD_PATH:
            return self._send(RELOAD_SCRIPT, "text/javascript")
        local = Path(self.translate_path(self.path))
        if local.is_dir():
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file():
            tag = f'<script src="{RELOAD_PATH}"></script>\n</body>'.encode()
            return self._send(local.read_bytes().replace(b"</body>", tag, 1), "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # an author reloading sees the latest build
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # a request log would drown the rebuild messages


def serve(content: Path, out: Path, host: str = "127.0.0.1", port: int = 8000,
          say: Callable[[str, bool], None] = lambda line, error: None, stop: threading.Event | None = None) -> None:
    """Build, serve and watch until ``stop`` is set (or the process is interrupted).

    ``say(line, is_error)`` receives every message; the command line prints them.
    """
    preview = Preview(content, out)
    handler = type("Handler", (_Handler,), {"preview": preview, "notebooks": Path(out) / "notebooks"})
    try:  # the port first: a busy one is said at once, not after a build
        server = http.server.ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(preview.site_dir)))
    except OSError as error:
        raise QuizgenError(f"cannot serve on {host}:{port}: {error.strerror or error}; choose another "
                           "--port (0 picks a free one)") from None
    report = preview.rebuild()
    if report.problems:
        for line in report.problems:
            say(line, True)
        say("the site was not built: fix the problems above; watching for changes", True)
    else:
        say(f"built {report.concepts} concepts into {preview.site_dir} in {report.seconds:.2f} s", False)
    preview.site_dir.mkdir(parents=True, exist_ok=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    say(f"serving http://{host}:{server.server_port}/ (Ctrl+C stops)", False)
    stop = stop or threading.Event()
    signature = preview.watched_signature()
    try:
        while not stop.wait(POLL_SECONDS):
            current = preview.watched_signature()
            if current == signature:
                continue
            if current[1] != signature[1]:
                preview.forget_templates()
            signature = current
            report = preview.rebuild()
            for line in report.problems:
                say(line, True)
            if not report.problems:
                say(f"rebuilt in {report.seconds * 1000:.0f} ms: {report.pages_written} files written", False)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
