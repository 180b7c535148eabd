"""Lab: instruction fine-tuning vs pre-training.

Instruction fine-tuning is not a different training method: it is the same loop, minimising the
same negative log-likelihood with the same optimiser. What changes is the data (a few hundred
question/answer pairs instead of a corpus), the starting weights (pre-trained instead of random), the
loss mask (response tokens instead of every token) and the hyper-parameters (fewer steps, a smaller
learning rate).

This lab puts the two phases side by side: the pre-training run that built the shipped checkpoint
(as `quizgen lab pretrain` recorded it), a short live replay of that recipe from random weights, and
an instruction fine-tuning run, each through the one training loop, which records its own name.
"""

from quizgen.lab.claims import Claim, Plot

TITLE = "Instruction fine-tuning vs pre-training"

# -----------------------------------------------------------------------------
# configuration
FINETUNE = dict(lr=2e-4, steps=120, batch_size=32, warmup_steps=10, min_lr_ratio=1.0, loss_on="response")
REPLAY_STEPS = 40  # the pre-training recipe, shortened: enough to see its loss fall
RECORD_FIELDS = ("loop", "steps", "lr", "batch_size", "loss_on", "tokens_seen", "target_tokens", "train_wall_s")

# -----------------------------------------------------------------------------
CLAIMS = [
    Claim("finetuning-data-tiny",
          "The fine-tuning run sees under 5% of the tokens pre-training saw.",
          "finetuning.tokens_seen < 0.05 * pretraining.tokens_seen",
          run="Both phases counted the tokens their training loop went through: the pre-training run that built "
              "the course's model, and instruction fine-tuning ({finetuning.steps} steps of "
              "{finetuning.batch_size} question/answer pairs).",
          plot=Plot("tokens.svg", "Compare the two bars; the scale is logarithmic, so each labelled step is ten "
                    "times the one below.",
                    "Bar chart: instruction fine-tuning saw {finetuning.tokens_seen} tokens, pre-training "
                    "{pretraining.tokens_seen}.")),
    Claim("same-loop",
          "Pre-training and fine-tuning run through the same training loop function.",
          "finetuning.loop == pretraining.loop", "finetuning.loop == pretraining_replay.loop",
          run="Pre-training (as recorded when the course's model was built), a short live replay of it from "
              "random weights, and instruction fine-tuning each ran through the lab's training loop, which "
              "records the name of its own function.",
          plot=Plot("loss_curves.svg", "Three loss curves from the one loop: pre-training's falls slowly over "
                    "many steps, instruction fine-tuning's drops fast on its small dataset.",
                    "Line chart: all three runs report the same loop, {finetuning.loop}; the fine-tuning loss "
                    "falls far faster than the pre-training loss.")),
]
# What the lab panel calls each run's values: a metric's name, then these words; a key naming a whole
# metric gives its whole name.
NAMES = {
    "finetuning": "of instruction fine-tuning",
    "pretraining": "of pre-training",
    "pretraining_replay": "of the live replay of pre-training",
    "finetuning.tokens_seen": "tokens instruction fine-tuning saw",
    "pretraining.tokens_seen": "the tokens pre-training saw",
    "finetuning.loop": "the training loop instruction fine-tuning ran through",
    "pretraining.loop": "the loop pre-training ran through",
    "pretraining_replay.loop": "the loop the live replay of pre-training ran through",
}


def run(lab):
    from quizgen.lab import plots
    from quizgen.lab.pretrain import PRETRAIN_CONFIG

    metrics = {}
    record = lab.pretraining_record()
    if record is not None:
        # Only what the pre-training run itself recorded: a model from elsewhere has no such record.
        metrics["pretraining"] = {name: record["run"][name] for name in RECORD_FIELDS} | {
            "loss_curve": record["run"]["loss_curve"],
            "loss_curve_stride": record["run"]["loss_curve_stride"],
            "corpus_tokens": record["corpus_tokens"],
            "recall": record["recall"],
        }

    recipe = {name: value for name, value in PRETRAIN_CONFIG.items() if name != "seed"}

    def pretraining_replay():
        return lab.pretrain_phase(lab.random_init(), desc="pre-training replay", **(recipe | {"steps": REPLAY_STEPS}))

    def instruction_finetuning():
        model = lab.pretrained()
        return lab.finetune(model, desc="instruction fine-tuning", **FINETUNE), lab.evaluate(model)

    # Both phases train side by side on a CPU, one per core.
    replay, (finetuning, measured) = lab.parallel([pretraining_replay, instruction_finetuning])
    metrics["pretraining_replay"] = replay.summary()
    metrics["finetuning"] = measured | finetuning.summary() | {
        "dataset_tokens": sum(len(s.ids) for s in lab.data.finetune_train),
        "dataset_pairs": len(lab.data.finetune_train),
    }
    if "pretraining" in metrics:
        metrics["finetuning_token_share"] = metrics["finetuning"]["tokens_seen"] / metrics["pretraining"]["tokens_seen"]
        metrics["finetuning_data_share"] = metrics["finetuning"]["dataset_tokens"] / metrics["pretraining"]["corpus_tokens"]

    curves = {"fine-tuning": finetuning.losses, "pre-training replay": replay.losses}
    strides = {}
    if "pretraining" in metrics:
        curves["pre-training (checkpoint)"] = metrics["pretraining"]["loss_curve"]
        strides["pre-training (checkpoint)"] = metrics["pretraining"]["loss_curve_stride"]
    lab.figure("loss_curves.svg", plots.loss_curves(dict(reversed(curves.items())), strides))  # the longest first, under the others
    if "pretraining" in metrics:
        lab.figure("tokens.svg", plots.value_bars(
            {"pre-training": metrics["pretraining"]["tokens_seen"], "fine-tuning": metrics["finetuning"]["tokens_seen"]},
            "tokens seen in training", log=True))
    return metrics
