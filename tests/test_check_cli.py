"""The command line as a user meets it: plain sentences, path:line diagnostics, exit codes, no tracebacks."""

import json
import subprocess
import sys

import jsonschema
import yaml
from click.testing import CliRunner

from quizgen.cli import cli
from quizgen.lab.runner import discover
from paths import FIXTURES, ROOT



def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_check_clean_course_prints_a_one_line_summary():
    result = run("check", str(FIXTURES / "courses" / "full"))
    assert result.exit_code == 0
    assert result.output.strip().endswith(
        "3 concepts, 9 questions (2 choice, 2 multi, 1 truefalse, 2 numeric, 1 short, 1 critique)"
    )
    assert len(result.output.strip().splitlines()) == 1


def test_check_bad_course_prints_every_diagnostic_and_exits_1(monkeypatch):
    monkeypatch.chdir(FIXTURES / "bad" / "many-errors")
    result = run("check", ".")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[:-1] == (FIXTURES / "bad" / "many-errors" / "expected").read_text().splitlines()
    assert lines[-1] == "3 errors in 2 files"


def test_check_missing_folder_is_a_plain_sentence():
    result = run("check", "no-such-folder")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: the content folder 'no-such-folder' does not exist"


def test_check_empty_folder_says_there_is_nothing(tmp_path):
    result = run("check", str(tmp_path))
    assert result.exit_code == 1
    assert "no concept files (*.md)" in result.output


def test_real_console_script_never_shows_a_traceback(tmp_path):
    (tmp_path / "x.md").write_bytes(b"---\nid: [\n---\n\xff\xfe")
    result = subprocess.run([sys.executable, "-m", "quizgen", "check", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{tmp_path / 'x.md'}:4: the file is not UTF-8")


def test_the_console_script_flushes_everything_and_keeps_exit_codes(tmp_path):
    """check/build/export end without interpreter teardown (quizgen.cli.QUICK_EXIT): what they
    printed must still arrive whole, through a pipe, with the right status."""
    good = subprocess.run([sys.executable, "-m", "quizgen", "check", str(FIXTURES / "courses" / "full")],
                          capture_output=True, text=True, cwd=ROOT)
    assert good.returncode == 0 and good.stdout.strip().endswith("1 critique)"), good.stderr
    bad = subprocess.run([sys.executable, "-m", "quizgen", "check", str(FIXTURES / "bad" / "many-errors")],
                         capture_output=True, text=True, cwd=ROOT)
    expected = (FIXTURES / "bad" / "many-errors" / "expected").read_text(encoding="utf-8")
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == expected.count("\n") + 1  # every diagnostic, then the count
    exported = subprocess.run([sys.executable, "-m", "quizgen", "export", "--format", "gift", "--content",
                               str(ROOT / "content"), "--out", str(tmp_path)], capture_output=True, text=True)
    assert exported.returncode == 0 and exported.stdout.startswith("gift: "), exported.stderr
    assert (tmp_path / "export" / "gift" / "questions.gift.txt").stat().st_size > 0


def test_check_does_not_import_torch():
    code = (
        "import sys\nfrom quizgen.cli import cli\n"
        f"try:\n    cli(['check', {str(ROOT / 'content')!r}])\nexcept SystemExit as exit:\n    assert exit.code in (0, None)\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_check_does_not_import_jinja2():
    """Templates are for outputs; checking a course (its lint warnings included) renders none."""
    code = (
        "import sys\nfrom quizgen.cli import cli\n"
        f"try:\n    cli(['check', '--strict', {str(FIXTURES / 'courses' / 'flawed')!r}])\n"
        "except SystemExit as exit:\n    assert exit.code == 1, exit.code\n"
        "assert 'quizgen.lint' in sys.modules\n"
        "template_engines = sorted(m for m in ('jinja2', 'markupsafe') if m in sys.modules)\n"
        "assert not template_engines, template_engines\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_schema_validates_the_seed_course_front_matter():
    result = run("schema", "--part", "front-matter")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "content").glob("*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
        assert not list(validator.iter_errors(front)), path
    assert list(validator.iter_errors({"id": "x", "title": "t", "learn-after": []}))


def test_schema_of_question_attributes_knows_every_type():
    schemas = json.loads(run("schema").output)
    assert set(schemas) == {"front_matter", "question"}
    validator = jsonschema.Draft202012Validator(schemas["question"])
    assert not list(validator.iter_errors({"id": "q", "type": "numeric", "answer": 0.5, "tolerance": 0.1}))
    assert list(validator.iter_errors({"id": "q", "type": "numeric"}))  # no answer
    # A generated question writes formulas; one the lab measures names its metric instead of an answer.
    assert not list(validator.iter_errors({"id": "q", "type": "numeric", "answer": "= r / (p + r)", "points": "= 2"}))
    assert not list(validator.iter_errors({"id": "q", "type": "numeric", "metric": "grid.recall", "tolerance": 0.05}))
    assert list(validator.iter_errors({"id": "q", "type": "numeric", "answer": "half"}))
    assert list(validator.iter_errors({"id": "q", "type": "essay"}))
    kinds = {ref["$ref"].rsplit("/", 1)[-1] for ref in schemas["question"]["oneOf"]}
    assert len(kinds) == 6


def test_check_reports_an_unknown_lab_and_an_unknown_claim_with_their_lines(tmp_path):
    import shutil

    shutil.copytree(FIXTURES / "courses" / "full", tmp_path / "course")
    path = tmp_path / "course" / "parameter-initialization.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("claim=aggressive-forgets", "claim=aggressive-forget", 1), encoding="utf-8")
    result = run("check", str(tmp_path / "course"))
    assert result.exit_code == 1
    claim_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "aggressive-forget}" in line) + 1
    assert f"parameter-initialization.md:{claim_line}: question 'aggressive-risk' names the unknown claim " \
           "'aggressive-forget' (known claims: " in result.output
    path.write_text(text.replace("\nlab: initialization\n", "\nlab: initalization\n"), encoding="utf-8")
    result = run("check", str(tmp_path / "course"))
    lab_line = path.read_text().splitlines().index("lab: initalization") + 1
    assert result.exit_code == 1
    assert f"parameter-initialization.md:{lab_line}: concept 'parameter-initialization' names the unknown lab " \
           f"'initalization' (labs: {', '.join(sorted(discover()))})." in result.output
    assert result.output.rstrip().endswith("1 error in 1 file")


def test_a_lab_file_that_does_not_load_is_reported_at_its_line_with_the_rest(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(FIXTURES / "courses" / "full", tmp_path / "course")
    (tmp_path / "labs" / "initialization").mkdir(parents=True)
    (tmp_path / "labs" / "initialization" / "lab.py").write_text("TITLE = 'initialization'\n\ndef run(lab):\n    return {\n")
    with (tmp_path / "course" / "course.yml").open("a") as course_file:
        course_file.write("labs: ../labs\n")  # the course brings its own labs
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "course" / "sft-objective.md"
    path.write_text(path.read_text(encoding="utf-8").replace("type=choice", "type=chioce", 1), encoding="utf-8")
    result = run("check", "course")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{tmp_path / 'labs' / 'initialization' / 'lab.py'}:4: cannot load the lab: SyntaxError: '{{' was never closed" in lines
    assert any(line.startswith("course/sft-objective.md:") and "unknown question type 'chioce'" in line for line in lines)
    assert lines[-1] == "2 errors in 2 files"
