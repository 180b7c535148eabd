"""Student lab notebooks: built for every lab, free of answers, and runnable top to bottom.

The execution tests (marked slow) run the *solution* notebooks full size: the lab's own settings, as a
learner runs them. Two run with nbclient on a real kernel (about 45 s on 2 quiet cores); the longest,
initialization's, runs once per session in the grader's sandbox (conftest's full_size_initialization),
whose grading the grading tests check, so that the suite trains it once. `benchmarks/notebook_speed.py`
times each against the lab's 60 s budget.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from quizgen.build import build, cached_lab_results, with_measured_answers
from quizgen.loader import load_course
from quizgen.lab.runner import discover
from quizgen.notebooks import lab_plans, notebook_json, solution_notebook, student_notebook
from paths import FIXTURES, ROOT

CONTENT = ROOT / "content"
LABS = tuple(discover())  # the course's labs: every one has a notebook


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("notebooks")
    build(CONTENT, out, ["notebooks"])
    return out / "notebooks"


@pytest.fixture(scope="module")
def plans() -> dict:
    # As the build sees the course: the answers the labs measure filled in from the cached runs.
    return {plan.lab_id: plan for plan in lab_plans(with_measured_answers(load_course(CONTENT), None)[0])}


def test_build_writes_one_valid_student_notebook_per_lab(built, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    assert sorted(p.name for p in built.iterdir()) == sorted(f"{lab}.ipynb" for lab in LABS)
    for path in built.iterdir():
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.quizgen.version == "student"
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    build(CONTENT, tmp_path, ["notebooks"])
    digest = lambda folder: {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}  # noqa: E731
    assert digest(built) == digest(tmp_path / "notebooks")


def test_a_notebook_holds_the_labs_code_exercises_predictions_and_quiz(built, plans):
    for lab in LABS:
        text = (built / f"{lab}.ipynb").read_text(encoding="utf-8")
        plan = plans[lab]
        lab_source = (ROOT / "labs" / lab / "lab.py").read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(lab_source))
        sources = "\n".join(cell["source"] for cell in json.loads(text)["cells"])
        assert all(line in sources for line in docstring.splitlines()[2:]), lab  # the lab's explanation
        config = next(c for c in json.loads(text)["cells"] if c["metadata"]["quizgen"]["role"] == "config")
        for name in plan.config_names:
            assert re.search(rf"^{name} = ", config["source"], re.M), name  # its configuration, as the lab sets it
        for exercise in plan.exercises:
            assert f"def {exercise.name}(" in text and "raise NotImplementedError" in text
        assert "PREDICTIONS[" in text and "MEASURED[" in text
        for question in plan.questions:
            assert f"ANSWERS[{question.id!r}] = None" in text
    drift = json.loads((built / "initialization.ipynb").read_text(encoding="utf-8"))
    roles = [cell["metadata"]["quizgen"]["role"] for cell in drift["cells"]]
    # Predictions come before the first fine-tuning run, measurements after the last.
    assert roles.index("predict") < roles.index("train") < len(roles) - roles[::-1].index("train") <= roles.index("measure")


def _solution_only_lines(plan) -> list[str]:
    lines = []
    for cell in plan.cells:
        if cell.solution is not None:
            student = set(cell.source.splitlines())
            lines += [line.strip() for line in cell.solution.splitlines()
                      if line.strip() and line not in student and len(line.strip()) > 12]
    return lines


def test_the_student_version_holds_no_solution_hidden_test_or_reference_value(built, plans, tmp_path):
    # Distinctive reference results, handed to the build: none may reach a student notebook.
    # Every metric the lab-keyed questions read is a distinctive value too (their keys never reach a
    # student notebook either); the grid keeps its axes, which the generated questions' parameters name.
    def distinctive(value, key=None):
        if isinstance(value, dict):
            return {name: distinctive(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [distinctive(item) for item in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("lr", "steps"):
            return 0.4321987
        return value

    results = {}
    for lab, cached in cached_lab_results(load_course(CONTENT)).items():
        metrics = distinctive(cached["metrics"])
        metrics.setdefault("moderate", {}).update(recall=0.9173456, relative_drift=0.0491827)
        results[lab] = {"metrics": metrics, "claims": [], "key": "feedc0de1234", "settings": cached["settings"]}
    if set(results) != set(LABS):
        pytest.skip(f"no reference run of {sorted(set(LABS) - set(results))} in build/lab-cache: run `quizgen verify` "
                    "(make test does)")
    build(CONTENT, tmp_path, ["notebooks"], results)
    # Text of the hidden tests: the exercises' unseen inputs and the Otter master's.
    hidden_markers = ["def unseen_", "random.Random(20250)", "_unseen(", "reference(*copy.deepcopy(arguments))"]
    for lab in LABS:
        plan = plans[lab]
        text = (tmp_path / "notebooks" / f"{lab}.ipynb").read_text(encoding="utf-8")
        decoded = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
        assert (built / f"{lab}.ipynb").read_text(encoding="utf-8") == text  # results change nothing
        solution_lines = _solution_only_lines(plan)
        assert solution_lines, "the plan has solutions to hide"
        for line in solution_lines:
            assert line not in decoded, f"{lab}: solution line in the student notebook: {line}"
        for exercise in plan.exercises:
            body = exercise.solution_source().split('"""')[-1]
            for line in (l.strip() for l in body.splitlines()):
                if line and not line.startswith("import "):
                    assert line not in decoded, f"{lab}: solution of {exercise.name}: {line}"
            for line in (l.strip() for l in exercise.unseen_source().splitlines()[1:]):
                assert len(line) < 25 or line not in decoded, f"{lab}: unseen inputs of {exercise.name}: {line}"
        for marker in hidden_markers:
            assert marker not in decoded, f"{lab}: hidden test text {marker!r}"
        for value in ("0.9173456", "0.0491827", "feedc0de1234", "0.917", "0.0492", "0.4321987", "0.4322"):
            assert value not in decoded, f"{lab}: reference value {value}"
        public = decoded_questions_public_text(plan)
        for question in plan.questions:
            assert question.explanation.strip()[:60] not in decoded, f"{lab}: explanation of {question.id}"
            for option in getattr(question, "options", ()):
                assert not option.feedback or option.feedback[:60] not in decoded, f"{lab}: feedback in {question.id}"
            for answer in reference_strings(question):
                if answer not in public:
                    assert answer not in decoded, f"{lab}: the answer to {question.id} ({answer})"
            assert f"ANSWERS[{question.id!r}] = None" in decoded
        assert '"correct"' not in text and "[x]" not in decoded


