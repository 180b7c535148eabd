"""The command line is the same everywhere: --format is repeatable and takes comma lists in every command
that has it; check, build, export and serve take the course folder as CONTENT or as --content; and a
course without labs gets (and is told of) no empty notebooks or Otter folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.build import build
from quizgen.cli import cli
from quizgen.formats import FORMATS, names
from paths import FIXTURES

MINIMAL = FIXTURES / "courses" / "minimal"
LMS = FIXTURES / "courses" / "lms"
OWN_LABS = FIXTURES / "courses" / "own-labs"


def run(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args], prog_name="quizgen")


def written(result) -> dict[str, str]:
    """{format: folder} from the `name: folder` lines a build prints on stdout."""
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def exports_in(out: Path) -> list[str]:
    return sorted(path.name for path in (out / "export").iterdir()) if (out / "export").is_dir() else []


# --- --format: repeated, comma lists, all --------------------------------------------------------------


@pytest.mark.parametrize("formats", [
    ["--format", "key", "--format", "critique"],
    ["--format", "key,critique"],
    ["--format", "key, critique"],
    ["--format", "critique,key", "--format", "key"],
])
def test_export_writes_every_format_named(tmp_path, formats):
    result = run("export", *formats, "--content", LMS, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(written(result)) == ["critique", "key"]
    assert exports_in(tmp_path) == ["critique", "key"]
    assert (tmp_path / "export" / "key" / "key.html").is_file()


def test_build_takes_repeated_and_comma_separated_formats_alike(tmp_path):
    result = run("build", LMS, "--out", tmp_path, "--format", "gift,csv", "--format", "site")
    assert result.exit_code == 0, result.output
    assert list(written(result)) == ["gift", "csv", "site"]  # in the order given, each once
    assert exports_in(tmp_path) == ["csv", "gift"] and (tmp_path / "site" / "index.html").is_file()


def test_export_all_writes_every_export_and_can_be_combined(tmp_path):
    result = run("export", "--format", "all,key", "--content", MINIMAL, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    with_files = [name for name in names("export") if name not in ("otter", "critique")]  # no lab, no critique
    assert list(written(result)) == with_files
    assert exports_in(tmp_path) == sorted(with_files)


def test_build_all_is_every_format(tmp_path):
    assert written(run("build", "--format", "all", LMS, "--out", tmp_path / "a")) == \
        {name: str(folder) for name, folder in written(run("build", LMS, "--out", tmp_path / "a")).items()}


@pytest.mark.parametrize("command, known", [("export", names("export")), ("build", list(FORMATS))])
def test_an_unknown_format_is_a_sentence_listing_the_known_ones(tmp_path, command, known):
    result = run(command, "--format", "key,pdf", "--content", MINIMAL, "--out", tmp_path)
    assert result.exit_code == 1
    assert result.output == f"Error: unknown format 'pdf'; the formats are: {', '.join(known)} (or all)\n"
    assert not tmp_path.joinpath("export").exists()  # nothing is built when one name is wrong


def test_export_names_the_command_that_builds_a_format_that_is_not_an_export(tmp_path):
    result = run("export", "--format", "site", "--content", MINIMAL, "--out", tmp_path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: 'site' is not an export; `quizgen build --format site` builds it.")


def test_a_format_option_naming_nothing_is_refused(tmp_path):
    result = run("export", "--format", ",", "--content", MINIMAL, "--out", tmp_path)
    assert result.exit_code == 1 and result.output.startswith("Error: --format names no format; the formats are:")


# --- the course folder: CONTENT or --content, in check, build, export and serve --------------------------


ARGUMENTS = {  # what each command needs besides the course folder
    "check": [],
    "build": ["--format", "gift"],
    "export": ["--format", "gift"],
}


@pytest.mark.parametrize("command", sorted(ARGUMENTS))
@pytest.mark.parametrize("form", ["positional", "option", "both, the same"])
def test_every_command_takes_the_course_folder_either_way(tmp_path, command, form):
    where = {"positional": [MINIMAL], "option": ["--content", MINIMAL],
             "both, the same": [MINIMAL, "--content", MINIMAL / ".." / "minimal"]}[form]
    out = [] if command == "check" else ["--out", tmp_path]
    result = run(command, *where, *ARGUMENTS[command], *out)
    assert result.exit_code == 0, result.output
    if command == "check":
        assert result.output.endswith("1 concept, 1 question (1 truefalse)\n")
    else:
        assert (tmp_path / "export" / "gift" / "questions.gift.txt").is_file()


@pytest.mark.parametrize("command", sorted(ARGUMENTS) + ["serve"])
def test_naming_two_different_course_folders_is_a_usage_error(tmp_path, command):
    out = [] if command == "check" else ["--out", tmp_path]
    result = run(command, MINIMAL, "--content", LMS, *ARGUMENTS.get(command, []), *out)
    assert result.exit_code == 2
    assert result.output.startswith(f"Usage: quizgen {command} [OPTIONS] [CONTENT]")
    assert result.output.endswith(f"Error: the course folder is given twice, as CONTENT '{MINIMAL}' and as "
                                  f"--content '{LMS}': give it once\n")
    assert not (tmp_path / "export").exists() and not (tmp_path / "site").exists()


@pytest.mark.parametrize("command", sorted(ARGUMENTS) + ["serve"])
@pytest.mark.parametrize("form", ["positional", "option"])
def test_a_missing_course_folder_is_the_same_sentence_either_way(tmp_path, command, form):
    missing = tmp_path / "no-such-course"
    where = [missing] if form == "positional" else ["--content", missing]
    result = run(command, *where, *ARGUMENTS.get(command, []), "--out", tmp_path / "out") if command != "check" \
        else run(command, *where)
    assert result.exit_code == 1
    assert result.output == f"Error: the content folder '{missing}' does not exist\n"


@pytest.mark.parametrize("command", sorted(ARGUMENTS) + ["serve"])
def test_help_shows_both_forms(command):
    result = run(command, "--help")
    assert f"Usage: quizgen {command} [OPTIONS] [CONTENT]" in result.output and "--content DIR" in result.output


def test_the_default_course_folder_is_content(tmp_path, monkeypatch):
    shutil.copytree(MINIMAL, tmp_path / "content")
    monkeypatch.chdir(tmp_path)
    assert run("check").output == "content: 1 concept, 1 question (1 truefalse)\n"


# --- a course without labs: no empty notebooks or Otter folders ------------------------------------------


@pytest.mark.parametrize("course, nothing", [(MINIMAL, {"notebooks", "otter", "critique"}),
                                             (LMS, {"notebooks", "otter"})], ids=["minimal", "lms"])
def test_a_course_without_labs_gets_no_notebooks_or_otter_folder(tmp_path, course, nothing):
    result = run("build", course, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert not set(written(result)) & nothing
    assert not [line for line in result.stderr.splitlines() if ": warning: " not in line]  # (GIFT's, on lms)
    assert list(written(result)) == [name for name in FORMATS if name not in nothing]
    assert not (tmp_path / "notebooks").exists() and not (tmp_path / "export" / "otter").exists()
    assert all(any(Path(folder).iterdir()) for folder in written(result).values())


def test_asking_for_the_otter_export_of_a_course_without_labs_says_there_is_nothing(tmp_path):
    result = run("export", "--format", "otter,key", MINIMAL, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"key: {tmp_path / 'export' / 'key'}\n"
    assert result.stderr == "otter: nothing to write for this course (no folder written)\n"
    assert exports_in(tmp_path) == ["key"]


def stale_lab_outputs(out: Path) -> None:
    """What an earlier build of a course with a lab left."""
    (out / "notebooks").mkdir(parents=True)
    (out / "notebooks" / "initialization.ipynb").write_text("{}", encoding="utf-8")
    (out / "export" / "otter" / "initialization").mkdir(parents=True)
    (out / "export" / "otter" / "initialization" / "initialization.ipynb").write_text("{}", encoding="utf-8")


def test_an_earlier_builds_notebooks_do_not_survive_a_build_without_labs(tmp_path):
    stale_lab_outputs(tmp_path)
    result = run("build", MINIMAL, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "notebooks").exists() and not (tmp_path / "export" / "otter").exists()
    assert not list(tmp_path.glob(".*")) and not list((tmp_path / "export").glob(".*"))  # nothing set aside
    assert result.stderr.splitlines() == [
        f"notebooks: nothing to write for this course; removed {tmp_path / 'notebooks'}, an earlier build's",
        f"otter: nothing to write for this course; removed {tmp_path / 'export' / 'otter'}, an earlier build's",
    ]
    assert not set(written(result)) & {"notebooks", "otter"}


def test_a_real_lab_course_then_one_without_labs_in_the_same_build_folder(tmp_path):
    report = build(OWN_LABS, tmp_path, ["notebooks", "otter"])
    assert set(report.written) == {"notebooks", "otter"} and (tmp_path / "notebooks" / "learning-rate.ipynb").is_file()
    report = build(MINIMAL, tmp_path, ["notebooks", "otter", "key"])
    assert set(report.written) == {"key"} and report.removed == {"notebooks", "otter"}
    assert report.empty == {"notebooks": tmp_path / "notebooks", "otter": tmp_path / "export" / "otter"}
    assert not (tmp_path / "notebooks").exists() and exports_in(tmp_path) == ["key"]


def test_a_failed_build_leaves_the_earlier_notebooks_too(tmp_path, monkeypatch):
    from quizgen.formats import gift

    stale_lab_outputs(tmp_path)
    monkeypatch.setattr(gift, "write", lambda *args: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError, match="disk full"):
        build(MINIMAL, tmp_path, ["notebooks", "otter", "gift"])
    assert (tmp_path / "notebooks" / "initialization.ipynb").is_file()
    assert (tmp_path / "export" / "otter" / "initialization" / "initialization.ipynb").is_file()


def test_building_only_the_site_leaves_other_folders_alone(tmp_path):
    stale_lab_outputs(tmp_path)
    assert run("build", MINIMAL, "--out", tmp_path, "--format", "site").exit_code == 0
    assert (tmp_path / "notebooks" / "initialization.ipynb").is_file()  # not rebuilt, so not touched
