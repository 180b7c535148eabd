"""One notebook per lab, built from the lab's source: its docstring explains, its configuration block is
copied verbatim, and its arms are run cell by cell with exercises and predictions in between.

The three course labs have a recipe each (which arms to run, what to predict, what to measure). Any
other lab gets the generic notebook: its configuration, its `run` function and the quiz.
"""

from __future__ import annotations

import ast
import textwrap

from quizgen.lab.claims import flatten
from quizgen.notebooks.exercises import exercise_cells
from quizgen.notebooks.plan import (
    CODE, CONFIG, EXPLANATION, MEASURE, PREDICT, SETUP, TRAIN, Cell, Measurement, Plan, Prediction, Relation,
)
from quizgen.notebooks.questions import answer_format, question_cells

# The notebook's own work must fit in the lab's time budget on a laptop CPU: it runs each named arm once
# and skips the lab's sweeps (grid, interpolation), which the site shows from the cached results.
SETUP_SOURCE = '''\
# The lab engine, the shipped pre-trained model θ̂ and its data. SEED and the thread count are those of
# the course's reference run: keep them, and your numbers can be compared with the course's.
try:
    import torch

    from quizgen.lab.runner import DEFAULT_THREADS, LabContext
    from quizgen.notebooks import checks
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(f"this notebook runs on quizgen's lab engine, and {missing.name} is not installed: "
                              "run  pip install 'quizgen[lab]' torch==2.13.0  and restart the kernel") from None

SEED = 0
torch.manual_seed(SEED)
torch.set_num_threads(DEFAULT_THREADS)
lab = LabContext(seed=SEED, device="cpu", model_dir=None)
ANSWERS, PREDICTIONS, MEASURED = {}, {}, {}'''

HOW_IT_WORKS = """\
**How this notebook works.** Run the cells from top to bottom. Write your code where it says
`# YOUR CODE HERE`; the check under each exercise tells you what is still wrong (the grader also tests
your code on inputs you have not seen). Before each fine-tuning run, record what you **predict** will
happen; after it, record what you **measured**. Answer the quiz questions at the end in the answer
cells. Do not rename the variables `ANSWERS`, `PREDICTIONS` and `MEASURED` or the functions you write:
the grader reads them. This notebook runs the lab's main arms; the course site shows the results of
its longer sweeps."""


# Settings small enough to run a notebook in seconds, for tests and quick demonstrations: the code paths
# are the lab's, the numbers are not (a notebook with them is graded by relations, not by reference).
QUICK_CONFIG = {
    "initialization": {"MODERATE": {"lr": 2e-4, "steps": 4}, "AGGRESSIVE": {"lr": 5e-3, "steps": 12}},
    "sft-objective": {"STEPS": 12},
    "ift-vs-pretraining": {"FINETUNE": {"lr": 2e-4, "steps": 8, "batch_size": 32, "warmup_steps": 10,
                                        "min_lr_ratio": 1.0, "loss_on": "response"}, "REPLAY_STEPS": 2},
}


def plan_for(spec, concept=None, config_overrides: dict | None = None) -> Plan:
    """The notebook plan of a lab (a `quizgen.lab.runner.LabSpec`) and its concept's questions."""
    questions = tuple(q for q in (concept.questions if concept else ()))
    recipe = RECIPES.get(spec.id, generic)
    return recipe(spec, questions, dict(config_overrides or {}), concept.id if concept else None)


# --- pieces every notebook shares ------------------------------------------------------------------


def lab_docstring(spec) -> str:
    return ast.get_docstring(ast.parse(spec.path.read_text(encoding="utf-8"))) or ""


def config_source(spec, names: tuple[str, ...], overrides: dict) -> str:
    """The lab file's own assignments of `names` (comments kept), each override replacing its line."""
    source = spec.path.read_text(encoding="utf-8")
    lines = source.splitlines()
    chunks = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if name not in names:
            continue
        if name in overrides:
            chunks.append(f"{name} = {overrides[name]!r}  # reduced from the lab's setting")
            continue
        start = node.lineno - 1
        while start > 0 and lines[start - 1].startswith("#") and not lines[start - 1].startswith("# ---"):
            start -= 1
        chunks.append("\n".join(lines[start : node.end_lineno]))
    missing = [name for name in names if not any(chunk.startswith(name) or f"\n{name} =" in chunk for chunk in chunks)]
    if missing:
        raise ValueError(f"{spec.path}: the lab no longer defines {', '.join(missing)}")
    return "\n".join(chunks)


