"""Lab: parameter initialization and moderate adjustment in fine-tuning.

Fine-tuning starts from the pre-trained weights θ̂ and should move them only a little. Here the
in-house pre-trained model (which knows 800 facts about 200 invented people) is fine-tuned on ~200
question/answer pairs about half of those people, four ways:

- moderately: a small learning rate for few steps;
- aggressively: a large learning rate for many steps;
- from random weights instead of θ̂, with the aggressive recipe;
- over a grid of learning rates × steps, to trace how much is learned and forgotten as θ drifts from θ̂;

and finally the weights are interpolated between θ̂ and the aggressive result (θ = (1−α)θ̂ + α·θ_aggr).

Every arm is measured the same way: fact recall (greedy completion of every fact in every paraphrase,
i.e. the knowledge pre-training stored), task accuracy on the training questions and on questions
about the held-out half (which only pre-trained knowledge can answer), general perplexity, and the
relative drift ‖θ−θ̂‖/‖θ̂‖.
"""

from quizgen.lab.claims import Claim

TITLE = "Initialization and moderate adjustment in fine-tuning"

# -----------------------------------------------------------------------------
# configuration
BATCH_SIZE = 32  # question/answer pairs per step
WARMUP_STEPS = 10
LOSS_ON = "response"  # the SFT objective: −log Pr(y|x) on the answer only
# A constant learning rate after warm-up makes a run of N steps exactly the first N steps of a longer
# run, so one run per learning rate gives a whole row of the grid (and both named arms).
MODERATE = dict(lr=2e-4, steps=120)
AGGRESSIVE = dict(lr=5e-3, steps=300)
RANDOM_INIT = AGGRESSIVE  # the aggressive recipe, from random weights instead of θ̂
GRID_LRS = (2e-4, 1e-3, 5e-3)
GRID_STEPS = (120, 300)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)

# -----------------------------------------------------------------------------
# what the course claims, and the measurements that back it
CLAIMS = [
    Claim("moderate-retains",
          "Moderate fine-tuning keeps what pre-training stored: fact recall stays at or above 0.85.",
          "moderate.recall >= 0.85"),
    Claim("moderate-learns-task",
          "Moderate fine-tuning learns the task: it answers questions about held-out people (≥ 0.7).",
          "moderate.heldout_accuracy >= 0.7"),
    Claim("aggressive-forgets",
          "Aggressive fine-tuning erases pre-trained knowledge (catastrophic forgetting): recall falls "
          "to 0.4 or less while the moderate run keeps 0.85 or more.",
          "aggressive.recall <= 0.4", "moderate.recall >= 0.85"),
    Claim("aggressive-overfits",
          "Aggressive fine-tuning overfits: near-perfect on its training questions (≥ 0.95), at most "
          "0.5 on questions about held-out people.",
          "aggressive.heldout_accuracy <= 0.5", "aggressive.train_accuracy >= 0.95"),
    Claim("aggressive-drifts-more",
          "Aggressive fine-tuning moves the weights at least five times as far from θ̂ as moderate does.",
          "aggressive.relative_drift >= 5 * moderate.relative_drift"),
    Claim("aggressive-perplexity-rises",
          "After aggressive fine-tuning, perplexity on general text is at least ten times the pre-trained one.",
          "aggressive.perplexity >= 10 * pretrained.perplexity"),
    Claim("random-init-fails",
          "Without pre-trained initialization the same data teaches nothing about held-out people: "
          "accuracy stays near chance (at most twice the accuracy of guessing).",
          "random_init.heldout_accuracy <= 2 * chance_accuracy"),
]


def run(lab):
    from quizgen.lab import plots

    def finetune(model, lr, steps, snapshot_steps=(), desc=""):
        return lab.finetune(model, lr=lr, steps=steps, batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS,
                            min_lr_ratio=1.0, loss_on=LOSS_ON, snapshot_steps=snapshot_steps, desc=desc)

    metrics = {"chance_accuracy": lab.data.chance_accuracy, "pretrained": lab.evaluate(lab.pretrained())}

    # One run per learning rate; the grid points and the moderate and aggressive arms are its snapshots.
    runs, evaluated = {}, {}
    for lr in GRID_LRS:
        steps = {*GRID_STEPS, *(arm["steps"] for arm in (MODERATE, AGGRESSIVE) if arm["lr"] == lr)}
        runs[lr] = finetune(lab.pretrained(), lr, max(steps), snapshot_steps=tuple(sorted(steps)), desc=f"lr {lr:g}")

    def snapshot(lr, steps):
        if (lr, steps) not in evaluated:
            evaluated[lr, steps] = lab.evaluate(lab.with_weights(runs[lr].snapshots[steps]))
        return evaluated[lr, steps]

    for name, arm in (("moderate", MODERATE), ("aggressive", AGGRESSIVE)):
        metrics[name] = snapshot(arm["lr"], arm["steps"]) | runs[arm["lr"]].summary(up_to_step=arm["steps"])

    random_model = lab.random_init()
    random_run = finetune(random_model, desc="random init", **RANDOM_INIT)
    metrics["random_init"] = lab.evaluate(random_model) | random_run.summary()

    metrics["grid"] = [{"lr": lr, "steps": steps} | snapshot(lr, steps) for lr in GRID_LRS for steps in GRID_STEPS]

    # θ = (1−α)·θ̂ + α·θ_aggressive; the end points are the pre-trained and the aggressive model.
    aggressive_state = runs[AGGRESSIVE["lr"]].snapshots[AGGRESSIVE["steps"]]
    metrics["alpha_sweep"] = []
    for alpha in ALPHAS:
        if alpha == 0:
            point = metrics["pretrained"]
        elif alpha == 1:
            point = snapshot(AGGRESSIVE["lr"], AGGRESSIVE["steps"])
        else:
            mixed = {k: (1 - alpha) * lab.reference[k] + alpha * v for k, v in aggressive_state.items()}
            point = lab.evaluate(lab.with_weights(mixed))
        metrics["alpha_sweep"].append({"alpha": alpha} | point)

    arms = {name: metrics[name] for name in ("pretrained", "moderate", "aggressive", "random_init")}
    lab.figure("arms.png", plots.arm_bars(
        arms, {"recall": "fact recall", "train_accuracy": "train questions", "heldout_accuracy": "held-out questions"},
        "Moderate vs aggressive fine-tuning vs random init"))
    lab.figure("loss_curves.png", plots.loss_curves(
        {name: metrics[name]["loss_curve"] for name in ("moderate", "aggressive", "random_init")},
        "Fine-tuning loss"))
    lab.figure("recall_vs_drift.png", plots.recall_vs_drift(metrics["grid"], "Learning rate × steps grid"))
    lab.figure("alpha_sweep.png", plots.alpha_sweep(metrics["alpha_sweep"], "From θ̂ (α=0) to aggressive (α=1)"))
    lab.figure("drift_per_layer.png", plots.drift_per_layer(
        {name: metrics[name]["drift_per_layer"] for name in ("moderate", "aggressive")}, "Drift per layer"))
    return metrics
