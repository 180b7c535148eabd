"""`quizgen serve`: incremental rebuilds that equal a full build, content errors that leave the site
alone, and the local server with its reload hook."""

from __future__ import annotations

import shutil
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.build import build
from quizgen.cli import cli
from quizgen.errors import ContentError
from quizgen.loader import load_course
from quizgen.site.serve import VERSION_PATH, Preview, serve
from paths import FIXTURES
from site_helpers import FULL


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def course_copy(tmp_path: Path) -> Path:
    content = tmp_path / "course"
    shutil.copytree(FULL, content)
    return content


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def full_build(content: Path, out: Path) -> dict[str, bytes]:
    build(content, out, ["site"], {})
    return tree_bytes(out / "site")


def test_an_edit_rewrites_only_what_changed_and_matches_a_full_build(tmp_path):
    content = course_copy(tmp_path)
    preview = Preview(content, tmp_path / "serve", results={})
    first = preview.rebuild()
    pages = [*(tmp_path / "serve" / "site").rglob("*.html"), *(tmp_path / "serve" / "site").rglob("*.ipynb"),
             tmp_path / "serve" / "site" / "search-index.js"]
    assert first.problems == [] and first.pages_written == len(pages)
    assert preview.rebuild().pages_written == 0

    before = tree_bytes(tmp_path / "serve" / "site")
    edit(content / "sft-objective.md", "Supervised fine-tuning maximises", "Supervised fine-tuning (SFT) maximises")
    report = preview.rebuild()
    after = tree_bytes(tmp_path / "serve" / "site")
    # the page, and the search index (it holds the start of each concept's text) with the pages loading it
    assert {path for path in after if before.get(path) != after[path]} == {
        "concepts/sft-objective.html", "search-index.js", "search.html", "review.html"}
    assert report.pages_written == 4
    assert "(SFT) maximises" in (tmp_path / "serve" / "site" / "concepts" / "sft-objective.html").read_text()
    assert tree_bytes(tmp_path / "serve" / "site") == full_build(content, tmp_path / "full-1")

    # a new title shows on its page, its neighbours' pager links, the index and its tag pages: those
    # files are rewritten, and no others
    before = tree_bytes(tmp_path / "serve" / "site")
    edit(content / "sft-objective.md", "title: Probabilistic Objective", "title: The Probabilistic Objective")
    report = preview.rebuild()
    after = tree_bytes(tmp_path / "serve" / "site")
    changed = {path for path in after if before.get(path) != after[path]}
    assert report.pages_written == len(changed)
    assert {"concepts/sft-objective.html", "index.html", "tags/foundations-of-large-language-models.html"} <= changed
    assert "tags/computing-sciences.html" not in changed  # sft-objective has not that tag
    assert after == full_build(content, tmp_path / "full-2")

    # a removed concept's page goes away
    (content / "sft-objective.md").unlink()
    for name in ("ift-vs-pretraining.md", "parameter-initialization.md"):
        path = content / name
        path.write_text("\n".join(line for line in path.read_text().splitlines()
                                  if "sft-objective" not in line or line.startswith("title")) + "\n")
    report = preview.rebuild()
    assert report.problems == [] and report.files_removed >= 1
    assert tree_bytes(tmp_path / "serve" / "site") == full_build(content, tmp_path / "full-3")


def test_bad_content_is_reported_and_leaves_the_site_alone(tmp_path):
    content = course_copy(tmp_path)
    preview = Preview(content, tmp_path / "serve", results={})
    preview.rebuild()
    before = tree_bytes(tmp_path / "serve" / "site")
    edit(content / "sft-objective.md", "type=choice", "type=chioce")
    report = preview.rebuild()
    assert report.pages_written == 0
    with pytest.raises(ContentError) as error:  # the same problems `quizgen check` reports, as path:line:
        load_course(content)
    assert report.problems == [str(d) for d in error.value.diagnostics]
    assert f"{content / 'sft-objective.md'}:17: unknown question type 'chioce'" in report.problems[-1]
    assert tree_bytes(tmp_path / "serve" / "site") == before
    edit(content / "sft-objective.md", "type=chioce", "type=choice")
    assert preview.rebuild().problems == []


