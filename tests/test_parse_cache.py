"""The parse cache: an unchanged file is not parsed again, and a cached result is never stale."""

import shutil
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


def test_a_warm_load_parses_nothing_and_gives_the_same_course(course_copy, tmp_path, monkeypatch):
    cache = ParseCache(tmp_path / "cache")
    cold = load_course(course_copy, cache)
    parsed = []
    real = loader.load_concept_file
    monkeypatch.setattr(loader, "load_concept_file", lambda *args: parsed.append(args[0]) or real(*args))
    warm = load_course(course_copy, cache)
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
        assert [d.message for d in raised.value.diagnostics] == ["missing required attribute 'answer'"]


def test_a_damaged_entry_is_a_miss(course_copy, tmp_path):
    cache = ParseCache(tmp_path / "cache")
    cold = load_course(course_copy, cache)
    for entry in (tmp_path / "cache").rglob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert load_course(course_copy, cache) == cold


def test_a_change_in_the_parser_code_misses(course_copy, tmp_path, monkeypatch):
    cache = ParseCache(tmp_path / "cache")
    load_course(course_copy, cache)
    monkeypatch.setattr(cache, "code", cache.code + b"changed")
    keys = [cache.key(path) for path in loader.concept_files(course_copy)]
    assert all(cache.get(key) is None for key in keys)


def test_the_environment_can_switch_the_cache_off(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ParseCache.default().folder == tmp_path / "quizgen" / "parsed"
    monkeypatch.setenv("QUIZGEN_NO_CACHE", "1")
    assert ParseCache.default() is None