def decoded_questions_public_text(plan) -> str:
    """What a learner legitimately sees: stems, options and the lab's own text."""
    return "\n".join([q.stem + " ".join(o.text for o in getattr(q, "options", ())) for q in plan.questions]
                     + [cell.source for cell in plan.cells])


def reference_strings(question) -> list[str]:
    if question.type == "numeric":
        return [text for text in {f"{question.answer:g}", repr(question.answer)} if len(text) >= 3]
    if question.type == "short":
        return list(question.accepted)
    if question.type == "critique":
        return [question.exemplar.strip()[:80]]
    return []


# --- public checks ---------------------------------------------------------------------------------


def _run_check(exercise, function) -> str:
    """The exercise's public check as the notebook runs it: its source, with the notebook's `checks`."""
    from quizgen.notebooks import checks

    namespace = {"checks": checks}
    exec(compile(exercise.check_source(), "check-cell", "exec"), namespace)  # noqa: S102 - our own check
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        namespace[exercise.check.__name__](function)
    return buffer.getvalue()


def _exercises() -> dict:
    return {name: exercise for spec in discover().values() for name, exercise in spec.exercises.items()}


def test_public_checks_pass_the_reference_solutions_and_catch_common_mistakes():
    torch = pytest.importorskip("torch")

    def loss_on_every_token(logits, input_ids, prompt_lens, lengths):
        log_probs = torch.log_softmax(logits.double(), dim=-1)
        terms = [-log_probs[row, : length - 1].gather(-1, input_ids[row, 1:length].unsqueeze(-1)).squeeze(-1)
                 for row, length in enumerate(lengths)]
        return torch.cat(terms).mean()

    def drift_averaged_over_tensors(theta, theta_hat):
        ratios = [float((theta[n] - theta_hat[n]).norm() / theta_hat[n].norm()) for n in theta_hat]
        return sum(ratios) / len(ratios)

    def retention_as_recall(before, after):
        return sum(after) / len(after)

    def mask_keeping_the_prompt(length, prompt_len, loss_on):
        return [position >= 1 for position in range(length)]

    def penalty_towards_zero(theta, theta_hat, strength):  # weight decay's anchor, not L2-SP's
        return strength * sum(float(theta[n].double().square().sum()) for n in theta)

    def last_lowest_step(steps, losses):  # a tie kept at the later step: training ran on for nothing
        return max(zip(losses, steps), key=lambda pair: (-pair[0], pair[1]))[1]

    mistakes = {"sft_loss": loss_on_every_token, "relative_drift": drift_averaged_over_tensors,
                "knowledge_retention": retention_as_recall, "loss_mask": mask_keeping_the_prompt,
                "l2_sp_penalty": penalty_towards_zero, "best_step": last_lowest_step}
    exercises = _exercises()
    assert sorted(exercises) == sorted(mistakes)  # a new exercise needs its common mistake here
    for name, exercise in exercises.items():
        passing = _run_check(exercise, exercise.solution)
        assert f"{name}: all public checks pass" in passing and "✗" not in passing
        failing = _run_check(exercise, mistakes[name])
        assert "public check(s) fail" in failing and "✗" in failing, failing
        stub = _run_check(exercise, lambda *args: (_ for _ in ()).throw(NotImplementedError()))
        assert "not implemented yet" in stub


