"""Lab: parameter initialization and moderate adjustment in fine-tuning.

Fine-tuning starts from the pre-trained weights θ̂ and should move them only a little. Here the
in-house pre-trained model (which knows 800 facts about 200 invented people) is fine-tuned on ~200
question/answer pairs about half of those people:

- moderately: a small learning rate for few steps;
- aggressively: a large learning rate for many steps;
- from random weights instead of θ̂, at the aggressive learning rate for the moderate number of steps;
- over a grid of learning rates × steps, to trace how much is learned and forgotten as θ drifts from θ̂;
- with the aggressive recipe through LoRA (peft, rank 8), which freezes θ̂ and trains a small low-rank
  update instead.

The lab keeping-knowledge takes this lab's recipe and adds the other remedies (L2-SP, replay, early
stopping, WiSE-FT).

Every arm is measured the same way: fact recall (greedy completion of every fact, each in one of its
three wordings, i.e. the knowledge pre-training stored), task accuracy on the training questions and on questions
about the held-out half (which only pre-trained knowledge can answer), general perplexity, and the
relative drift ‖θ−θ̂‖/‖θ̂‖.
"""

from quizgen.lab.claims import Claim, Plot

TITLE = "Initialization and moderate adjustment in fine-tuning"

# -----------------------------------------------------------------------------
# configuration
# Question/answer pairs per step. A step of 16 costs a third of a step of 64 (32 against 98 ms on one
# core); with the learning rates below (re-tuned for 16) every claim holds with the margins `verify` prints.
BATCH_SIZE = 16
WARMUP_STEPS = 10
LOSS_ON = "response"  # the SFT objective: −log Pr(y|x) on the answer only
# Every arm trains with label smoothing and AdamW's weight decay, as SFT recipes commonly do (Hugging
# Face's label_smoothing_factor and weight_decay). Without them (lr 5e-3, 300 steps of 32) the aggressive
# arm's general perplexity reached 10⁵–10⁷ on a 428-token vocabulary, far worse than a uniform guess: a
# broken model, not the forgetting the course describes. With them, and the aggressive rate below, it
# forgets and stays below the vocabulary size, between 52 (ten times the pre-trained model's) and 428
# (docs/labs.md gives the band on seeds 0–19, and why). At 0.2, the aggressive run's recall reached 0.425
# on one of seeds 0–19 after 175 steps (rows packed evenly) and 0.4075 after 200 (the claim allows 0.4);
# at 0.3 and 200 steps it stays at 0.21–0.34 with perplexity 115–248.
LABEL_SMOOTHING = 0.3
WEIGHT_DECAY = 0.3
# How every arm trains (a constant learning rate after warm-up); an arm adds its learning rate and steps.
RECIPE = dict(batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS, min_lr_ratio=1.0, loss_on=LOSS_ON,
              label_smoothing=LABEL_SMOOTHING, weight_decay=WEIGHT_DECAY)
# A constant learning rate after warm-up makes a run of N steps exactly the first N steps of a longer
# run, so one run per learning rate gives a whole row of the grid (and both named arms).
MODERATE = dict(lr=3e-4, steps=90)
# Three quarters of the pre-training peak rate. At the peak (5e-3) general text came near a uniform guess
# (perplexity 296–431 over the run on seed 0, the vocabulary holding 428 tokens); at 4e-3 it passed 428 on
# one of seeds 0–9 (446); at 3.5e-3 recall reached 0.40 on one (the claim allows 0.4), and at 3e-3 it fell
# only to 0.46 on seed 0 (label smoothing 0.2, 175 steps). With smoothing 0.3, 175 steps left recall at
# 0.405 on one of seeds 0–19, 225 steps perplexity at 324; 200 steps sit between.
AGGRESSIVE = dict(lr=3.75e-3, steps=200)
# From random weights instead of θ̂: the aggressive learning rate for the moderate run's 90 steps (with 175,
# held-out accuracy stayed at chance too: 0.0275–0.0575 on seeds 0–9, against 0.05625 for guessing).
RANDOM_INIT = dict(lr=AGGRESSIVE["lr"], steps=MODERATE["steps"])
GRID_LRS = (3e-4, 1e-3, 3.75e-3)
# The grid stops at the moderate run's length: each learning rate runs only as long as its longest point
# (or named arm) needs, and the aggressive run's 200 steps extend the plot's line at its rate.
GRID_STEPS = (45, 90)
# The grids a generated question may read (metric=grid.recall with parameters lr and steps): each point of
# metrics["grid"] is one learning rate × number of steps.
GRIDS = {"grid": {"lr": GRID_LRS, "steps": GRID_STEPS}}
# LoRA with the aggressive recipe: adapters on every linear layer of the blocks, 65,536 trainable parameters
LORA_RANK = 8

