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

from quizgen.lab.claims import Claim, Plot

TITLE = "Initialization and moderate adjustment in fine-tuning"

# -----------------------------------------------------------------------------
# configuration
# Question/answer pairs per step. At 32 every arm ran in about half the time, but the aggressive arm
# came near a uniform guess (general perplexity 420 against the vocabulary's 428, seed 1 of 0–3) and early
# stopping kept step 80 of 175 on seed 1: the claims' margins live at 64.
BATCH_SIZE = 64
WARMUP_STEPS = 10
LOSS_ON = "response"  # the SFT objective: −log Pr(y|x) on the answer only
# Every arm trains with label smoothing and AdamW's weight decay, as SFT recipes commonly do (Hugging
# Face's label_smoothing_factor and weight_decay). Without them (lr 5e-3, 300 steps of 32) the aggressive
# arm's general perplexity reached 10⁵–10⁷ on a 428-token vocabulary, far worse than a uniform guess: a
# broken model, not the forgetting the course describes. With them, and the aggressive rate below, it
# forgets and stays below the vocabulary size: 127–239 on seeds 0–9, between 52 (ten times the
# pre-trained model's) and 428 (docs/labs.md says how much room that leaves, and why).
LABEL_SMOOTHING = 0.2
WEIGHT_DECAY = 0.3
# How every arm trains (a constant learning rate after warm-up); an arm adds its learning rate and steps.
RECIPE = dict(batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS, min_lr_ratio=1.0, loss_on=LOSS_ON,
              label_smoothing=LABEL_SMOOTHING, weight_decay=WEIGHT_DECAY)
# A constant learning rate after warm-up makes a run of N steps exactly the first N steps of a longer
# run, so one run per learning rate gives a whole row of the grid (and both named arms).
MODERATE = dict(lr=2e-4, steps=90)
# The pre-training peak rate. At 1e-2 (twice it) held-out accuracy fell further, but general text became a
# uniform guess (perplexity 267–523 on seeds 0–4, above the vocabulary size on three).
AGGRESSIVE = dict(lr=5e-3, steps=175)
RANDOM_INIT = AGGRESSIVE  # the aggressive recipe, from random weights instead of θ̂
GRID_LRS = (2e-4, 1e-3, 5e-3)
GRID_STEPS = (90, 175)
# The grids a generated question may read (metric=grid.recall with parameters lr and steps): each point of
# metrics["grid"] is one learning rate × number of steps.
GRIDS = {"grid": {"lr": GRID_LRS, "steps": GRID_STEPS}}
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
# What practitioners do to keep pre-trained knowledge, each with the aggressive recipe (or, for WiSE-FT,
# averaging θ̂ with the moderate model).
LORA_RANK = 8  # adapters on every linear layer of the blocks: 65,536 trainable parameters
L2_SP_STRENGTH = 0.3  # λ in λ·‖θ−θ̂‖²
REPLAY_PER_STEP = 64  # pre-training sentences mixed into each batch of 64 question/answer pairs
EARLY_STOPPING_EVERY = 10  # steps between two looks at the validation loss
WISE_FT_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)  # θ = (1−α)θ̂ + α·θ_moderate

