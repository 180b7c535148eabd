"""`quizgen lab …` and `quizgen verify`: user errors are plain sentences, claims print with values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizgen.cli import cli as quizgen
from quizgen.lab import cli, runner
from quizgen.lab.references import metric_problems
from quizgen.loader import load_course
from paths import ROOT

KNOWN_LABS = ", ".join(sorted(runner.discover()))


def invoke(command, args):
    """``command`` as a user runs it: under `quizgen`, whose group reports what the library raises."""
    result = CliRunner().invoke(quizgen, [command.name, *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_importing_the_cli_does_not_import_torch():
    code = "import sys, quizgen.lab.cli; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_lab_list_names_every_lab_and_its_claims():
    result = invoke(cli.lab, ["list"])
    assert result.exit_code == 0
    for lab_id, spec in runner.discover().items():
        assert f"{lab_id}: {spec.title}\n" in result.output
        for claim in spec.claims:
            assert f"  {claim.name}\n" in result.output


def test_the_labs_declare_exactly_the_claims_the_course_references():
    course = load_course(ROOT / "content")
    named = {(concept.lab, q.claim) for concept in course.concepts for q in concept.questions if q.claim}
    declared = {(lab_id, claim.name) for lab_id, spec in runner.discover().items() for claim in spec.claims}
    assert named == declared  # no claim unbacked, none that no question asks about


@pytest.mark.parametrize("args, message", [
    (["run", "no-such-lab"], f"There is no lab named 'no-such-lab' (known labs: {KNOWN_LABS})."),
    (["run", "initialization", "--model", "/no/such/dir"], "--model /no/such/dir: no such directory."),
])
def test_user_errors_are_one_plain_sentence(args, message):
    result = invoke(cli.lab, args)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {message}"


def test_a_model_directory_without_a_config_is_explained(tmp_path):
    result = invoke(cli.lab, ["run", "initialization", "--model", str(tmp_path), "--cache-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path} is not a Hugging Face model directory (it has no config.json)."


def test_asking_for_cuda_without_one_is_explained(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = invoke(cli.lab, ["run", "initialization", "--device", "cuda", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "torch sees no CUDA device" in result.output


def test_bad_option_values_are_usage_errors_not_tracebacks():
    result = invoke(cli.lab, ["run", "initialization", "--threads", "0"])
    assert result.exit_code == 2 and "Invalid value for '--threads'" in result.output


def course_naming_labs(folder: Path) -> None:
    """content/course.yml in ``folder``, naming ``folder``/labs as the course's labs."""
    (folder / "content").mkdir(exist_ok=True)
    (folder / "content" / "course.yml").write_text("title: A course with its own labs\nlabs: ../labs\n")


def test_a_lab_file_that_does_not_load_is_reported_as_a_sentence(tmp_path, monkeypatch):
    (tmp_path / "labs" / "broken").mkdir(parents=True)
    (tmp_path / "labs" / "broken" / "lab.py").write_text("TITLE = 'broken'\ndef run(lab):\n  return {\n")
    course_naming_labs(tmp_path)
    monkeypatch.chdir(tmp_path)
    for command, args in ((cli.lab, ["list", "--labs", str(tmp_path / "labs")]), (cli.verify, [])):
        result = invoke(command, args)
        assert result.exit_code == 1
        assert result.output == (f"{tmp_path / 'labs' / 'broken' / 'lab.py'}:3: cannot load the lab: SyntaxError: "
                                 "'{' was never closed\n1 error in 1 file\n")


def test_a_lab_file_that_fails_as_it_runs_is_reported_at_its_line(tmp_path, monkeypatch):
    (tmp_path / "labs" / "broken").mkdir(parents=True)
    (tmp_path / "labs" / "broken" / "lab.py").write_text("TITLE = 'broken'\n\nTHRESHOLD = 1 / 0\n")
    result = invoke(cli.lab, ["list", "--labs", str(tmp_path / "labs")])
    assert result.exit_code == 1
    assert result.output.startswith(f"{tmp_path / 'labs' / 'broken' / 'lab.py'}:3: cannot load the lab: "
                                    "ZeroDivisionError: ")