def test_unseen_inputs_are_judged_right_for_the_solution_and_wrong_for_a_mistake():
    pytest.importorskip("torch")
    from quizgen.notebooks import checks
    from quizgen.notebooks.exercises import Raised, encode

    for name, exercise in _exercises().items():
        cases = exercise.draw(seed=7)
        encoded = lambda cases: [[encode(argument) for argument in case.arguments] for case in cases]  # noqa: E731
        assert encoded(cases) == encoded(exercise.draw(seed=7)), name  # a seed gives the same inputs
        assert encoded(cases) != encoded(exercise.draw(seed=8)), name  # each submission gets its own
        for case in cases:
            if isinstance(case.expected, Raised):
                assert exercise.judge({"error": {"type": case.expected.type}}, case) == (True, "")
                assert not exercise.judge({"output": None}, case)[0]
                continue
            assert exercise.judge({"output": checks.plain(exercise.solution(*case.arguments))}, case) == (True, "")
            assert not exercise.judge({"output": {"__unsupported__": "a value of type Always"}}, case)[0]
            assert not exercise.judge({"error": {"type": "ZeroDivisionError"}}, case)[0]
            wrong = [not item for item in case.expected] if isinstance(case.expected, list) else case.expected + 1.0
            ok, message = exercise.judge({"output": wrong}, case)
            assert not ok and message and repr(case.expected) not in message, (name, message)


def test_public_checks_do_not_reveal_expected_results():
    pytest.importorskip("torch")

    def constant(*args):
        return 0.123456

    for name, exercise in _exercises().items():
        output = _run_check(exercise, constant)
        numbers = set(re.findall(r"\d+\.\d{3,}", output))
        assert numbers <= {"0.123456"}, f"{name} printed {numbers}"


# --- every solution notebook runs top to bottom ---------------------------------------------------


def assert_public_checks_pass(plan, printed: str) -> None:
    for exercise in plan.exercises:
        assert f"{exercise.name}: all public checks pass" in printed
    assert "predictions: all public checks pass" in printed and "quiz answers: all public checks pass" in printed
    assert "still to fill in" not in printed


