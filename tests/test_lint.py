"""Item-writing lint: warnings by default, errors with --strict."""


from click.testing import CliRunner

from quizgen.cli import cli
from quizgen.lint import lint
from quizgen.loader import load_course
from paths import FIXTURES

COURSES = FIXTURES / "courses"


def test_flawed_course_gets_one_warning_per_flaw():
    warnings = [str(w) for w in lint(load_course(COURSES / "flawed"))]
    path = str(COURSES / "flawed" / "flawed.md")
    assert f"{path}:9: warning: the correct option is A in 3 of 3 choice questions of this concept; vary its position" in warnings
    assert any(w.startswith(f"{path}:9: warning: the correct option is the longest in 3 of 3") for w in warnings)
    above = [w for w in warnings if "'All of the above' option" in w]
    assert [w.split(":")[1] for w in above] == ["17", "33", "49"]
    case_only = [w for w in warnings if "only in case or white space" in w]
    assert [w.split(":")[1] for w in case_only] == ["19", "35", "51"]
    assert len(warnings) == 8


def test_clean_course_has_no_warnings():
    assert lint(load_course(COURSES / "full")) == []


def test_strict_turns_warnings_into_a_failure():
    runner = CliRunner()
    relaxed = runner.invoke(cli, ["check", str(COURSES / "flawed")])
    assert relaxed.exit_code == 0 and "8 warnings" in relaxed.output
    strict = runner.invoke(cli, ["check", "--strict", str(COURSES / "flawed")])
    assert strict.exit_code == 1
    assert strict.output.strip().endswith("8 warnings (--strict makes them errors)")