def test_a_folder_without_labs_and_a_missing_one_are_plain_sentences(tmp_path):
    result = invoke(cli.lab, ["list", "--labs", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == f"Error: No labs found in {tmp_path} (a lab is a folder holding lab.py).\n"
    result = invoke(cli.lab, ["list", "--labs", str(tmp_path / "nowhere")])
    assert result.output == f"Error: --labs {tmp_path / 'nowhere'}: no such folder.\n"


FAKE_LAB = '''
from quizgen.lab.claims import Claim

TITLE = "A lab that trains nothing"
THRESHOLD = {threshold}
CLAIMS = [
    Claim("big-enough", "The measured value clears the threshold.", "arm.value >= {threshold}"),
    Claim("seeded", "Seeds are passed through.", "arm.seed >= 0"),
]


def run(lab):
    return {{"arm": {{"value": 0.5, "seed": lab.seed, "relative_drift": 0.05}}}}
'''


@pytest.fixture
def fake_labs(tmp_path, monkeypatch):
    """A course (content/) whose course.yml names its own labs/ folder, with one lab that needs no
    training, in a scratch working directory."""
    pytest.importorskip("torch")
    (tmp_path / "labs" / "fake").mkdir(parents=True)
    course_naming_labs(tmp_path)
    monkeypatch.chdir(tmp_path)

    def write(threshold):
        (tmp_path / "labs" / "fake" / "lab.py").write_text(FAKE_LAB.format(threshold=threshold))
    return write


def test_verify_prints_each_claim_with_its_measured_values_and_passes(fake_labs):
    fake_labs(0.4)
    result = invoke(cli.verify, ["--seeds", "2"])
    assert result.exit_code == 0, result.output
    assert "fake (seed 0, ran in" in result.output and "fake (seed 1, ran in" in result.output
    assert "PASS big-enough: The measured value clears the threshold." in result.output
    assert "measured: arm.value = 0.5" in result.output
    assert "4 of 4 claim checks hold on 2 seed(s)" in result.output
    again = invoke(cli.verify, ["--seeds", "2"])
    assert "fake (seed 0, cached" in again.output  # the second run reads the cache


def test_verify_prints_each_condition_at_its_worst_over_the_seeds(fake_labs, tmp_path):
    fake_labs(0.3)
    lab_file = tmp_path / "labs" / "fake" / "lab.py"
    lab_file.write_text(lab_file.read_text().replace('"value": 0.5', '"value": 0.5 - 0.05 * lab.seed'))
    result = invoke(cli.verify, ["--seeds", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("fake: each condition at its worst over 3 seeds")
    assert lines[start + 1:start + 5] == [
        "  big-enough",
        "       arm.value >= 0.3: worst arm.value = 0.4 (seed 2) against 0.3: margin +0.1, +33% of the bound",
        "  seeded",
        "       arm.seed >= 0: worst arm.seed = 0 (seed 0) against 0: margin +0",
    ]


def test_verify_exits_1_when_a_claim_fails(fake_labs):
    fake_labs(0.9)
    result = invoke(cli.verify, ["--seeds", "1"])
    assert result.exit_code == 1
    assert "FAIL big-enough" in result.output and "✗ arm.value >= 0.9" in result.output
    assert "1 of 2 claim checks hold" in result.output


def write_concept(folder: Path, *questions: str, lab: str = "fake") -> Path:
    """content/concept.md in ``folder``, naming ``lab``, with one numeric question per attribute line."""
    sections = "".join(f"{{#q{n} type=numeric {attributes}}}\n### Question {n}\nHow much?\n\n#### Explanation\nSo much.\n\n"
                       for n, attributes in enumerate(questions, 1))
    path = folder / "content" / "concept.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"---\nid: concept\ntitle: A concept\nlab: {lab}\n---\nWhat it is.\n\n## Questions\n\n{sections}")
    return path


def heading_line(path: Path, number: int) -> int:
    return path.read_text().splitlines().index(f"### Question {number}") + 1


def test_verify_reports_questions_whose_metric_the_lab_does_not_measure_or_reproduce(fake_labs, tmp_path):
    fake_labs(0.4)
    path = write_concept(tmp_path, "answer=0.5 tolerance=0.01 claim=big-enough",
                         "answer=0.5 tolerance=0.01 metric=arm.value",
                         "answer=0.05 tolerance=0.02 metric=arm.value",
                         "answer=1.0 metric=arm.nothing")
    result = invoke(cli.verify, ["--seeds", "1"])
    assert result.exit_code == 1
    output = result.output  # stdout and stderr together
    where = "content/concept.md"
    assert f"{where}:{heading_line(path, 3)}: question 'q3' gives arm.value = 0.05 ± 0.02, but the lab measured 0.5." in output
    assert f"{where}:{heading_line(path, 4)}: question 'q4' names the metric 'arm.nothing', which lab fake does not measure." in output
    assert f"{where}:{heading_line(path, 1)}:" not in output and f"{where}:{heading_line(path, 2)}:" not in output
    assert "2 problem(s) in content" in output


def test_verify_refuses_unknown_claims_and_labs_before_running_a_lab(fake_labs, tmp_path):
    """The same refusal, at the same line, as `quizgen check` and `quizgen build`."""
    fake_labs(0.4)
    path = write_concept(tmp_path, "answer=0.5 claim=big-enough", "answer=0.5 claim=no-such-claim")
    result = invoke(cli.verify, ["--seeds", "1"])
    assert result.exit_code == 1
    assert result.output == (f"content/concept.md:{heading_line(path, 2)}: question 'q2' names the unknown claim "
                             "'no-such-claim' (known claims: big-enough, seeded).\n1 error in 1 file\n")
    assert result.output == CliRunner().invoke(quizgen, ["check", "content"]).output
    write_concept(tmp_path, "answer=0.5 claim=big-enough", lab="no-such-lab")
    result = invoke(cli.verify, ["--seeds", "1"])
    assert result.exit_code == 1
    assert result.output.startswith("content/concept.md:4: concept 'concept' names the unknown lab 'no-such-lab' "
                                    "(labs: fake).\n")


def test_relative_tolerance_is_a_share_of_the_answer(tmp_path):
    write_concept(tmp_path, "answer=100 relative_tolerance=0.05 metric=arm.value",
                  "answer=100 relative_tolerance=0.03 metric=arm.value")
    course = load_course(tmp_path / "content", labs={"fake": []})
    problems = metric_problems(course, {"fake": [{"metrics": {"arm": {"value": 104.0}}}]})
    assert [problem.message for problem in problems] == [
        "question 'q2' gives arm.value = 100 ± 3, but the lab measured 104."]


def test_cached_results_are_found_without_torch(fake_labs, tmp_path):
    fake_labs(0.4)
    invoke(cli.verify, ["--seeds", "1", "--cache-dir", str(tmp_path / "c")])
    code = ("import sys; from quizgen.lab import runner; "
            f"hit = runner.cached_results('fake', cache_dir={str(tmp_path / 'c')!r}, labs='labs'); "
            "miss = runner.cached_results('fake', seed=5, labs='labs', cache_dir=" + repr(str(tmp_path / "c")) + "); "
            "print(hit['metrics']['arm']['value'], miss, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(Path(cli.__file__).parents[2])})
    assert out.stdout.split() == ["0.5", "None", "False"], out.stderr


def test_lab_threads_wait_passively_unless_the_user_says_otherwise():
    """OMP_WAIT_POLICY is set before torch loads, wherever a lab runs: the lab engine's import (the CLI,
    the grader) and the notebooks' first code cell, which imports the engine before torch."""
    from quizgen.notebooks.recipe import SETUP_SOURCE

    code = "import os, quizgen.lab.runner; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {key: value for key, value in __import__("os").environ.items() if key != "OMP_WAIT_POLICY"}
    for given, expected in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env=env | ({"OMP_WAIT_POLICY": given} if given else {}))
        assert out.stdout.strip() == expected
    assert SETUP_SOURCE.index("from quizgen.lab.runner import") < SETUP_SOURCE.index("import torch")