@pytest.mark.slow
@pytest.mark.parametrize("lab", [lab for lab in LABS if lab != "initialization"])  # initialization: below
def test_solution_notebook_runs_top_to_bottom_on_cpu(lab, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("torch")
    # As a build sees the course: the answers the labs measure filled in from the cached runs.
    plan = next(p for p in lab_plans(with_measured_answers(load_course(CONTENT), None)[0]) if p.lab_id == lab)
    notebook = nbformat.reads(notebook_json(solution_notebook(plan)), as_version=4)
    # The timeout only guards against a hang; how long a notebook takes is benchmarked.
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert_public_checks_pass(plan, "".join(o.get("text", "") for o in outputs if o.output_type == "stream"))
    student = nbformat.reads(notebook_json(student_notebook(plan)), as_version=4)
    assert len(student.cells) == len(notebook.cells)


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS)
def test_an_untouched_student_notebook_runs_all_cells_and_says_what_is_left(lab, tmp_path):
    """"Run All" on a fresh student notebook (each lab's QUICK settings) stops at no cell: every stub
    is reported as not implemented yet, and every blank answer as still to do."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("torch")
    plan = next(p for p in lab_plans(load_course(CONTENT), quick=True) if p.lab_id == lab)
    notebook = nbformat.reads(notebook_json(student_notebook(plan)), as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"], [o.get("ename") for o in outputs]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for exercise in plan.exercises:
        assert re.search(rf"^{exercise.name}: \d+ public check\(s\) fail$", printed, re.M), exercise.name
    assert printed.count("not implemented yet") >= len(plan.exercises)
    assert "still to fill in" in printed and "not answered yet" in printed


@pytest.mark.slow
def test_the_initialization_solution_notebook_runs_top_to_bottom(full_size_initialization, plans):
    report, out = full_size_initialization
    (record,) = report.records
    assert record["status"] == "graded", record["message"]
    assert record["cells"] and all(cell["status"] == "ok" for cell in record["cells"]), record["cells"]
    assert_public_checks_pass(plans["initialization"], (out / "logs" / "full-size.txt").read_text(encoding="utf-8"))


def test_a_concept_without_a_known_lab_gets_no_notebook(tmp_path):
    report = build(FIXTURES / "courses" / "minimal", tmp_path, ["notebooks", "otter"])
    assert not (tmp_path / "notebooks").exists() and not (tmp_path / "export" / "otter").exists()
    assert report.written == {} and set(report.empty) == {"notebooks", "otter"}


def test_every_code_cell_of_every_version_is_valid_python(plans):
    for plan in plans.values():
        for notebook in (student_notebook(plan), solution_notebook(plan)):
            for cell in notebook["cells"]:
                if cell["cell_type"] == "code":
                    compile(cell["source"], f"{plan.lab_id}:{cell['id']}", "exec")


def test_a_lab_without_a_recipe_gets_its_configuration_and_run_function(tmp_path):
    from quizgen.notebooks import plan_for

    (tmp_path / "toy").mkdir()
    shutil.copy(ROOT / "labs" / "ift-vs-pretraining" / "lab.py", tmp_path / "toy" / "lab.py")
    plan = plan_for(discover(tmp_path)["toy"])
    notebook = student_notebook(plan)
    code = [cell["source"] for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert any(line.startswith("REPLAY_STEPS = 40") for cell in code for line in cell.splitlines())
    assert any(cell.startswith("def run(lab):") for cell in code) and "metrics = run(lab)" in code
    assert not plan.exercises and not plan.measurements


def test_without_quizgen_the_first_code_cell_says_what_to_install(built):
    import builtins

    notebook = json.loads((built / "initialization.ipynb").read_text(encoding="utf-8"))
    setup = next("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    real_import = builtins.__import__

    def without_quizgen(name, *args, **kwargs):
        if name.split(".")[0] == "quizgen":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    namespace = {"__builtins__": {**vars(builtins), "__import__": without_quizgen}}
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'quizgen\[lab\]' torch==2.13.0"):
        exec(compile(setup, "setup-cell", "exec"), namespace)


def test_options_after_z_are_named_aa_ab_in_the_notebook(tmp_path):
    source = (FIXTURES / "courses" / "many-options" / "many-options.md").read_text(encoding="utf-8")
    (tmp_path / "many-options.md").write_text(source.replace("---\nNo course", "lab: initialization\n---\nNo course"),
                                              encoding="utf-8")
    (plan,) = lab_plans(load_course(tmp_path))
    cells = ["".join(cell["source"]) for cell in solution_notebook(plan)["cells"]]
    assert any("- **AA.** Option number 27\n- **AB.** Option number 28" in cell for cell in cells)
    assert any(cell.startswith("ANSWERS['pick-the-last'] = 'AB'") for cell in cells)
