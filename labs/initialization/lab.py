"""Lab: parameter initialization and moderate adjustment in fine-tuning.

Fine-tuning starts from the pre-trained weights θ̂ and should move them only a little. Here the
in-house pre-trained model (which knows 800 facts about 200 invented people) is fine-tuned on ~200
question/answer pairs about half of those people, four ways:

- moderately: a small learning rate for few steps;
- aggressively: a large learning rate for many steps;
- from random weights instead of θ̂, with the aggressive recipe;
- over a grid of learning rates × steps, to trace how much is learned and forgotten as θ drifts from θ̂;

and finally the weights are interpolated between θ̂ and the aggressive result (θ = (1−α)θ̂ + α·θ_aggr).

Then what practitioners do instead (quizgen.lab.remedies), each with the aggressive recipe unless said:
LoRA (peft, rank 8), L2-SP (a pull towards θ̂ in the loss), replay (pre-training sentences mixed into
every batch), early stopping on a validation split (half of the held-out people; the other half is
its test set), and WiSE-FT, the weight average of θ̂ and the moderate model.

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
# The grids a generated question may read (metric=grid.recall with parameters lr and steps): each point of
# metrics["grid"] is one learning rate × number of steps.
GRIDS = {"grid": {"lr": GRID_LRS, "steps": GRID_STEPS}}
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
# What practitioners do to keep pre-trained knowledge, each with the aggressive recipe (or, for WiSE-FT,
# averaging θ̂ with the moderate model).
LORA_RANK = 8  # adapters on every linear layer of the blocks: 65,536 trainable parameters
L2_SP_STRENGTH = 0.1  # λ in λ·‖θ−θ̂‖²
REPLAY_PER_STEP = 32  # pre-training sentences mixed into each batch of 32 question/answer pairs
EARLY_STOPPING_EVERY = 10  # steps between two looks at the validation loss
WISE_FT_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)  # θ = (1−α)θ̂ + α·θ_moderate

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
    Claim("lora-keeps-knowledge",
          "LoRA (rank 8: under a tenth of the parameters trained) with the aggressive recipe keeps fact recall "
          "at 0.8 or more and answers at least 0.8 of the held-out questions.",
          "lora.recall >= 0.8", "lora.heldout_accuracy >= 0.8", "lora.trainable_share <= 0.1"),
    Claim("l2-sp-keeps-knowledge",
          "L2-SP (λ = 0.1) with the aggressive recipe keeps fact recall at 0.7 or more and keeps the weights "
          "about as close to θ̂ as the moderate run (drift at most twice the moderate one).",
          "l2_sp.recall >= 0.7", "l2_sp.relative_drift <= 2 * moderate.relative_drift"),
    Claim("replay-keeps-knowledge-despite-drift",
          "Mixing pre-training sentences into every batch keeps fact recall at 0.75 or more although the weights "
          "move at least half as far as the aggressive run's: drift alone is not what forgets.",
          "replay.recall >= 0.75", "replay.relative_drift >= 0.5 * aggressive.relative_drift"),
    Claim("early-stopping-is-not-enough",
          "Early stopping on a validation split stops within the first fifth of the aggressive run and answers "
          "unseen test questions better than the full run, yet keeps less pre-trained knowledge than LoRA: "
          "the validation loss watches the task, not what the model knew.",
          "early_stopping.stopped_at <= 60", "early_stopping.test_accuracy >= 1.25 * aggressive.test_accuracy",
          "early_stopping.recall < lora.recall"),
    Claim("wise-ft-keeps-recall",
          "WiSE-FT, the weight average of θ̂ and the moderate model, keeps fact recall at 0.95 or more at α = "
          "0.75, but at this scale it answers fewer held-out questions than the moderate model itself.",
          "wise_ft.alpha_075.recall >= 0.95", "wise_ft.alpha_075.heldout_accuracy < moderate.heldout_accuracy"),
]


def run(lab):
    from quizgen.lab import plots, remedies

    def finetune(model, lr, steps, snapshot_steps=(), desc="", **extra):
        return lab.finetune(model, lr=lr, steps=steps, batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS,
                            min_lr_ratio=1.0, loss_on=LOSS_ON, snapshot_steps=snapshot_steps, desc=desc, **extra)

    looks = range(EARLY_STOPPING_EVERY, AGGRESSIVE["steps"] + 1, EARLY_STOPPING_EVERY)  # early stopping's

    def interpolations(state, alphas):
        """{α: metrics of (1−α)·θ̂ + α·state} for the α strictly between 0 and 1 (the ends are measured anyway)."""
        return {alpha: lab.evaluate(lab.with_weights(remedies.interpolated(lab.reference, state, alpha)))
                for alpha in alphas if 0 < alpha < 1}

    def learning_rate(lr):
        """One run per learning rate: a constant rate after warm-up makes a run of N steps exactly the first
        N steps of a longer one, so its snapshots are the grid's points and the named arms; what needs
        their weights (early stopping, the interpolations) is measured here too."""
        named = {arm["steps"] for arm in (MODERATE, AGGRESSIVE) if arm["lr"] == lr}
        measured = {*GRID_STEPS, *named}
        kept = measured | (set(looks) if lr == AGGRESSIVE["lr"] else set())
        run = finetune(lab.pretrained(), lr, max(kept), snapshot_steps=tuple(sorted(kept)), desc=f"lr {lr:g}")
        out = {"points": {step: lab.evaluate(lab.with_weights(run.snapshots[step])) for step in sorted(measured)},
               "runs": {step: run.summary(up_to_step=step) for step in sorted(named)}}
        if lr == AGGRESSIVE["lr"]:
            validation = {step: lab.validation_nll(lab.with_weights(run.snapshots[step])) for step in looks}
            stopped_at = remedies.best_step(validation)
            kept_weights = lab.with_weights(run.snapshots[stopped_at])
            out["early_stopping"] = lab.evaluate(kept_weights) | run.summary(up_to_step=stopped_at) | {
                "stopped_at": stopped_at, "validation_curve": [validation[step] for step in looks],
                "validation_every": EARLY_STOPPING_EVERY}
            out["alpha_sweep"] = interpolations(run.snapshots[AGGRESSIVE["steps"]], ALPHAS)
        if lr == MODERATE["lr"]:
            out["wise_ft"] = interpolations(run.snapshots[MODERATE["steps"]], WISE_FT_ALPHAS)
        return out

    def random_init():
        model = lab.random_init()
        training = finetune(model, desc="random init", **RANDOM_INIT)
        return lab.evaluate(model) | training.summary()

    # What practitioners do instead, each with the aggressive recipe.
    def lora():
        adapted = remedies.with_lora(lab.pretrained(), LORA_RANK, lab.seed)
        trainable = remedies.trainable_parameters(adapted)
        training = finetune(adapted, desc=f"LoRA r={LORA_RANK}", **AGGRESSIVE)
        total = sum(p.numel() for p in lab.base.model.parameters())
        return lab.evaluate(remedies.merged(adapted)) | training.summary() | {
            "trainable_parameters": trainable, "trainable_share": trainable / total}

    def l2_sp():
        model = lab.pretrained()
        training = finetune(model, desc=f"L2-SP λ={L2_SP_STRENGTH:g}",
                            penalty=remedies.l2_sp(lab.reference, L2_SP_STRENGTH), **AGGRESSIVE)
        return lab.evaluate(model) | training.summary()

    def replay():
        model = lab.pretrained()
        training = finetune(model, desc=f"replay {REPLAY_PER_STEP}/step", replay_per_step=REPLAY_PER_STEP, **AGGRESSIVE)
        return lab.evaluate(model) | training.summary()

    # Independent runs, the longest first: on a CPU they run side by side, one per core.
    jobs = {f"lr {lr:g}": (lambda lr=lr: learning_rate(lr)) for lr in sorted(GRID_LRS, reverse=True)}
    jobs |= {"LoRA": lora, "replay": replay, "L2-SP": l2_sp, "random init": random_init}
    done = dict(zip(jobs, lab.parallel(list(jobs.values()))))
    by_lr = {lr: done[f"lr {lr:g}"] for lr in GRID_LRS}

    metrics = {"chance_accuracy": lab.data.chance_accuracy, "pretrained": lab.evaluate(lab.pretrained())}
    for name, arm in (("moderate", MODERATE), ("aggressive", AGGRESSIVE)):
        metrics[name] = by_lr[arm["lr"]]["points"][arm["steps"]] | by_lr[arm["lr"]]["runs"][arm["steps"]]
    metrics["random_init"] = done["random init"]
    metrics["grid"] = [{"lr": lr, "steps": steps} | by_lr[lr]["points"][steps] for lr in GRID_LRS for steps in GRID_STEPS]

    # θ = (1−α)·θ̂ + α·θ_aggressive; the end points are the pre-trained and the aggressive model.
    ends = {0: metrics["pretrained"], 1: by_lr[AGGRESSIVE["lr"]]["points"][AGGRESSIVE["steps"]]}
    metrics["alpha_sweep"] = [{"alpha": alpha} | (ends.get(alpha) or by_lr[AGGRESSIVE["lr"]]["alpha_sweep"][alpha])
                              for alpha in ALPHAS]

    metrics["lora"], metrics["l2_sp"], metrics["replay"] = done["LoRA"], done["L2-SP"], done["replay"]
    metrics["early_stopping"] = by_lr[AGGRESSIVE["lr"]]["early_stopping"]
    ends = {0: metrics["pretrained"], 1: by_lr[MODERATE["lr"]]["points"][MODERATE["steps"]]}
    metrics["wise_ft"] = {f"alpha_{round(alpha * 100):03d}": {"alpha": alpha} | (
        ends.get(alpha) or by_lr[MODERATE["lr"]]["wise_ft"][alpha]) for alpha in WISE_FT_ALPHAS}

    arms = {name: metrics[name] for name in ("pretrained", "moderate", "aggressive", "random_init")}
    lab.figure("arms.png", plots.arm_bars(
        arms, {"recall": "fact recall", "train_accuracy": "train questions", "heldout_accuracy": "held-out questions"},
        "Moderate vs aggressive fine-tuning vs random init"))
    lab.figure("loss_curves.png", plots.loss_curves(
        {name: metrics[name]["loss_curve"] for name in ("moderate", "aggressive", "random_init")},
        "Fine-tuning loss"))
    lab.figure("recall_vs_drift.png", plots.recall_vs_drift(metrics["grid"], "Learning rate × steps grid"))
    lab.figure("alpha_sweep.png", plots.alpha_sweep(metrics["alpha_sweep"], "From θ̂ (α=0) to aggressive (α=1)"))
    remedy_arms = {"aggressive": metrics["aggressive"], "LoRA": metrics["lora"], "L2-SP": metrics["l2_sp"],
                   "replay": metrics["replay"], "early stopping": metrics["early_stopping"],
                   "WiSE-FT α=0.75": metrics["wise_ft"]["alpha_075"], "moderate": metrics["moderate"]}
    lab.figure("remedies.png", plots.arm_bars(
        remedy_arms, {"recall": "fact recall", "heldout_accuracy": "held-out questions",
                      "relative_drift": "drift ‖θ−θ̂‖/‖θ̂‖"},
        "Keeping what pre-training stored, with the aggressive recipe"))
    lab.figure("early_stopping.png", plots.validation_curve(
        list(looks), metrics["early_stopping"]["validation_curve"], metrics["early_stopping"]["stopped_at"],
        "Early stopping on the aggressive run"))
    lab.figure("wise_ft.png", plots.alpha_sweep(
        list(metrics["wise_ft"].values()), "WiSE-FT: weight averages of θ̂ and the moderate model", end="moderate"))
    lab.figure("drift_per_layer.png", plots.drift_per_layer(
        {name: metrics[name]["drift_per_layer"] for name in ("moderate", "aggressive")}, "Drift per layer"))
    return metrics

