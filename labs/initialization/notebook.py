"""The initialization lab's notebook: drift and retention written by the learner, then four runs
(moderate, aggressive, from random weights, and the aggressive recipe through LoRA) predicted before
and measured after."""

from quizgen.notebooks.recipe import (
    Measurement, Prediction, Relation, code, exercise, measure, predict, reference_interval, retention_interval,
    text, train,
)

CONFIG = ("BATCH_SIZE", "WARMUP_STEPS", "LOSS_ON", "LABEL_SMOOTHING", "WEIGHT_DECAY", "RECIPE", "MODERATE",
          "AGGRESSIVE", "RANDOM_INIT", "LORA_RANK")
CONFIG_CODE = '''
    def finetune(model, lr, steps, desc):
        """The lab's fine-tuning call: the one training loop, constant learning rate after warm-up."""
        return lab.finetune(model, lr=lr, steps=steps, desc=desc, **RECIPE)'''

# A few steps per arm: the code paths of the lab, not its numbers (for tests and quick demonstrations).
QUICK = {"MODERATE": {"lr": 3e-4, "steps": 4}, "AGGRESSIVE": {"lr": 3.75e-3, "steps": 12}}

PREDICTIONS = (
    Prediction("forgets_more", '"moderate" or "aggressive": which run loses more fact recall?',
               ("moderate", "aggressive"),
               lambda m: "aggressive" if m["aggressive.recall"] < m["moderate.recall"] else "moderate",
               solution="aggressive"),
    Prediction("drifts_more", '"moderate" or "aggressive": which run moves further from θ̂?',
               ("moderate", "aggressive"),
               lambda m: "aggressive" if m["aggressive.relative_drift"] > m["moderate.relative_drift"] else "moderate",
               solution="aggressive"),
    Prediction("random_init_learns_task",
               "True or False: trained from random weights, does the model answer held-out questions (≥ 0.7)?",
               (True, False), lambda m: m["random_init.heldout_accuracy"] >= 0.7, solution=False),
    Prediction("lora_keeps_recall",
               "True or False: with the aggressive recipe but only LoRA's adapters trained, does the model keep "
               "fact recall at 0.8 or more?",
               (True, False), lambda m: m["lora.recall"] >= 0.8, solution=True),
)

MEASUREMENTS = (
    Measurement("moderate_recall", "fact recall after the moderate run", 'moderate["recall"]',
                reference_interval("moderate.recall", 0.05)),
    # The aggressive arm (a learning rate at the edge of stability) is chaotic: a float rounded otherwise on
    # another CPU moves its numbers more than any fair interval, so they are graded by the relations below.
    Measurement("aggressive_recall", "fact recall after the aggressive run", 'aggressive["recall"]', None),
    Measurement("moderate_drift", "relative_drift of the moderate run from θ̂",
                "relative_drift(checks.parameters(moderate_model), theta_hat)",
                reference_interval("moderate.relative_drift", relative=0.1)),
    Measurement("aggressive_drift", "relative_drift of the aggressive run from θ̂",
                "relative_drift(checks.parameters(aggressive_model), theta_hat)", None),
    Measurement("moderate_retention", "knowledge_retention of the moderate run",
                "knowledge_retention(hits_before, checks.probe_hits(lab, moderate_model))",
                retention_interval("moderate", 0.05)),
    Measurement("aggressive_retention", "knowledge_retention of the aggressive run",
                "knowledge_retention(hits_before, checks.probe_hits(lab, aggressive_model))", None),
    Measurement("random_init_heldout_accuracy", "held-out accuracy of the random-init run",
                'random_init["heldout_accuracy"]', reference_interval("random_init.heldout_accuracy", 0.05)),
    Measurement("lora_recall", "fact recall after the aggressive recipe through LoRA", 'lora["recall"]',
                reference_interval("lora.recall", 0.05)),
)

RELATIONS = (
    Relation("the aggressive run keeps less fact recall than the moderate run",
             "m['aggressive_recall'] < m['moderate_recall']", ("moderate_recall", "aggressive_recall")),
    Relation("the aggressive run drifts further from θ̂ than the moderate run",
             "m['aggressive_drift'] > m['moderate_drift'] > 0", ("moderate_drift", "aggressive_drift")),
    Relation("the aggressive run retains less knowledge than the moderate run",
             "0 <= m['aggressive_retention'] < m['moderate_retention'] <= 1",
             ("moderate_retention", "aggressive_retention")),
    Relation("LoRA keeps more fact recall than the same recipe training every weight",
             "m['lora_recall'] > m['aggressive_recall']", ("aggressive_recall", "lora_recall")),
    Relation("recall and accuracies are fractions between 0 and 1",
             "all(0 <= m[n] <= 1 for n in ('moderate_recall', 'aggressive_recall', 'random_init_heldout_accuracy'))",
             ("moderate_recall", "aggressive_recall", "random_init_heldout_accuracy")),
)

CELLS = (
    exercise("relative_drift"),
    exercise("knowledge_retention"),
    text("""\
        ## The pre-trained model θ̂

        Its parameters, what it knows (one hit per recall probe) and its scores before any fine-tuning."""),
    code('''\
        theta_hat = checks.parameters(lab.pretrained())
        hits_before = checks.probe_hits(lab, lab.pretrained())
        pretrained = lab.evaluate(lab.pretrained())
        print(f"pre-trained: fact recall {pretrained['recall']:.3f}, "
              f"held-out task accuracy {pretrained['heldout_accuracy']:.3f}")'''),
    predict(),
    text("""\
        ## Fine-tune: moderately, aggressively, and from random weights

        The moderate run takes small steps for a short while; the aggressive run takes large steps for much
        longer; the third run uses the aggressive learning rate, for as many steps as the moderate run, on
        randomly initialised weights."""),
    train('''\
        moderate_model = lab.pretrained()
        moderate_run = finetune(moderate_model, desc="moderate", **MODERATE)
        moderate = lab.evaluate(moderate_model)
        print(f"moderate: recall {moderate['recall']:.3f}, held-out accuracy {moderate['heldout_accuracy']:.3f}")'''),
    train('''\
        aggressive_model = lab.pretrained()
        aggressive_run = finetune(aggressive_model, desc="aggressive", **AGGRESSIVE)
        aggressive = lab.evaluate(aggressive_model)
        print(f"aggressive: recall {aggressive['recall']:.3f}, "
              f"held-out accuracy {aggressive['heldout_accuracy']:.3f}")'''),
    train('''\
        random_model = lab.random_init()
        random_run = finetune(random_model, desc="random init", **RANDOM_INIT)
        random_init = lab.evaluate(random_model)
        print(f"random init: held-out accuracy {random_init['heldout_accuracy']:.3f} "
              f"(chance: {lab.data.chance_accuracy:.3f})")'''),
    text("""\
        ## The aggressive recipe again, through LoRA

        LoRA freezes θ̂ and trains a small low-rank update of every linear layer instead: the same learning
        rate and steps as the aggressive run, but far fewer weights that can move."""),
    train('''\
        from quizgen.lab import remedies

        lora_model = remedies.with_lora(lab.pretrained(), LORA_RANK, lab.seed)
        print(f"LoRA trains {remedies.trainable_parameters(lora_model):,} of "
              f"{sum(p.numel() for p in lab.base.model.parameters()):,} parameters")
        lora_run = finetune(lora_model, desc="LoRA", **AGGRESSIVE)
        lora = lab.evaluate(remedies.merged(lora_model))
        print(f"LoRA: recall {lora['recall']:.3f}, held-out accuracy {lora['heldout_accuracy']:.3f}")'''),
    measure(),
)
