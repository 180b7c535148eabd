"""`quizgen build` and `quizgen export` refuse exactly what `quizgen check` refuses, say it the same
way, and leave the previous output as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen import parallel
from quizgen.build import build
from quizgen.cli import cli
from quizgen.errors import ContentError
from quizgen.lab.runner import discover
from quizgen.loader import load_course
from paths import FIXTURES

CONCEPT = "parameter-initialization.md"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def course(tmp_path):
    shutil.copytree(FIXTURES / "courses" / "full", tmp_path / "course")
    return tmp_path / "course"


def test_build_refuses_a_concept_naming_an_unknown_lab_with_the_diagnostic_check_gives(course, tmp_path):
    out = tmp_path / "out"
    assert run("build", "--content", str(course), "--out", str(out)).exit_code == 0
    before = tree_bytes(out)
    edit(course / CONCEPT, "\nlab: initialization\n", "\nlab: initalization\n")
    lab_line = (course / CONCEPT).read_text().splitlines().index("lab: initalization") + 1

    checked = run("check", str(course))
    built = run("build", "--content", str(course), "--out", str(out))
    assert checked.exit_code == built.exit_code == 1
    assert built.output == checked.output == (
        f"{course / CONCEPT}:{lab_line}: concept 'parameter-initialization' names the unknown lab 'initalization' "
        f"(labs: {', '.join(sorted(discover()))}).\n1 error in 1 file\n")
    assert tree_bytes(out) == before  # the last good build, untouched, and no staging folder left
    assert not [path for path in out.iterdir() if path.name.startswith(".")]


def unknown_claim(course: Path) -> None:
    edit(course / CONCEPT, "claim=aggressive-forgets", "claim=aggressive-forget")


def unknown_lab(course: Path) -> None:
    edit(course / CONCEPT, "\nlab: initialization\n", "\nlab: initalization\n")


def unknown_lab_and_a_bad_question(course: Path) -> None:
    unknown_lab(course)
    edit(course / "sft-objective.md", "type=choice", "type=chioce")


@pytest.mark.parametrize("spoil", [unknown_claim, unknown_lab, unknown_lab_and_a_bad_question])
def test_check_build_and_export_refuse_the_same_things_the_same_way(course, tmp_path, spoil):
    spoil(course)
    checked = run("check", str(course))
    built = run("build", "--content", str(course), "--out", str(tmp_path / "out"))
    exported = run("export", "--format", "gift", "--content", str(course), "--out", str(tmp_path / "out"))
    assert checked.exit_code == built.exit_code == exported.exit_code == 1
    assert checked.output == built.output == exported.output
    assert "Traceback" not in checked.output and not (tmp_path / "out" / "export").exists()
    with pytest.raises(ContentError) as loading:
        load_course(course)
    with pytest.raises(ContentError) as building:
        build(course, tmp_path / "out", ["site"])
    assert building.value.diagnostics == loading.value.diagnostics


def test_a_build_folder_that_cannot_be_written_is_a_sentence(course, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "build"
    result = run("build", "--content", str(course), "--out", str(out), "--format", "gift")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot build into '{out}': ") and "Traceback" not in result.output


@pytest.mark.skipif(parallel.cores() < 2, reason="one core: nothing forks")
def test_every_format_is_the_same_built_on_every_core_as_built_here(course, tmp_path, monkeypatch):
    """With the thresholds at 1, loading, the formats, the zips and the site pages all fork (and the
    loader's workers parse while this process warms up every format's templates): the same bytes."""
    from quizgen import build as build_module, loader
    from quizgen.formats import FORMATS, common, site

    build(course, tmp_path / "serial", list(FORMATS))
    for module, name in ((loader, "PARALLEL_MIN_FILES"), (build_module, "PARALLEL_MIN_WORK"),
                         (common, "PARALLEL_MIN_ITEMS"), (site, "PARALLEL_MIN_PAGES")):
        monkeypatch.setattr(module, name, 1)
    build(course, tmp_path / "forked", list(FORMATS))
    serial, forked = tree_bytes(tmp_path / "serial"), tree_bytes(tmp_path / "forked")
    assert serial.keys() == forked.keys() and len(serial) > 30
    assert [path for path in serial if serial[path] != forked[path]] == []
