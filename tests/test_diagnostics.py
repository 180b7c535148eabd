"""Every fixture in tests/fixtures/bad/<case>/ must produce exactly the lines in its `expected` file."""

from pathlib import Path

import pytest

from quizgen.errors import ContentError
from quizgen.loader import load_course

BAD = Path(__file__).parent / "fixtures" / "bad"
CASES = sorted(path.name for path in BAD.iterdir() if path.is_dir())


def test_there_is_a_fixture_per_diagnostic_the_issue_names():
    required = {
        "unknown-field", "missing-field", "wrong-type", "duplicate-concept-id", "duplicate-question-id",
        "unknown-link", "learn-after-cycle", "choice-no-correct", "choice-two-correct", "multi-no-correct",
        "duplicate-option", "numeric-negative-tolerance", "rubric-points-mismatch", "empty-stem",
        "empty-explanation", "malformed-yaml", "not-utf8",
    }
    assert required <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_bad_fixture_gives_its_expected_diagnostics(case, monkeypatch):
    folder = BAD / case
    expected = (folder / "expected").read_text(encoding="utf-8").splitlines()
    assert expected, f"{case}/expected states no diagnostic"
    monkeypatch.chdir(folder)
    with pytest.raises(ContentError) as raised:
        load_course(Path("."))
    assert [str(diagnostic) for diagnostic in raised.value.diagnostics] == expected


def test_problems_in_several_files_are_all_reported_at_once(monkeypatch):
    monkeypatch.chdir(BAD / "many-errors")
    with pytest.raises(ContentError) as raised:
        load_course(Path("."))
    assert {d.path for d in raised.value.diagnostics} == {"a.md", "b.md"}
    assert len(raised.value.diagnostics) == 3
