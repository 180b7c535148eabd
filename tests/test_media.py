"""The files a course shows (images): found with their lines, checked, and carried by the site and the
notebooks (the LMS exports and the key have tests of their own in tests/exports/)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from quizgen.build import build
from quizgen.cli import cli
from quizgen.errors import ContentError
from quizgen.loader import load_course
from quizgen.markdown import render_markdown, replace_images
from paths import FIXTURES

LMS = FIXTURES / "courses" / "lms"
CIRCUIT = "figures/series circuit.png"


def test_the_loader_finds_each_image_with_its_line_alt_and_content_path():
    figures = next(c for c in load_course(LMS).concepts if c.id == "figures")
    lines = (LMS / "figures.md").read_text(encoding="utf-8").splitlines()
    assert [(f.name, f.alt) for f in figures.files] == [
        (CIRCUIT, "A series circuit with two resistors"), ("figures/drift.svg", "Bar chart: the large learning rate drifts further"),
        (CIRCUIT, "A series circuit with two resistors"), ("figures/drift.svg", "Bar chart: the large learning rate drifts further")]
    for file in figures.files:
        assert unquote(file.src) in lines[file.line - 1] or file.src in lines[file.line - 1]
    assert figures.file_names()["figures/series%20circuit.png"] == CIRCUIT


def _course(tmp_path, markdown: str):
    shutil.copytree(LMS / "figures", tmp_path / "course" / "figures")
    (tmp_path / "course" / "c.md").write_text(f"---\nid: c\ntitle: C\n---\n{markdown}\n", encoding="utf-8")
    return tmp_path / "course"


@pytest.mark.parametrize("markdown, message", [
    ("Text.\n\n![A chart](figures/missing.png)", "c.md:7: image 'figures/missing.png' does not exist (looked for "),
    ("Text.\n\n![A folder](figures)", "c.md:7: image 'figures' is a folder, not a file"),
    ("Text.\n\n![Elsewhere](../outside.png)", "c.md:7: image '../outside.png' is outside the course folder"),
    ("Text.\n\n![Linked out](figures/link.png)", "c.md:7: image 'figures/link.png' is outside the course folder"),
    ("Text.\n\n![Huge](figures/huge.png)", "c.md:7: image 'figures/huge.png' is 21 MiB; a file the course shows "
                                            "may be at most 20 MiB"),
    ("Text.\n\n![A pipe](figures/pipe.png)", "c.md:7: image 'figures/pipe.png' is not a regular file"),
])
def test_a_missing_file_is_an_error_at_its_line_in_check_and_build(tmp_path, markdown, message):
    course = _course(tmp_path, markdown)
    (tmp_path / "outside.png").write_bytes(b"\x89PNG")
    (course / "figures" / "link.png").symlink_to(tmp_path / "outside.png")  # a symlink out is still out
    with (course / "figures" / "huge.png").open("wb") as huge:
        huge.truncate(21 * 2**20)
    os.mkfifo(course / "figures" / "pipe.png")
    checked = CliRunner().invoke(cli, ["check", str(course)])
    built = CliRunner().invoke(cli, ["build", "--content", str(course), "--out", str(tmp_path / "out")])
    assert checked.exit_code == built.exit_code == 1
    assert message in checked.output and checked.output == built.output
    with pytest.raises(ContentError):
        load_course(course)


def test_remote_and_anchor_images_are_not_local_files(tmp_path):
    course = load_course(_course(tmp_path, "![a](https://example.org/a.png) ![b](data:image/png;base64,AAAA) "
                                            "![c](/abs.png) ![d](#frag)"))
    assert course.concepts[0].files == ()


def test_an_image_without_alternative_text_is_a_lint_warning(tmp_path):
    course = _course(tmp_path, "Text.\n\n![](figures/drift.svg)")
    result = CliRunner().invoke(cli, ["check", str(course)])
    assert result.exit_code == 0
    assert "c.md:7: warning: image 'figures/drift.svg' has no alternative text" in result.output
    assert CliRunner().invoke(cli, ["check", "--strict", str(course)]).exit_code == 1


@pytest.mark.parametrize("inline", [False, True])
def test_rendering_maps_each_local_image_and_leaves_the_rest(inline):
    text = "![one](<figures/series circuit.png>) and ![two](https://example.org/x.png)"
    html = render_markdown(text, inline=inline, files={"figures/series%20circuit.png": "media/figures/series%20circuit.png"})
    assert '<img src="media/figures/series%20circuit.png" alt="one" />' in html
    assert '<img src="https://example.org/x.png" alt="two" />' in html
    assert render_markdown(text, inline=inline) == render_markdown(text, inline=inline, files={})


def test_markdown_keeps_its_text_with_images_pointing_elsewhere():
    text = "A ![x](<figures/series circuit.png>) B ![y](figures/series%20circuit.png) C ![z](other.png)"
    assert replace_images(text, {"figures/series%20circuit.png": "attachment:series-circuit.png"}) == (
        "A ![x](attachment:series-circuit.png) B ![y](attachment:series-circuit.png) C ![z](other.png)")


def test_the_site_copies_each_file_and_shows_it_from_there(tmp_path):
    build(LMS, tmp_path, ["site"])
    page = (tmp_path / "site" / "concepts" / "figures.html").read_text(encoding="utf-8")
    assert page.count('<img src="../media/figures/series%20circuit.png" alt="A series circuit with two resistors" />') == 2
    assert '<img src="../media/figures/drift.svg"' in page
    for name in (CIRCUIT, "figures/drift.svg"):
        assert (tmp_path / "site" / "media" / name).read_bytes() == (LMS / name).read_bytes()


def test_a_notebook_carries_the_images_its_questions_show(tmp_path):
    course = _course(tmp_path, "Text.\n\n## Questions\n\n{#q type=truefalse}\n### Q\n"
                               "![A series circuit](<figures/series circuit.png>) is a circuit.\n\n"
                               "- [x] True\n- [ ] False\n\n#### Explanation\nIt is.")
    text = (course / "c.md").read_text(encoding="utf-8")
    (course / "c.md").write_text(text.replace("title: C\n", "title: C\nlab: ift-vs-pretraining\n"), encoding="utf-8")
    build(course, tmp_path / "out", ["notebooks"])
    cells = json.loads((tmp_path / "out" / "notebooks" / "ift-vs-pretraining.ipynb").read_text())["cells"]
    (cell,) = [cell for cell in cells if "attachments" in cell]
    assert "![A series circuit](attachment:series-circuit.png)" in cell["source"]
    data = cell["attachments"]["series-circuit.png"]["image/png"]
    assert base64.b64decode(data) == (LMS / CIRCUIT).read_bytes()
