"""The parse cache: an unchanged file is not parsed again, and a cached result is never stale."""

import importlib
import platform
import shutil
from importlib import metadata
from pathlib import Path

import pytest

from quizgen import loader
from quizgen.errors import ContentError
from quizgen.loader import ParseCache, load_course

FULL = Path(__file__).resolve().parent / "fixtures" / "courses" / "full"


@pytest.fixture
def course_copy(tmp_path):
    shutil.copytree(FULL, tmp_path / "course")
    return tmp_path / "course"


def parsed_from_now_on(monkeypatch) -> list[Path]:
    """The files the loader parses from now on (not those it takes from a cache)."""
    parsed = []
    real = loader.load_concept_file
    monkeypatch.setattr(loader, "load_concept_file", lambda *args: parsed.append(args[0]) or real(*args))
    return parsed


def load_in_a_new_process(course, cache_dir):
    """A load as the next `quizgen` run does it: a new ParseCache on the same folder."""
    return load_course(course, ParseCache(cache_dir))


def test_a_warm_load_parses_nothing_and_gives_the_same_course(course_copy, tmp_path, monkeypatch):
    cold = load_in_a_new_process(course_copy, tmp_path / "cache")
    parsed = parsed_from_now_on(monkeypatch)
    warm = load_in_a_new_process(course_copy, tmp_path / "cache")
    assert warm == cold and parsed == []


def test_an_edited_file_is_parsed_again(course_copy, tmp_path):
    cache = ParseCache(tmp_path / "cache")
    load_course(course_copy, cache)
    path = course_copy / "sft-objective.md"
    path.write_text(path.read_text().replace("title: Probabilistic", "title: Edited Probabilistic"))
    assert load_course(course_copy, cache).concept("sft-objective").title.startswith("Edited")


def test_errors_come_back_from_the_cache_too(course_copy, tmp_path):
    cache = ParseCache(tmp_path / "cache")
    path = course_copy / "sft-objective.md"
    path.write_text(path.read_text().replace("type=numeric answer=1.204", "type=numeric"))
    for _ in range(2):
        with pytest.raises(ContentError) as raised:
            load_course(course_copy, cache)
        assert [d.message for d in raised.value.diagnostics] == [
            "missing required attribute 'answer' (or metric=, when the lab measures the answer)"]


def test_a_damaged_entry_is_a_miss(course_copy, tmp_path):
    cache = ParseCache(tmp_path / "cache")
    cold = load_course(course_copy, cache)
    for entry in (tmp_path / "cache").rglob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert load_course(course_copy, cache) == cold


def edited_copy(source: Path, folder: Path) -> Path:
    """A copy of a source file in ``folder``, with one line added."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / source.name
    copy.write_bytes(source.read_bytes() + b"\n# an edit\n")
    return copy


@pytest.mark.parametrize("module_name", ["loader", "markdown", "model", "attributes", "errors"])
def test_an_edit_of_a_parser_module_misses(course_copy, tmp_path, monkeypatch, module_name):
    load_in_a_new_process(course_copy, tmp_path / "cache")
    module = importlib.import_module(f"quizgen.{module_name}")
    monkeypatch.setattr(module, "__file__", str(edited_copy(Path(module.__file__), tmp_path / "edited")))
    parsed = parsed_from_now_on(monkeypatch)
    load_in_a_new_process(course_copy, tmp_path / "cache")
    assert sorted(parsed) == loader.concept_files(course_copy)


def test_an_edit_of_a_question_type_misses(course_copy, tmp_path, monkeypatch):
    from quizgen import questions

    load_in_a_new_process(course_copy, tmp_path / "cache")
    package = Path(questions.__file__).parent
    shutil.copytree(package, tmp_path / "questions", ignore=shutil.ignore_patterns("__pycache__"))
    edited_copy(package / "numeric.py", tmp_path / "questions")
    monkeypatch.setattr(questions, "__file__", str(tmp_path / "questions" / "__init__.py"))
    parsed = parsed_from_now_on(monkeypatch)
    load_in_a_new_process(course_copy, tmp_path / "cache")
    assert sorted(parsed) == loader.concept_files(course_copy)


@pytest.mark.parametrize("library", ["markdown-it-py", "mdit-py-plugins", "pydantic", "PyYAML", "python"])
def test_an_upgrade_of_python_or_a_parsing_library_misses(course_copy, tmp_path, monkeypatch, library):
    load_in_a_new_process(course_copy, tmp_path / "cache")
    if library == "python":
        monkeypatch.setattr(platform, "python_version", lambda: "3.99.0")
    else:
        real = metadata.version
        monkeypatch.setattr(metadata, "version",
                            lambda name: "99.0" if name.lower() == library.lower() else real(name))
    parsed = parsed_from_now_on(monkeypatch)
    load_in_a_new_process(course_copy, tmp_path / "cache")
    assert sorted(parsed) == loader.concept_files(course_copy)


def test_the_environment_can_switch_the_cache_off(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ParseCache.default().folder == tmp_path / "quizgen" / "parsed"
    monkeypatch.setenv("QUIZGEN_NO_CACHE", "1")
    assert ParseCache.default() is None