def test_serve_refuses_what_check_and_build_refuse(tmp_path):
    """Serving loads the course as every command does: a concept naming an unknown lab is an error."""
    content = course_copy(tmp_path)
    preview = Preview(content, tmp_path / "serve", results={})
    preview.rebuild()
    before = tree_bytes(tmp_path / "serve" / "site")
    edit(content / "parameter-initialization.md", "\nlab: initialization\n", "\nlab: initalization\n")
    report = preview.rebuild()
    checked = CliRunner().invoke(cli, ["check", str(content)])
    assert checked.exit_code == 1 and checked.output.splitlines()[:-1] == report.problems
    assert "names the unknown lab 'initalization'" in report.problems[0]
    assert tree_bytes(tmp_path / "serve" / "site") == before


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_the_server_serves_the_site_and_signals_rebuilds(tmp_path):
    content = course_copy(tmp_path)
    messages: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(content, tmp_path / "build"),
                              kwargs={"port": 0, "say": lambda line, error: messages.append(line), "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith("serving ") for line in messages) and time.monotonic() < deadline:
            time.sleep(0.05)
        origin = next(line.split()[1] for line in messages if line.startswith("serving ")).rstrip("/")
        assert origin.startswith("http://127.0.0.1:")
        index = get(origin + "/")
        assert b'<script src="/__quizgen/reload.js"></script>' in index
        assert b"reload.js" not in (tmp_path / "build" / "site" / "index.html").read_bytes()
        version = get(origin + VERSION_PATH)

        edit(content / "sft-objective.md", "Supervised fine-tuning maximises", "Edited: supervised fine-tuning maximises")
        while get(origin + VERSION_PATH) == version and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"Edited: supervised" in get(origin + "/concepts/sft-objective.html")
        assert any(line.startswith("rebuilt in ") for line in messages)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_serve_is_a_command():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "rebuilding it on every change" in " ".join(result.output.split())
    missing = CliRunner().invoke(cli, ["serve", "--content", "no-such-folder"])
    assert missing.exit_code != 0 and "does not exist" in missing.output


def test_serve_says_plainly_when_it_cannot_write_the_site(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    result = CliRunner().invoke(cli, ["serve", "--content", str(FULL), "--out", str(tmp_path / "a-file" / "x")])
    assert result.exit_code == 1 and result.output.startswith(f"Error: cannot write to '{tmp_path / 'a-file' / 'x'}'")


def test_a_busy_port_is_said_plainly_before_building(tmp_path):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--content", str(FULL), "--out", str(tmp_path / "out"),
                                          "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot serve on 127.0.0.1:{port}: ") and "--port" in result.output
    assert not (tmp_path / "out" / "site").exists()  # nothing built for a server that cannot start


def test_an_image_edited_removed_or_added_is_seen_and_rebuilt(tmp_path):
    """serve watches the files the course shows: a new image is copied, a missing one is an error at
    its line until the file is there, and the site then equals a full build."""
    content = tmp_path / "course"
    shutil.copytree(FIXTURES / "courses" / "lms", content)
    preview = Preview(content, tmp_path / "serve", results={})
    assert preview.rebuild().problems == []
    served = tmp_path / "serve" / "site" / "media" / "figures"
    signature = preview.watched_signature()
    (content / "figures" / "drift.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><title>new</title></svg>\n')
    assert preview.watched_signature() != signature
    preview.rebuild()
    assert "<title>new</title>" in (served / "drift.svg").read_text()

    moved = content / "figures" / "drift.svg"
    moved.rename(content / "drift-elsewhere.svg")
    signature = preview.watched_signature()
    report = preview.rebuild()
    assert any("figures.md" in problem and "image 'figures/drift.svg' does not exist" in problem
               for problem in report.problems), report.problems
    (content / "drift-elsewhere.svg").rename(moved)  # put back: a file appears in figures/
    assert preview.watched_signature() != signature
    assert preview.rebuild().problems == []
    assert tree_bytes(tmp_path / "serve" / "site") == full_build(content, tmp_path / "full")