def opening_cells(spec, config_names, overrides, extra_config: str = "") -> list[Cell]:
    first, _, rest = lab_docstring(spec).partition("\n")
    # The docstring's first line names the lab again ("Lab: …"), which the title already says.
    explanation = rest.strip() if first.lower().startswith("lab") else f"{first}\n{rest}".strip()
    intro = f"# Lab: {spec.title}\n\n{explanation}\n\n{HOW_IT_WORKS}"
    config = config_source(spec, config_names, overrides) + (f"\n\n{extra_config}" if extra_config else "")
    return [
        Cell("markdown", EXPLANATION, intro.strip()),
        Cell("code", SETUP, SETUP_SOURCE),
        Cell("markdown", EXPLANATION, "## The configuration\n\nThe lab's own settings, copied from "
             f"`labs/{spec.path.name}`. Change them if you like: the grader then checks the relations your "
             "runs must show instead of comparing your numbers with the course's."),
        Cell("code", CONFIG, config),
    ]


def predict_cells(predictions: tuple[Prediction, ...], solution: dict) -> list[Cell]:
    def source(values: dict) -> str:
        lines = [f"PREDICTIONS[{p.name!r}] = {values.get(p.name)!r}  # {p.question}" for p in predictions]
        allowed = ", ".join(f"{p.name!r}: {p.allowed!r}" for p in predictions)
        return "\n".join(lines) + f"\nchecks.check_predictions(PREDICTIONS, {{{allowed}}})"

    return [
        Cell("markdown", EXPLANATION, "## Predict, then run\n\nBefore you run the fine-tuning below, record "
             "what you expect. A prediction counts only if it is recorded **before** the runs; you will "
             "compare it with what you measure."),
        Cell("code", PREDICT, source({}), source(solution), key="PREDICTIONS"),
    ]


def measure_cells(measured: dict[str, tuple[str, str]]) -> list[Cell]:
    """measured: name -> (what it is, the solution's expression)."""
    width = max(len(name) for name in measured)
    student = ["# Fill in each value from your runs above."]
    solution = ["# Fill in each value from your runs above."]
    for name, (what, expression) in measured.items():
        padding = " " * (width - len(name))
        student.append(f"MEASURED[{name!r}]{padding} = None  # {what}")
        solution.append(f"MEASURED[{name!r}]{padding} = {expression}")
    solution.append("checks.show_measurements(PREDICTIONS, MEASURED)")
    student.append("checks.show_measurements(PREDICTIONS, MEASURED)")
    return [
        Cell("markdown", EXPLANATION, "## What you measured\n\nRecord the numbers your runs produced. "
             "The grader compares them with the course's reference run (same settings) or checks the "
             "relations between them (your own settings)."),
        Cell("code", MEASURE, "\n".join(student), "\n".join(solution), key="MEASURED"),
    ]


def quiz_cells(questions) -> list[Cell]:
    if not questions:
        return []
    formats = ",\n    ".join(f"{q.id!r}: {answer_format(q)!r}" for q in questions if q.type != "critique")
    return [
        Cell("markdown", EXPLANATION, "## Quiz\n\nAnswer in the cell under each question. Choice questions take a "
             "letter, true/false questions `True` or `False`, numeric questions a number."),
        *question_cells(questions),
        Cell("code", CODE, f"checks.check_answers(ANSWERS, {{\n    {formats},\n}})"),
    ]


def closing_cells() -> list[Cell]:
    return [Cell("markdown", EXPLANATION, "## Submitting\n\nRestart the kernel and run every cell from the top, "
                 "then submit this `.ipynb` file. The grader runs it again from scratch in a sandbox, so "
                 "what counts is what the notebook computes, not the outputs saved in the file.")]


def reference_interval(metric: str, absolute: float = 0.0, relative: float = 0.0):
    def interval(metrics: dict) -> tuple[float, float]:
        value = metrics[metric]
        margin = absolute + relative * abs(value)
        return value - margin, value + margin

    return interval


def retention_interval(arm: str, absolute: float):
    """Retention is not cached, but recall before (b) and after (a) bound it: known-before facts still
    known after number at least a + b − 1 and at most min(a, b)."""
    def interval(metrics: dict) -> tuple[float, float]:
        before, after = metrics["pretrained.recall"], metrics[f"{arm}.recall"]
        return max(0.0, after + before - 1) / before - absolute, min(after, before) / before + absolute

    return interval


