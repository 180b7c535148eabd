"""Lab: keeping pre-trained knowledge while fine-tuning hard.

The initialization lab shows an aggressive run (a large learning rate for many steps) forgetting what
pre-training stored. This lab keeps that recipe, on the same pre-trained model and the same ~200
question/answer pairs, and adds what practitioners do about it (quizgen.lab.remedies):

- L2-SP: a pull towards θ̂ in the loss, λ·‖θ−θ̂‖²;
- replay: pre-training sentences mixed into every batch;
- early stopping: the weights of the step with the lowest loss on a validation split (half of the
  held-out people; the other half is its test set);
- WiSE-FT: the weight average (1−α)·θ̂ + α·θ_ft of the pre-trained and the moderate model.

The aggressive and the moderate run are the initialization lab's, with its recipe (so the two labs
agree on what they call aggressive), and every arm is measured as there: fact recall, accuracy on the
training questions and on the held-out people, general perplexity and the relative drift ‖θ−θ̂‖/‖θ̂‖.
"""

from quizgen.lab.claims import Claim, Plot
from quizgen.lab.runner import sibling

TITLE = "Keeping pre-trained knowledge: L2-SP, replay, early stopping and WiSE-FT"

# -----------------------------------------------------------------------------
# configuration: the initialization lab's recipe and its two named arms, then what this lab adds
_initialization = sibling(__file__, "initialization")
RECIPE = _initialization.RECIPE
MODERATE = _initialization.MODERATE
AGGRESSIVE = _initialization.AGGRESSIVE
L2_SP_STRENGTH = 0.3  # λ in λ·‖θ−θ̂‖²
# Pre-training sentences mixed into each batch of 16 question/answer pairs: with 16, recall fell to
# 0.70–0.79 on seeds 0–9 at the aggressive rate; with 24, 0.79–0.86.
REPLAY_PER_STEP = 24
EARLY_STOPPING_EVERY = 10  # steps between two looks at the validation loss
WISE_FT_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)  # θ = (1−α)θ̂ + α·θ_moderate

# -----------------------------------------------------------------------------
# what the course claims, and the measurements that back it ({metric} is filled in with what the run measured)
CLAIMS = [
    Claim("l2-sp-keeps-knowledge",
          "L2-SP (λ = 0.3) with the aggressive recipe keeps fact recall at 0.7 or more and keeps the weights "
          "about as close to θ̂ as the moderate run (drift at most twice the moderate one).",
          "l2_sp.recall >= 0.7", "l2_sp.relative_drift <= 2 * moderate.relative_drift",
          run="L2-SP ran the aggressive recipe (learning rate {aggressive.lr}, {aggressive.steps} steps) with a "
              "penalty in the loss, λ·‖θ − θ̂‖², that pulls the weights back towards the pre-trained ones.",
          plot=Plot("remedies.svg", "Find the L2-SP row: its fact recall bar stays long and its drift bar is as "
                    "short as that of the moderate row at the bottom.",
                    "Bar chart: with L2-SP, fact recall stays at {l2_sp.recall} and the weights drift "
                    "{l2_sp.relative_drift}, where moderate fine-tuning drifts {moderate.relative_drift}.")),
    Claim("replay-keeps-knowledge-despite-drift",
          "Mixing pre-training sentences into every batch keeps fact recall at 0.7 or more although the weights "
          "move at least half as far as the aggressive run's: drift alone is not what forgets.",
          "replay.recall >= 0.7", "replay.relative_drift >= 0.5 * aggressive.relative_drift",
          run="Replay ran the aggressive recipe with pre-training sentences mixed into every batch of "
              "question/answer pairs ({replay.replay_per_step} sentences to {replay.batch_size} pairs).",
          plot=Plot("remedies.svg", "Compare the replay row with the aggressive row at the top: their drift bars "
                    "are about as long, yet replay's fact recall bar is far longer.",
                    "Bar chart: with replay the weights drift {replay.relative_drift} (aggressive: "
                    "{aggressive.relative_drift}), yet fact recall stays at {replay.recall} against "
                    "{aggressive.recall}.")),
    Claim("early-stopping-is-not-enough",
          "Early stopping on a validation split stops within the first two thirds of the aggressive run and "
          "answers unseen test questions better than the full run, yet keeps less pre-trained knowledge than "
          "L2-SP: the validation loss watches the task, not what the model knew.",
          "early_stopping.stopped_at <= 0.667 * aggressive.steps",
          "early_stopping.test_accuracy > aggressive.test_accuracy",
          "early_stopping.recall < l2_sp.recall",
          run="Early stopping looked at the validation loss (questions about a quarter of the people) every few "
              "steps of the aggressive run and kept the weights of its best look, step "
              "{early_stopping.stopped_at}; the other quarter's questions tested them.",
          plot=Plot("remedies.svg", "Compare the early-stopping row with the L2-SP row: its held-out bar is long, "
                    "but its fact recall bar is much shorter.",
                    "Bar chart: early stopping answers {early_stopping.test_accuracy} of the unseen test "
                    "questions (the full aggressive run: {aggressive.test_accuracy}) but keeps fact recall of "
                    "only {early_stopping.recall}, where L2-SP keeps {l2_sp.recall}.")),
    Claim("wise-ft-keeps-recall",
          "WiSE-FT, the weight average of θ̂ and the moderate model, keeps fact recall at 0.95 or more at α = "
          "0.75, but at this scale it answers fewer held-out questions than the moderate model itself.",
          "wise_ft.alpha_075.recall >= 0.95", "wise_ft.alpha_075.heldout_accuracy < moderate.heldout_accuracy",
          run="WiSE-FT averaged the weights, θ = (1 − α)·θ̂ + α·θ_moderate, for α from 0 (the pre-trained "
              "model) to 1 (the moderate model: learning rate {moderate.lr}, {moderate.steps} steps), and "
              "measured each average like a fine-tuned model.",
          plot=Plot("wise_ft.svg", "Read the lines at α = 0.75: fact recall is still at the top, while held-out "
                    "accuracy is below where it ends at α = 1, the moderate model itself.",
                    "Line chart: at α = 0.75 the average keeps fact recall {wise_ft.alpha_075.recall} but answers "
                    "{wise_ft.alpha_075.heldout_accuracy} of the held-out questions, fewer than the moderate "
                    "model's {moderate.heldout_accuracy}.")),
]
# What the lab panel calls each run's values: a metric's name, then these words; a key naming a whole
# metric gives its whole name.
NAMES = {
    "pretrained": "of the pre-trained model",
    "moderate": "after moderate fine-tuning",
    "aggressive": "after aggressive fine-tuning",
    "l2_sp": "with L2-SP",
    "replay": "with replay",
    "early_stopping": "with early stopping",
    "early_stopping.stopped_at": "the step whose weights early stopping kept",
    "wise_ft.alpha_075": "of WiSE-FT at α = 0.75",
}


