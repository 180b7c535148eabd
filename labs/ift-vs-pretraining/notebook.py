"""The notebook of the lab on instruction fine-tuning vs pre-training: the loss mask written by the
learner, then a short replay of pre-training and a fine-tuning run through the same loop."""

from quizgen.notebooks.recipe import (
    Measurement, Prediction, Relation, code, exercise, measure, predict, reference_interval, text, train,
)

CONFIG = ("FINETUNE", "REPLAY_STEPS")

# A few steps per arm: the code paths of the lab, not its numbers (for tests and quick demonstrations).
QUICK = {"FINETUNE": {"lr": 2e-4, "steps": 8, "batch_size": 32, "warmup_steps": 10, "min_lr_ratio": 1.0,
                      "loss_on": "response"}, "REPLAY_STEPS": 2}

PREDICTIONS = (
    Prediction("data_under_5_percent", "True or False: does fine-tuning see under 5% of the tokens pre-training saw?",
               (True, False), lambda m: m["finetuning.tokens_seen"] < 0.05 * m["pretraining.tokens_seen"],
               solution=True),
    Prediction("same_loop", "True or False: do both phases run through the same training function?",
               (True, False), lambda m: m["finetuning.loop"] == m["pretraining_replay.loop"], solution=True),
)

MEASUREMENTS = (
    Measurement("finetuning_tokens_seen", "tokens the fine-tuning run fed to the model", "finetuning.tokens_seen[-1]",
                reference_interval("finetuning.tokens_seen", relative=0.005)),
    Measurement("pretraining_tokens_seen", "tokens pre-training fed to the model (from its record)",
                'record["run"]["tokens_seen"]', reference_interval("pretraining.tokens_seen", relative=0.005)),
    Measurement("token_share", "the first divided by the second",
                'finetuning.tokens_seen[-1] / record["run"]["tokens_seen"]',
                reference_interval("finetuning_token_share", relative=0.02)),
    Measurement("same_loop", "True if both runs report the same loop function", "finetuning.loop == replay.loop",
                lambda m: (1.0, 1.0), kind=bool),
)

RELATIONS = (
    Relation("fine-tuning sees under 5% of pre-training's tokens",
             "m['finetuning_tokens_seen'] < 0.05 * m['pretraining_tokens_seen']",
             ("finetuning_tokens_seen", "pretraining_tokens_seen")),
    Relation("your token share is the ratio of the two counts",
             "abs(m['token_share'] - m['finetuning_tokens_seen'] / m['pretraining_tokens_seen']) < 1e-6",
             ("token_share", "finetuning_tokens_seen", "pretraining_tokens_seen")),
    Relation("both phases run through the same loop", "m['same_loop'] is True", ("same_loop",), kinds=(bool,)),
)

CELLS = (
    exercise("loss_mask"),
    text("""\
        ## What pre-training did

        The shipped checkpoint records the run that built it. A short replay of its recipe from random weights
        shows the same loop at work."""),
    code('''\
        from quizgen.lab.pretrain import PRETRAIN_CONFIG

        record = lab.pretraining_record()
        print(f"pre-training: {record['run']['steps']} steps, {record['run']['tokens_seen']:,} tokens, "
              f"loss on {record['run']['loss_on']} tokens, loop {record['run']['loop']}")'''),
    predict(),
    text("""\
        ## Run both phases

        A replay of the pre-training recipe (shortened), then instruction fine-tuning from θ̂."""),
    train('''\
        recipe = {name: value for name, value in PRETRAIN_CONFIG.items() if name != "seed"}
        replay = lab.pretrain_phase(lab.random_init(), desc="pre-training replay", **(recipe | {"steps": REPLAY_STEPS}))
        print(f"replay: loss {replay.losses[0]:.2f} -> {replay.losses[-1]:.2f} in {replay.steps} steps")'''),
    train('''\
        finetuned_model = lab.pretrained()
        finetuning = lab.finetune(finetuned_model, desc="instruction fine-tuning", **FINETUNE)
        print(f"fine-tuning: {finetuning.tokens_seen[-1]:,} tokens in {finetuning.steps} steps, "
              f"loss {finetuning.losses[0]:.2f} -> {finetuning.losses[-1]:.2f}")'''),
    measure(),
)