# -----------------------------------------------------------------------------
# what the course claims, and the measurements that back it; for the site's lab panel, each claim says
# what was run and which plot shows it ({metric} is filled in with what the run measured)
CLAIMS = [
    Claim("moderate-retains",
          "Moderate fine-tuning keeps what pre-training stored: fact recall stays at or above 0.85.",
          "moderate.recall >= 0.85",
          run="The pre-trained model, which knows 800 facts about 200 invented people, was fine-tuned moderately "
              "(learning rate {moderate.lr}, {moderate.steps} steps) on about 200 question/answer pairs, then "
              "asked every fact again, each in three wordings.",
          plot=Plot("arms.svg", "Look at the first group, fact recall: the moderate bar stands almost as high as "
                    "the pre-trained one.",
                    "Bar chart: after moderate fine-tuning the model still recalls {moderate.recall} of the facts, "
                    "against {pretrained.recall} before; aggressive fine-tuning leaves {aggressive.recall}.")),
    Claim("moderate-learns-task",
          "Moderate fine-tuning learns the task: it answers questions about held-out people (≥ 0.7).",
          "moderate.heldout_accuracy >= 0.7",
          run="The pre-trained model was fine-tuned moderately (learning rate {moderate.lr}, {moderate.steps} "
              "steps) on questions about half of the invented people, then asked the same kind of question about "
              "the other half, which only what it knew before can answer.",
          plot=Plot("arms.svg", "Look at the last group, held-out questions: the moderate bar rises far above the "
                    "pre-trained one and the dashed line of guessing.",
                    "Bar chart: after moderate fine-tuning the model answers {moderate.heldout_accuracy} of the "
                    "questions about held-out people; before fine-tuning it answered {pretrained.heldout_accuracy}.")),
    Claim("aggressive-forgets",
          "Aggressive fine-tuning erases pre-trained knowledge (catastrophic forgetting): recall falls "
          "to 0.4 or less while the moderate run keeps 0.85 or more.",
          "aggressive.recall <= 0.4", "moderate.recall >= 0.85",
          run="The same pre-trained model was fine-tuned on the same question/answer pairs twice, moderately "
              "(learning rate {moderate.lr}, {moderate.steps} steps) and aggressively ({aggressive.lr}, "
              "{aggressive.steps} steps); each was then asked every fact pre-training had taught it.",
          plot=Plot("arms.svg", "Compare the bars of the first group, fact recall: the moderate bar stays beside "
                    "the pre-trained one, the aggressive bar falls near the bottom.",
                    "Bar chart: fact recall falls from {pretrained.recall} before fine-tuning to "
                    "{aggressive.recall} after aggressive fine-tuning, while moderate fine-tuning keeps "
                    "{moderate.recall}.")),
    Claim("aggressive-overfits",
          "Aggressive fine-tuning overfits: near-perfect on its training questions (≥ 0.95), it answers at "
          "most four fifths as many questions about held-out people, and fewer of them than the moderate "
          "run, which trained less.",
          "aggressive.train_accuracy >= 0.95", "aggressive.heldout_accuracy <= 0.8 * aggressive.train_accuracy",
          "aggressive.heldout_accuracy < moderate.heldout_accuracy",
          run="The pre-trained model was fine-tuned aggressively (learning rate {aggressive.lr}, "
              "{aggressive.steps} steps) on questions about half of the people, then asked its own training "
              "questions and questions about the other half.",
          plot=Plot("arms.svg", "Follow the aggressive bars: full height for the training questions, far lower "
                    "for the held-out ones, and lower there than the moderate bar.",
                    "Bar chart: after aggressive fine-tuning the model answers {aggressive.train_accuracy} of its "
                    "training questions but only {aggressive.heldout_accuracy} of the questions about held-out "
                    "people, where the moderate run answers {moderate.heldout_accuracy}.")),
    Claim("aggressive-drifts-more",
          "Aggressive fine-tuning moves the weights at least five times as far from θ̂ as moderate does.",
          "aggressive.relative_drift >= 5 * moderate.relative_drift",
          run="After the moderate and the aggressive run, the distance of the weights from the pre-trained ones "
              "was measured, ‖θ − θ̂‖ / ‖θ̂‖, over the whole model and part by part.",
          plot=Plot("drift_per_layer.svg", "Compare the two lines: the aggressive one lies far above the "
                    "moderate one in every part of the model (the scale is logarithmic: each labelled step is "
                    "ten times the one below).",
                    "Line chart: aggressive fine-tuning moved the weights {aggressive.relative_drift} of their "
                    "size away from θ̂, moderate fine-tuning {moderate.relative_drift}, and the gap is as wide "
                    "in every block of the model.")),
    Claim("aggressive-perplexity-rises",
          "After aggressive fine-tuning, perplexity on general text is at least ten times the pre-trained one, "
          "yet below the vocabulary size, the perplexity of a uniform guess: the model has forgotten, it is "
          "not broken.",
          "aggressive.perplexity >= 10 * pretrained.perplexity", "aggressive.perplexity < vocabulary_size",
          run="Each model's perplexity was measured on 400 ordinary sentences it never saw in pre-training: how "
              "surprised it is by general text (lower is better). A model guessing uniformly among its "
              "{vocabulary_size} tokens would score {vocabulary_size}.",
          plot=Plot("perplexity.svg", "Compare the aggressive bar with the pre-trained one and with the dashed "
                    "line of a uniform guess; the scale is logarithmic, so each labelled step is ten times the one "
                    "below.",
                    "Bar chart: perplexity on general text is {pretrained.perplexity} for the pre-trained model, "
                    "{moderate.perplexity} after moderate and {aggressive.perplexity} after aggressive "
                    "fine-tuning; a uniform guess scores {vocabulary_size}.")),
    Claim("random-init-fails",
          "Without pre-trained initialization the same data teaches nothing about held-out people: "
          "accuracy stays near chance (at most twice the accuracy of guessing).",
          "random_init.heldout_accuracy <= 2 * chance_accuracy",
          run="The aggressive recipe (learning rate {random_init.lr}, {random_init.steps} steps) was run on the "
              "same questions from random weights instead of the pre-trained ones, then asked about the "
              "held-out people.",
          plot=Plot("arms.svg", "Look at the random-init bar of the last group, held-out questions: it stays at "
                    "the dashed line of guessing, while the moderate run, which started from the pre-trained "
                    "weights, rises far above it.",
                    "Bar chart: trained from random weights, the model answers {random_init.heldout_accuracy} of "
                    "the held-out questions, where guessing gets {chance_accuracy}; started from the pre-trained "
                    "weights, it answers {moderate.heldout_accuracy}.")),
    Claim("lora-keeps-knowledge",
          "LoRA (rank 8: under a tenth of the parameters trained) with the aggressive recipe keeps fact recall "
          "at 0.8 or more and answers at least 0.8 of the held-out questions.",
          "lora.recall >= 0.8", "lora.heldout_accuracy >= 0.8", "lora.trainable_share <= 0.1",
          run="LoRA ran the aggressive recipe but trained only small adapter matrices added to the model "
              "({lora.trainable_share} of its parameters), leaving the pre-trained weights as they were.",
          plot=Plot("remedies.svg", "Find the LoRA row: its fact recall and held-out bars are long, unlike those "
                    "of the aggressive row at the top.",
                    "Bar chart: with LoRA the model keeps fact recall {lora.recall} and answers "
                    "{lora.heldout_accuracy} of the held-out questions; full aggressive fine-tuning keeps "
                    "{aggressive.recall} and {aggressive.heldout_accuracy}.")),
    Claim("l2-sp-keeps-knowledge",
          "L2-SP (λ = 0.3) with the aggressive recipe keeps fact recall at 0.7 or more and keeps the weights "
          "about as close to θ̂ as the moderate run (drift at most twice the moderate one).",
          "l2_sp.recall >= 0.7", "l2_sp.relative_drift <= 2 * moderate.relative_drift",
          run="L2-SP ran the aggressive recipe with a penalty in the loss, λ·‖θ − θ̂‖², that pulls the weights "
              "back towards the pre-trained ones.",
          plot=Plot("remedies.svg", "Find the L2-SP row: its fact recall bar stays long and its drift bar is as "
                    "short as that of the moderate row at the bottom.",
                    "Bar chart: with L2-SP, fact recall stays at {l2_sp.recall} and the weights drift "
                    "{l2_sp.relative_drift}, where moderate fine-tuning drifts {moderate.relative_drift}.")),
    Claim("replay-keeps-knowledge-despite-drift",
          "Mixing pre-training sentences into every batch keeps fact recall at 0.75 or more although the weights "
          "move at least half as far as the aggressive run's: drift alone is not what forgets.",
          "replay.recall >= 0.75", "replay.relative_drift >= 0.5 * aggressive.relative_drift",
          run="Replay ran the aggressive recipe with pre-training sentences mixed into every batch of "
              "question/answer pairs.",
          plot=Plot("remedies.svg", "Compare the replay row with the aggressive row at the top: their drift bars "
                    "are about as long, yet replay's fact recall bar is far longer.",
                    "Bar chart: with replay the weights drift {replay.relative_drift} (aggressive: "
                    "{aggressive.relative_drift}), yet fact recall stays at {replay.recall} against "
                    "{aggressive.recall}.")),
    Claim("early-stopping-is-not-enough",
          "Early stopping on a validation split stops within the first two fifths of the aggressive run and "
          "answers unseen test questions better than the full run, yet keeps less pre-trained knowledge than "
          "LoRA: the validation loss watches the task, not what the model knew.",
          "early_stopping.stopped_at <= 0.4 * aggressive.steps",
          "early_stopping.test_accuracy > aggressive.test_accuracy",
          "early_stopping.recall < lora.recall",
          run="Early stopping looked at the validation loss (questions about a quarter of the people) every few "
              "steps of the aggressive run and kept the weights of its best look, step "
              "{early_stopping.stopped_at}; the other quarter's questions tested them.",
          plot=Plot("remedies.svg", "Compare the early-stopping row with the LoRA row: its held-out bar is long, "
                    "but its fact recall bar is much shorter.",
                    "Bar chart: early stopping answers {early_stopping.test_accuracy} of the unseen test "
                    "questions (the full aggressive run: {aggressive.test_accuracy}) but keeps fact recall of "
                    "only {early_stopping.recall}, where LoRA keeps {lora.recall}.")),
    Claim("wise-ft-keeps-recall",
          "WiSE-FT, the weight average of θ̂ and the moderate model, keeps fact recall at 0.95 or more at α = "
          "0.75, but at this scale it answers fewer held-out questions than the moderate model itself.",
          "wise_ft.alpha_075.recall >= 0.95", "wise_ft.alpha_075.heldout_accuracy < moderate.heldout_accuracy",
          run="WiSE-FT averaged the weights, θ = (1 − α)·θ̂ + α·θ_moderate, for α from 0 (the pre-trained "
              "model) to 1 (the moderate model), and measured each average like a fine-tuned model.",
          plot=Plot("wise_ft.svg", "Read the lines at α = 0.75: fact recall is still at the top, while held-out "
                    "accuracy is below where it ends at α = 1, the moderate model itself.",
                    "Line chart: at α = 0.75 the average keeps fact recall {wise_ft.alpha_075.recall} but answers "
                    "{wise_ft.alpha_075.heldout_accuracy} of the held-out questions, fewer than the moderate "
                    "model's {moderate.heldout_accuracy}.")),
]
# What the lab panel calls each run's values: a metric's name, then these words ("held-out accuracy" +
# " after moderate fine-tuning"); a key naming a whole metric gives its whole name.
NAMES = {
    "pretrained": "of the pre-trained model",
    "moderate": "after moderate fine-tuning",
    "aggressive": "after aggressive fine-tuning",
    "random_init": "after training from random weights",
    "lora": "with LoRA",
    "l2_sp": "with L2-SP",
    "replay": "with replay",
    "early_stopping": "with early stopping",
    "early_stopping.stopped_at": "the step whose weights early stopping kept",
    "wise_ft.alpha_075": "of WiSE-FT at α = 0.75",
    "chance_accuracy": "the accuracy of guessing",
    "vocabulary_size": "the vocabulary size (a uniform guess's perplexity)",
    "grid": "after fine-tuning at learning rate {lr} for {steps} steps",
}
# The plot a question that names a metric (and no claim) shows, by the metric's first part: the grid's
# generated questions show the grid.
METRIC_PLOTS = {
    "grid": {"file": "recall_vs_drift.svg",
             "caption": "Find your learning rate by its colour; of its two points, the one further right is the "
                        "longer run. Solid lines are fact recall, dashed lines held-out accuracy, against how far "
                        "the weights drifted from θ̂.",
             "alt": "Line chart of the grid: at the two smaller learning rates fact recall and held-out accuracy "
                    "stay near the top; at learning rate {aggressive.lr} both fall, fact recall to "
                    "{aggressive.recall} after {aggressive.steps} steps, as the drift grows to "
                    "{aggressive.relative_drift}."},
}