def run(lab):
    from quizgen.lab import plots, remedies

    def finetune(model, lr, steps, snapshot_steps=(), desc="", **extra):
        return lab.finetune(model, lr=lr, steps=steps, snapshot_steps=snapshot_steps, desc=desc, **RECIPE, **extra)

    looks = range(EARLY_STOPPING_EVERY, AGGRESSIVE["steps"] + 1, EARLY_STOPPING_EVERY)

    def aggressive():
        """The aggressive run, and early stopping on it: the weights of its best look at the validation loss."""
        model = lab.pretrained()
        run = finetune(model, desc="aggressive", snapshot_steps=tuple(looks), **AGGRESSIVE)
        validation = {step: lab.validation_nll(lab.with_weights(run.snapshots[step])) for step in looks}
        stopped_at = remedies.best_step(validation)
        return {"aggressive": (lab.evaluate_later(model.state_dict()), run.summary()),
                "early_stopping": (lab.evaluate_later(run.snapshots[stopped_at]), run.summary(up_to_step=stopped_at) | {
                    "stopped_at": stopped_at, "validation_curve": [validation[step] for step in looks],
                    "validation_every": EARLY_STOPPING_EVERY})}

    def moderate():
        """The moderate run, and WiSE-FT's averages of θ̂ with it (α = 0 is θ̂ itself, α = 1 the moderate model)."""
        model = lab.pretrained()
        run = finetune(model, desc="moderate", **MODERATE)
        state = {name: value.detach().clone() for name, value in model.state_dict().items()}
        return {"pretrained": (lab.evaluate_later(lab.reference), {}), "moderate": (lab.evaluate_later(state), run.summary()),
                "wise_ft": {alpha: lab.evaluate_later(remedies.interpolated(lab.reference, state, alpha))
                            for alpha in WISE_FT_ALPHAS if 0 < alpha < 1}}

    def trained_with(desc, **extra):
        """The aggressive recipe with a remedy (``extra``): its evaluation and its run."""
        model = lab.pretrained()
        training = finetune(model, desc=desc, **extra, **AGGRESSIVE)
        return lab.evaluate_later(model.state_dict()), training.summary()

    # Independent runs, the longest first: on a CPU they run side by side, one per core (each arm's
    # evaluations run on whichever core is free: lab.evaluate_later).
    def replay():
        evaluation, training = trained_with(f"replay {REPLAY_PER_STEP}/step", replay_per_step=REPLAY_PER_STEP)
        return evaluation, training | {"replay_per_step": REPLAY_PER_STEP}

    jobs = {"replay": replay,
            "aggressive": aggressive,
            "L2-SP": lambda: trained_with(f"L2-SP λ={L2_SP_STRENGTH:g}",
                                          penalty=remedies.l2_sp(lab.reference, L2_SP_STRENGTH)),
            "moderate": moderate}
    done = dict(zip(jobs, lab.parallel(list(jobs.values()))))
    metrics = {name: evaluation | training for name, (evaluation, training) in (
        *done["aggressive"].items(), ("pretrained", done["moderate"]["pretrained"]),
        ("moderate", done["moderate"]["moderate"]), ("l2_sp", done["L2-SP"]), ("replay", done["replay"]))}
    ends = {0.0: metrics["pretrained"], 1.0: metrics["moderate"]}
    metrics["wise_ft"] = {f"alpha_{round(alpha * 100):03d}": {"alpha": alpha} | (
        ends[alpha] if alpha in ends else done["moderate"]["wise_ft"][alpha]) for alpha in WISE_FT_ALPHAS}

    remedy_arms = {"aggressive": metrics["aggressive"], "L2-SP": metrics["l2_sp"], "replay": metrics["replay"],
                   "early stopping": metrics["early_stopping"], "WiSE-FT α=0.75": metrics["wise_ft"]["alpha_075"],
                   "moderate": metrics["moderate"]}
    lab.figure("remedies.svg", plots.arm_rows(
        remedy_arms, {"recall": "fact recall", "heldout_accuracy": "held-out", "relative_drift": "drift"},
        xlabel="share correct, or drift"))
    lab.figure("early_stopping.svg", plots.validation_curve(
        list(looks), metrics["early_stopping"]["validation_curve"], metrics["early_stopping"]["stopped_at"]))
    lab.figure("wise_ft.svg", plots.interpolation(list(metrics["wise_ft"].values()), end="moderate"))
    return metrics
