"""The SFT objective lab's notebook: the learner's loss against the training loop's, then fine-tuning
with the loss on the response only and on every token."""

from quizgen.notebooks.recipe import (
    Measurement, Prediction, Relation, code, exercise, measure, predict, reference_interval, text, train,
)

CONFIG = ("BATCH_SIZE", "WARMUP_STEPS", "LR", "STEPS")

# A few steps per arm: the code paths of the lab, not its numbers (for tests and quick demonstrations).
QUICK = {"STEPS": 12}

PREDICTIONS = (
    Prediction("retains_more", '"response" or "all": which loss keeps more of the pre-trained knowledge?',
               ("response", "all"),
               lambda m: "response" if m["response_only.recall"] > m["all_tokens.recall"] else "all",
               solution="response"),
    Prediction("likelihood_rises", "True or False: does fine-tuning raise log Pr(y|x) of the training responses?",
               (True, False), lambda m: m["response_only.train_logprob"] > m["pretrained.train_logprob"],
               solution=True),
)

MEASUREMENTS = (
    Measurement("loss_gap", "|your sft_loss − the loop's reported loss| on the pre-trained model", "loss_gap",
                lambda m: (0.0, 1e-4)),
    Measurement("pretrained_train_logprob", "mean log Pr(y|x) of the training responses before fine-tuning",
                'pretrained["train_logprob"]', reference_interval("pretrained.train_logprob", 0.1)),
    Measurement("response_only_train_logprob", "the same after response-only fine-tuning",
                'response_only["train_logprob"]', reference_interval("response_only.train_logprob", 0.1)),
    Measurement("response_only_recall", "fact recall after response-only fine-tuning", 'response_only["recall"]',
                reference_interval("response_only.recall", 0.05)),
    Measurement("all_tokens_recall", "fact recall after all-token fine-tuning", 'all_tokens["recall"]',
                reference_interval("all_tokens.recall", 0.05)),
)

RELATIONS = (
    Relation("your sft_loss equals the loss the training loop reports (to 1e-4)",
             "0 <= m['loss_gap'] <= 1e-4", ("loss_gap",)),
    Relation("fine-tuning raises log Pr(y|x) of the training responses",
             "m['response_only_train_logprob'] > m['pretrained_train_logprob']",
             ("pretrained_train_logprob", "response_only_train_logprob")),
    Relation("response-only loss keeps more recall than all-token loss",
             "m['response_only_recall'] > m['all_tokens_recall']", ("response_only_recall", "all_tokens_recall")),
)

CELLS = (
    exercise("sft_loss"),
    text("""\
        ## Your loss against the training loop's

        The loop reports its loss for a step before updating the weights; with a learning rate of 0 the step
        changes nothing. Both numbers should agree to about 1e-5."""),
    code('''\
        pretrained_model = lab.pretrained()
        pretrained = lab.evaluate(pretrained_model)
        pairs = lab.data.finetune_train
        probe = lab.finetune(lab.pretrained(), lr=0.0, steps=1, batch_size=len(pairs), loss_on="response",
                             desc="loss probe")
        try:
            mine = float(sft_loss(*checks.batch_logits(pretrained_model, pairs, lab.pad_id)))
        except Exception as error:  # an unfinished exercise must not stop "Run All"
            mine = loss_gap = None
            print(f"the loop's loss {probe.losses[0]:.6f}; yours: sft_loss raised {type(error).__name__} "
                  "(finish Exercise 1, then run this cell again)")
        else:
            loss_gap = abs(mine - probe.losses[0])
            print(f"your loss {mine:.6f}, the loop's {probe.losses[0]:.6f}, gap {loss_gap:.2e}")'''),
    predict(),
    text("""\
        ## Fine-tune twice: loss on the response, loss on every token

        The same data, the same settings; only the loss mask differs."""),
    train('''\
        response_only_model = lab.pretrained()
        lab.finetune(response_only_model, lr=LR, steps=STEPS, batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS,
                     loss_on="response", desc="response only")
        response_only = lab.evaluate(response_only_model)
        print(f"response only: recall {response_only['recall']:.3f}, "
              f"log Pr(y|x) {pretrained['train_logprob']:.3f} -> {response_only['train_logprob']:.3f}")'''),
    train('''\
        all_tokens_model = lab.pretrained()
        lab.finetune(all_tokens_model, lr=LR, steps=STEPS, batch_size=BATCH_SIZE, warmup_steps=WARMUP_STEPS,
                     loss_on="all", desc="all tokens")
        all_tokens = lab.evaluate(all_tokens_model)
        print(f"all tokens: recall {all_tokens['recall']:.3f}")'''),
    measure(),
)