# -----------------------------------------------------------------------------
# what the course claims, and the measurements that back it; for the site's lab panel, each claim says
# what was run and which plot shows it ({metric} is filled in with what the run measured)
CLAIMS = [
    Claim("moderate-retains",
          "Moderate fine-tuning keeps what pre-training stored: fact recall stays at or above 0.85.",
          "moderate.recall >= 0.85",
          run="The pre-trained model, which knows 800 facts about 200 invented people, was fine-tuned moderately "
              "(learning rate {moderate.lr}, {moderate.steps} steps) on about 200 question/answer pairs, then "
              "asked every fact again, each in one of three wordings.",
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
          run="The same questions were trained on from random weights instead of the pre-trained ones, at the "
              "aggressive learning rate ({random_init.lr}) for {random_init.steps} steps, then asked about the "
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
          plot=Plot("lora.svg", "Find the LoRA row: its fact recall and held-out bars are long, unlike those "
                    "of the aggressive row at the top.",
                    "Bar chart: with LoRA the model keeps fact recall {lora.recall} and answers "
                    "{lora.heldout_accuracy} of the held-out questions; full aggressive fine-tuning keeps "
                    "{aggressive.recall} and {aggressive.heldout_accuracy}.")),
]
# What the lab panel calls each run's values: a metric's name, then these words ("held-out accuracy" +
# " after moderate fine-tuning"); a key naming a whole metric gives its whole name.
NAMES = {
    "pretrained": "of the pre-trained model",
    "moderate": "after moderate fine-tuning",
    "aggressive": "after aggressive fine-tuning",
    "random_init": "after training from random weights",
    "lora": "with LoRA",
    "chance_accuracy": "the accuracy of guessing",
    "vocabulary_size": "the vocabulary size (a uniform guess's perplexity)",
    "grid": "after fine-tuning at learning rate {lr} for {steps} steps",
}
# The plot a question that names a metric (and no claim) shows, by the metric's first part: the grid's
# generated questions show the grid.
METRIC_PLOTS = {
    "grid": {"file": "recall_vs_drift.svg",
             "caption": "Find your learning rate by its colour; of its points, the ones further right are the "
                        "longer runs (45 and 90 steps; the largest rate goes on to the aggressive run's "
                        "{aggressive.steps}). Solid lines are fact recall, dashed lines held-out accuracy, against how "
                        "far the weights drifted from θ̂.",
             "alt": "Line chart of the grid: at the two smaller learning rates fact recall and held-out accuracy "
                    "stay near the top; at learning rate {aggressive.lr} both fall, fact recall to "
                    "{aggressive.recall} after {aggressive.steps} steps, as the drift grows to "
                    "{aggressive.relative_drift}."},
}


def run(lab):
    from quizgen.lab import plots, remedies

    def finetune(model, lr, steps, snapshot_steps=(), desc="", **extra):
        return lab.finetune(model, lr=lr, steps=steps, snapshot_steps=snapshot_steps, desc=desc, **RECIPE, **extra)

    def learning_rate(lr):
        """One run per learning rate: a constant rate after warm-up makes a run of N steps exactly the first
        N steps of a longer one, so its snapshots are the grid's points and the named arms. (Each arm's
        evaluations run on whichever core is free: lab.evaluate_later.)"""
        named = {arm["steps"] for arm in (MODERATE, AGGRESSIVE) if arm["lr"] == lr}
        measured = sorted({*GRID_STEPS, *named})
        run = finetune(lab.pretrained(), lr, max(measured), snapshot_steps=tuple(measured), desc=f"lr {lr:g}")
        return {"points": {step: lab.evaluate_later(run.snapshots[step]) for step in measured},
                "runs": {step: run.summary(up_to_step=step) for step in sorted(named)}}

    def random_init():
        model = lab.random_init()
        training = finetune(model, desc="random init", **RANDOM_INIT)
        return lab.evaluate_later(model.state_dict()), training.summary()

    def lora():
        """The aggressive recipe, training only LoRA's adapters (θ̂ frozen)."""
        adapted = remedies.with_lora(lab.pretrained(), LORA_RANK, lab.seed)
        trainable = remedies.trainable_parameters(adapted)
        training = finetune(adapted, desc=f"LoRA r={LORA_RANK}", **AGGRESSIVE)
        total = sum(p.numel() for p in lab.base.model.parameters())
        return lab.evaluate_later(remedies.merged(adapted).state_dict()), training.summary() | {
            "trainable_parameters": trainable, "trainable_share": trainable / total}

    # Independent runs, the longest first: on a CPU they run side by side, one per core.
    jobs = {f"lr {lr:g}": (lambda lr=lr: learning_rate(lr)) for lr in sorted(GRID_LRS, reverse=True)}
    jobs |= {"LoRA": lora, "random init": random_init, "pre-trained": lambda: lab.evaluate(lab.pretrained())}
    done = dict(zip(jobs, lab.parallel(list(jobs.values()))))
    by_lr = {lr: done[f"lr {lr:g}"] for lr in GRID_LRS}

    metrics = {"chance_accuracy": lab.data.chance_accuracy, "pretrained": done["pre-trained"],
               # the tokens the model's softmax chooses among: a uniform guess's perplexity
               "vocabulary_size": lab.base.model.get_output_embeddings().weight.shape[0]}
    for name, arm in (("moderate", MODERATE), ("aggressive", AGGRESSIVE)):
        metrics[name] = by_lr[arm["lr"]]["points"][arm["steps"]] | by_lr[arm["lr"]]["runs"][arm["steps"]]
    (evaluation, training), (lora_evaluation, lora_training) = done["random init"], done["LoRA"]
    metrics["random_init"], metrics["lora"] = evaluation | training, lora_evaluation | lora_training
    metrics["grid"] = [{"lr": lr, "steps": steps} | by_lr[lr]["points"][steps] for lr in GRID_LRS for steps in GRID_STEPS]

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
    longest = {"lr": AGGRESSIVE["lr"], "steps": AGGRESSIVE["steps"]} | metrics["aggressive"]
    lab.figure("recall_vs_drift.svg", plots.recall_vs_drift(metrics["grid"] + [longest]))
    lab.figure("lora.svg", plots.arm_rows(
        {"aggressive": metrics["aggressive"], "LoRA": metrics["lora"], "moderate": metrics["moderate"]},
        {"recall": "fact recall", "heldout_accuracy": "held-out", "relative_drift": "drift"},
        xlabel="share correct, or drift"))
    lab.figure("drift_per_layer.svg", plots.drift_per_layer(
        {name: metrics[name]["drift_per_layer"] for name in ("moderate", "aggressive")}))
    return metrics