# --- the three course labs -------------------------------------------------------------------------


def initialization(spec, questions, overrides, concept_id) -> Plan:
    names = ("BATCH_SIZE", "WARMUP_STEPS", "LOSS_ON", "MODERATE", "AGGRESSIVE", "RANDOM_INIT")
    finetune = textwrap.dedent('''\
        def finetune(model, lr, steps, desc):
            """The lab's fine-tuning call: the one training loop, constant learning rate after warm-up."""
            return lab.finetune(model, lr=lr, steps=steps, batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS,
                                min_lr_ratio=1.0, loss_on=LOSS_ON, desc=desc)''')
    predictions = (
        Prediction("forgets_more", '"moderate" or "aggressive": which run loses more fact recall?',
                   ("moderate", "aggressive"),
                   lambda m: "aggressive" if m["aggressive.recall"] < m["moderate.recall"] else "moderate"),
        Prediction("drifts_more", '"moderate" or "aggressive": which run moves further from θ̂?',
                   ("moderate", "aggressive"),
                   lambda m: "aggressive" if m["aggressive.relative_drift"] > m["moderate.relative_drift"] else "moderate"),
        Prediction("random_init_learns_task",
                   "True or False: trained from random weights, does the model answer held-out questions (≥ 0.7)?",
                   (True, False), lambda m: m["random_init.heldout_accuracy"] >= 0.7),
    )
    measured = {
        "moderate_recall": ("fact recall after the moderate run", 'moderate["recall"]'),
        "aggressive_recall": ("fact recall after the aggressive run", 'aggressive["recall"]'),
        "moderate_drift": ("relative_drift of the moderate run from θ̂",
                           "relative_drift(checks.parameters(moderate_model), theta_hat)"),
        "aggressive_drift": ("relative_drift of the aggressive run from θ̂",
                             "relative_drift(checks.parameters(aggressive_model), theta_hat)"),
        "moderate_retention": ("knowledge_retention of the moderate run",
                               "knowledge_retention(hits_before, checks.probe_hits(lab, moderate_model))"),
        "aggressive_retention": ("knowledge_retention of the aggressive run",
                                 "knowledge_retention(hits_before, checks.probe_hits(lab, aggressive_model))"),
        "random_init_heldout_accuracy": ("held-out accuracy of the random-init run", 'random_init["heldout_accuracy"]'),
    }
    measurements = (
        Measurement("moderate_recall", "fact recall after the moderate run", reference_interval("moderate.recall", 0.05)),
        Measurement("aggressive_recall", "fact recall after the aggressive run",
                    reference_interval("aggressive.recall", 0.05)),
        Measurement("moderate_drift", "relative drift of the moderate run",
                    reference_interval("moderate.relative_drift", relative=0.1)),
        Measurement("aggressive_drift", "relative drift of the aggressive run",
                    reference_interval("aggressive.relative_drift", relative=0.1)),
        Measurement("moderate_retention", "knowledge retention of the moderate run", retention_interval("moderate", 0.05)),
        Measurement("aggressive_retention", "knowledge retention of the aggressive run",
                    retention_interval("aggressive", 0.05)),
        Measurement("random_init_heldout_accuracy", "held-out accuracy from random weights",
                    reference_interval("random_init.heldout_accuracy", 0.05)),
    )
    relations = (
        Relation("the aggressive run keeps less fact recall than the moderate run",
                 "m['aggressive_recall'] < m['moderate_recall']", ("moderate_recall", "aggressive_recall")),
        Relation("the aggressive run drifts further from θ̂ than the moderate run",
                 "m['aggressive_drift'] > m['moderate_drift'] > 0", ("moderate_drift", "aggressive_drift")),
        Relation("the aggressive run retains less knowledge than the moderate run",
                 "0 <= m['aggressive_retention'] < m['moderate_retention'] <= 1",
                 ("moderate_retention", "aggressive_retention")),
        Relation("recall and accuracies are fractions between 0 and 1",
                 "all(0 <= m[n] <= 1 for n in ('moderate_recall', 'aggressive_recall', 'random_init_heldout_accuracy'))",
                 ("moderate_recall", "aggressive_recall", "random_init_heldout_accuracy")),
    )
    cells = [
        *opening_cells(spec, names, overrides, finetune),
        *exercise_cells("relative_drift", 1),
        *exercise_cells("knowledge_retention", 2),
        Cell("markdown", EXPLANATION, "## The pre-trained model θ̂\n\nIts parameters, what it knows "
             "(one hit per recall probe) and its scores before any fine-tuning."),
        Cell("code", CODE, textwrap.dedent('''\
            theta_hat = checks.parameters(lab.pretrained())
            hits_before = checks.probe_hits(lab, lab.pretrained())
            pretrained = lab.evaluate(lab.pretrained())
            print(f"pre-trained: fact recall {pretrained['recall']:.3f}, "
                  f"held-out task accuracy {pretrained['heldout_accuracy']:.3f}")''')),
        *predict_cells(predictions, {"forgets_more": "aggressive", "drifts_more": "aggressive",
                                     "random_init_learns_task": False}),
        Cell("markdown", EXPLANATION, "## Fine-tune: moderately, aggressively, and from random weights\n\n"
             "The moderate run takes small steps for a short while; the aggressive run takes large steps "
             "for much longer; the third run uses the aggressive recipe on randomly initialised weights."),
        Cell("code", TRAIN, textwrap.dedent('''\
            moderate_model = lab.pretrained()
            moderate_run = finetune(moderate_model, desc="moderate", **MODERATE)
            moderate = lab.evaluate(moderate_model)
            print(f"moderate: recall {moderate['recall']:.3f}, held-out accuracy {moderate['heldout_accuracy']:.3f}")''')),
        Cell("code", TRAIN, textwrap.dedent('''\
            aggressive_model = lab.pretrained()
            aggressive_run = finetune(aggressive_model, desc="aggressive", **AGGRESSIVE)
            aggressive = lab.evaluate(aggressive_model)
            print(f"aggressive: recall {aggressive['recall']:.3f}, "
                  f"held-out accuracy {aggressive['heldout_accuracy']:.3f}")''')),
        Cell("code", TRAIN, textwrap.dedent('''\
            random_model = lab.random_init()
            random_run = finetune(random_model, desc="random init", **RANDOM_INIT)
            random_init = lab.evaluate(random_model)
            print(f"random init: held-out accuracy {random_init['heldout_accuracy']:.3f} "
                  f"(chance: {lab.data.chance_accuracy:.3f})")''')),
        *measure_cells(measured),
        *quiz_cells(questions),
        *closing_cells(),
    ]
    return Plan(spec.id, spec.title, tuple(cells), names, exercises=_exercises("relative_drift", "knowledge_retention"),
                predictions=predictions, measurements=measurements, relations=relations, questions=questions,
                concept_id=concept_id, measured_points=float(len(measurements)))