def run(lab):
    from quizgen.lab import plots, remedies

    def finetune(model, lr, steps, snapshot_steps=(), desc="", **extra):
        return lab.finetune(model, lr=lr, steps=steps, snapshot_steps=snapshot_steps, desc=desc, **RECIPE, **extra)

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

    metrics = {"chance_accuracy": lab.data.chance_accuracy, "pretrained": lab.evaluate(lab.pretrained()),
               # the tokens the model's softmax chooses among: a uniform guess's perplexity
               "vocabulary_size": lab.base.model.get_output_embeddings().weight.shape[0]}
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

    arms = {"pre-trained": metrics["pretrained"], "moderate": metrics["moderate"],
            "aggressive": metrics["aggressive"], "random init": metrics["random_init"]}
    lab.figure("arms.svg", plots.arm_bars(
        arms, {"recall": "fact recall", "train_accuracy": "training\nquestions", "heldout_accuracy": "held-out\nquestions"},
        reference=("guessing", metrics["chance_accuracy"])))
    lab.figure("perplexity.svg", plots.value_bars(
        {"pre-trained": metrics["pretrained"]["perplexity"], "moderate": metrics["moderate"]["perplexity"],
         "aggressive": metrics["aggressive"]["perplexity"]}, "perplexity on general text", log=True,
        reference=("uniform guess", metrics["vocabulary_size"])))
    lab.figure("loss_curves.svg", plots.loss_curves(
        {name.replace("_", " "): metrics[name]["loss_curve"] for name in ("moderate", "aggressive", "random_init")}))
    lab.figure("recall_vs_drift.svg", plots.recall_vs_drift(metrics["grid"]))
    lab.figure("alpha_sweep.svg", plots.alpha_sweep(metrics["alpha_sweep"]))
    remedy_arms = {"aggressive": metrics["aggressive"], "LoRA": metrics["lora"], "L2-SP": metrics["l2_sp"],
                   "replay": metrics["replay"], "early stopping": metrics["early_stopping"],
                   "WiSE-FT α=0.75": metrics["wise_ft"]["alpha_075"], "moderate": metrics["moderate"]}
    lab.figure("remedies.svg", plots.arm_rows(
        remedy_arms, {"recall": "fact recall", "heldout_accuracy": "held-out", "relative_drift": "drift"},
        xlabel="share correct, or drift"))
    lab.figure("early_stopping.svg", plots.validation_curve(
        list(looks), metrics["early_stopping"]["validation_curve"], metrics["early_stopping"]["stopped_at"]))
    lab.figure("wise_ft.svg", plots.alpha_sweep(list(metrics["wise_ft"].values()), end="moderate"))
    lab.figure("drift_per_layer.svg", plots.drift_per_layer(
        {name: metrics[name]["drift_per_layer"] for name in ("moderate", "aggressive")}))
    return metrics