def sft_objective(spec, questions, overrides, concept_id) -> Plan:
    names = ("BATCH_SIZE", "WARMUP_STEPS", "LR", "STEPS")
    predictions = (
        Prediction("retains_more", '"response" or "all": which loss keeps more of the pre-trained knowledge?',
                   ("response", "all"),
                   lambda m: "response" if m["response_only.recall"] > m["all_tokens.recall"] else "all"),
        Prediction("likelihood_rises", "True or False: does fine-tuning raise log Pr(y|x) of the training responses?",
                   (True, False), lambda m: m["response_only.train_logprob"] > m["pretrained.train_logprob"]),
    )
    measured = {
        "loss_gap": ("|your sft_loss − the loop's reported loss| on the pre-trained model", "loss_gap"),
        "pretrained_train_logprob": ("mean log Pr(y|x) of the training responses before fine-tuning",
                                     'pretrained["train_logprob"]'),
        "response_only_train_logprob": ("the same after response-only fine-tuning", 'response_only["train_logprob"]'),
        "response_only_recall": ("fact recall after response-only fine-tuning", 'response_only["recall"]'),
        "all_tokens_recall": ("fact recall after all-token fine-tuning", 'all_tokens["recall"]'),
    }
    measurements = (
        Measurement("loss_gap", "your loss against the loop's", lambda m: (0.0, 1e-4)),
        Measurement("pretrained_train_logprob", "log Pr(y|x) before fine-tuning",
                    reference_interval("pretrained.train_logprob", 0.1)),
        Measurement("response_only_train_logprob", "log Pr(y|x) after fine-tuning",
                    reference_interval("response_only.train_logprob", 0.1)),
        Measurement("response_only_recall", "recall after response-only fine-tuning",
                    reference_interval("response_only.recall", 0.05)),
        Measurement("all_tokens_recall", "recall after all-token fine-tuning",
                    reference_interval("all_tokens.recall", 0.05)),
    )
    relations = (
        Relation("your sft_loss equals the loss the training loop reports (to 1e-4)",
                 "0 <= m['loss_gap'] <= 1e-4", ("loss_gap",)),
        Relation("fine-tuning raises log Pr(y|x) of the training responses",
                 "m['response_only_train_logprob'] > m['pretrained_train_logprob']",
                 ("pretrained_train_logprob", "response_only_train_logprob")),
        Relation("response-only loss keeps more recall than all-token loss",
                 "m['response_only_recall'] > m['all_tokens_recall']", ("response_only_recall", "all_tokens_recall")),
    )
    cells = [
        *opening_cells(spec, names, overrides),
        *exercise_cells("sft_loss", 1),
        Cell("markdown", EXPLANATION, "## Your loss against the training loop's\n\nThe loop reports its loss "
             "for a step before updating the weights; with a learning rate of 0 the step changes nothing. Both "
             "numbers should agree to about 1e-5."),
        Cell("code", CODE, textwrap.dedent('''\
            pretrained_model = lab.pretrained()
            pretrained = lab.evaluate(pretrained_model)
            pairs = lab.data.finetune_train
            mine = float(sft_loss(*checks.batch_logits(pretrained_model, pairs, lab.pad_id)))
            probe = lab.finetune(lab.pretrained(), lr=0.0, steps=1, batch_size=len(pairs), loss_on="response",
                                 desc="loss probe")
            loss_gap = abs(mine - probe.losses[0])
            print(f"your loss {mine:.6f}, the loop's {probe.losses[0]:.6f}, gap {loss_gap:.2e}")''')),
        *predict_cells(predictions, {"retains_more": "response", "likelihood_rises": True}),
        Cell("markdown", EXPLANATION, "## Fine-tune twice: loss on the response, loss on every token\n\n"
             "The same data, the same settings; only the loss mask differs."),
        Cell("code", TRAIN, textwrap.dedent('''\
            response_only_model = lab.pretrained()
            lab.finetune(response_only_model, lr=LR, steps=STEPS, batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS,
                         loss_on="response", desc="response only")
            response_only = lab.evaluate(response_only_model)
            print(f"response only: recall {response_only['recall']:.3f}, "
                  f"log Pr(y|x) {pretrained['train_logprob']:.3f} -> {response_only['train_logprob']:.3f}")''')),
        Cell("code", TRAIN, textwrap.dedent('''\
            all_tokens_model = lab.pretrained()
            lab.finetune(all_tokens_model, lr=LR, steps=STEPS, batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS,
                         loss_on="all", desc="all tokens")
            all_tokens = lab.evaluate(all_tokens_model)
            print(f"all tokens: recall {all_tokens['recall']:.3f}")''')),
        *measure_cells(measured),
        *quiz_cells(questions),
        *closing_cells(),
    ]
    return Plan(spec.id, spec.title, tuple(cells), names, exercises=_exercises("sft_loss"), predictions=predictions,
                measurements=measurements, relations=relations, questions=questions, concept_id=concept_id,
                measured_points=float(len(measurements)))


def ift_vs_pretraining(spec, questions, overrides, concept_id) -> Plan:
    names = ("FINETUNE", "REPLAY_STEPS")
    predictions = (
        Prediction("data_under_5_percent",
                   "True or False: does fine-tuning see under 5% of the tokens pre-training saw?",
                   (True, False), lambda m: m["finetuning.tokens_seen"] < 0.05 * m["pretraining.tokens_seen"]),
        Prediction("same_loop", "True or False: do both phases run through the same training function?",
                   (True, False), lambda m: m["finetuning.loop"] == m["pretraining_replay.loop"]),
    )
    measured = {
        "finetuning_tokens_seen": ("tokens the fine-tuning run fed to the model", 'finetuning.tokens_seen[-1]'),
        "pretraining_tokens_seen": ("tokens pre-training fed to the model (from its record)",
                                    'record["run"]["tokens_seen"]'),
        "token_share": ("the first divided by the second", 'finetuning.tokens_seen[-1] / record["run"]["tokens_seen"]'),
        "same_loop": ("True if both runs report the same loop function", "finetuning.loop == replay.loop"),
    }
    measurements = (
        Measurement("finetuning_tokens_seen", "tokens seen in fine-tuning",
                    reference_interval("finetuning.tokens_seen", relative=0.005)),
        Measurement("pretraining_tokens_seen", "tokens seen in pre-training",
                    reference_interval("pretraining.tokens_seen", relative=0.005)),
        Measurement("token_share", "fine-tuning's share of the tokens",
                    reference_interval("finetuning_token_share", relative=0.02)),
        Measurement("same_loop", "whether both phases use the same loop", lambda m: (1.0, 1.0), kind=bool),
    )
    relations = (
        Relation("fine-tuning sees under 5% of pre-training's tokens",
                 "m['finetuning_tokens_seen'] < 0.05 * m['pretraining_tokens_seen']",
                 ("finetuning_tokens_seen", "pretraining_tokens_seen")),
        Relation("your token share is the ratio of the two counts",
                 "abs(m['token_share'] - m['finetuning_tokens_seen'] / m['pretraining_tokens_seen']) < 1e-6",
                 ("token_share", "finetuning_tokens_seen", "pretraining_tokens_seen")),
        Relation("both phases run through the same loop", "m['same_loop'] is True", ("same_loop",), kinds=(bool,)),
    )
    cells = [
        *opening_cells(spec, names, overrides),
        *exercise_cells("loss_mask", 1),
        Cell("markdown", EXPLANATION, "## What pre-training did\n\nThe shipped checkpoint records the run "
             "that built it. A short replay of its recipe from random weights shows the same loop at work."),
        Cell("code", CODE, textwrap.dedent('''\
            from quizgen.lab.pretrain import PRETRAIN_CONFIG

            record = lab.pretraining_record()
            print(f"pre-training: {record['run']['steps']} steps, {record['run']['tokens_seen']:,} tokens, "
                  f"loss on {record['run']['loss_on']} tokens, loop {record['run']['loop']}")''')),
        *predict_cells(predictions, {"data_under_5_percent": True, "same_loop": True}),
        Cell("markdown", EXPLANATION, "## Run both phases\n\nA replay of the pre-training recipe (shortened), "
             "then instruction fine-tuning from θ̂."),
        Cell("code", TRAIN, textwrap.dedent('''\
            recipe = {name: value for name, value in PRETRAIN_CONFIG.items() if name != "seed"}
            replay = lab.pretrain_phase(lab.random_init(), desc="pre-training replay", **(recipe | {"steps": REPLAY_STEPS}))
            print(f"replay: loss {replay.losses[0]:.2f} -> {replay.losses[-1]:.2f} in {replay.steps} steps")''')),
        Cell("code", TRAIN, textwrap.dedent('''\
            finetuned_model = lab.pretrained()
            finetuning = lab.finetune(finetuned_model, desc="instruction fine-tuning", **FINETUNE)
            print(f"fine-tuning: {finetuning.tokens_seen[-1]:,} tokens in {finetuning.steps} steps, "
                  f"loss {finetuning.losses[0]:.2f} -> {finetuning.losses[-1]:.2f}")''')),
        *measure_cells(measured),
        *quiz_cells(questions),
        *closing_cells(),
    ]
    return Plan(spec.id, spec.title, tuple(cells), names, exercises=_exercises("loss_mask"), predictions=predictions,
                measurements=measurements, relations=relations, questions=questions, concept_id=concept_id,
                measured_points=float(len(measurements)))


def generic(spec, questions, overrides, concept_id) -> Plan:
    """Any other lab: its configuration and its `run` function as written, then the quiz."""
    names = tuple(spec.config)
    source = spec.path.read_text(encoding="utf-8")
    run = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == "run")
    run_source = "\n".join(source.splitlines()[run.lineno - 1 : run.end_lineno])
    cells = [
        *opening_cells(spec, names, overrides),
        Cell("markdown", EXPLANATION, "## The lab\n\nThe lab's `run` function, as written in the lab file."),
        Cell("code", CODE, run_source),
        Cell("code", TRAIN, "metrics = run(lab)"),
        *quiz_cells(questions),
        *closing_cells(),
    ]
    return Plan(spec.id, spec.title, tuple(cells), names, questions=questions, concept_id=concept_id)


def _exercises(*names):
    from quizgen.notebooks.exercises import EXERCISES

    return tuple(EXERCISES[name] for name in names)


RECIPES = {"initialization": initialization, "sft-objective": sft_objective, "ift-vs-pretraining": ift_vs_pretraining}


def flat_metrics(results: dict) -> dict:
    """A cached lab result's metrics as {dotted name: value}, what Measurement.reference reads."""
    return flatten(results.get("metrics", {}))
