"""The initialization lab's exercises: how far the weights moved, and how much of what θ̂ knew survived.

Each exercise is its solution, the text the learner reads, a public check, the unseen inputs and how
an answer is compared (see quizgen.notebooks.exercises). The solutions never reach a student notebook
or the grading sandbox.
"""

from quizgen.notebooks import checks
from quizgen.notebooks.exercises import Exercise


def relative_drift(theta, theta_hat):
    """‖θ − θ̂‖₂ / ‖θ̂‖₂, with all parameters flattened into one vector.

    theta, theta_hat: dicts {parameter name: tensor}, the same names and shapes in both.
    Returns a float (or a 0-d tensor).
    """
    squared_change = sum(float((theta[name].double() - theta_hat[name].double()).square().sum()) for name in theta_hat)
    squared_norm = sum(float(theta_hat[name].double().square().sum()) for name in theta_hat)
    return (squared_change / squared_norm) ** 0.5


def check_relative_drift(relative_drift):
    import math

    import torch

    report = checks.Report("relative_drift")
    generator = torch.Generator().manual_seed(7)
    theta_hat = {"a.weight": torch.randn(4, 3, generator=generator), "b.bias": torch.randn(5, generator=generator)}
    value = report.number(relative_drift, theta_hat, theta_hat)
    if value is not None:
        report.check(checks.near(value, 0.0), "the drift of θ̂ from itself is 0")
    doubled = {name: 2 * tensor for name, tensor in theta_hat.items()}
    value = report.number(relative_drift, doubled, theta_hat)
    if value is not None:
        report.check(checks.near(value, 1.0), "θ = 2θ̂ has drift 1 (the change is as large as θ̂ itself)")
    one_moved = dict(theta_hat, **{"b.bias": theta_hat["b.bias"] + 1.0})
    value = report.number(relative_drift, one_moved, theta_hat)
    if value is not None:
        report.check(value > 0, "a change in any one tensor counts")
        scaled = report.number(relative_drift, {k: 3 * v for k, v in one_moved.items()},
                               {k: 3 * v for k, v in theta_hat.items()})
        if scaled is not None:
            report.check(checks.near(scaled, value), "scaling θ and θ̂ together leaves the drift unchanged")
    # Two tensors of very different sizes: one norm over all parameters differs from an average of
    # per-tensor drifts.
    big = {"big": torch.ones(100), "small": torch.ones(1)}
    moved = {"big": torch.ones(100), "small": torch.full((1,), 2.0)}
    value = report.number(relative_drift, moved, big)
    if value is not None:
        report.check(checks.near(value, 1 / math.sqrt(101)),
                     "all parameters are flattened into ONE vector (not an average over tensors)")
    return report.show()


def unseen_relative_drift(rng, case):
    import torch

    generator = torch.Generator().manual_seed(rng.getrandbits(62))
    names = rng.sample(["wte.weight", "h.0.attn.c_attn.weight", "h.0.mlp.c_fc.bias", "ln_f.weight", "lm.bias"],
                       rng.randint(1, 4))
    theta_hat = {name: torch.randn([rng.randint(1, 6) for _ in range(rng.randint(1, 2))], generator=generator)
                 for name in names}
    step = rng.choice((0.0, 0.01, 0.3, 2.0))
    theta = {name: value + step * torch.randn(value.shape, generator=generator) for name, value in theta_hat.items()}
    return theta, theta_hat


def knowledge_retention(before, after):
    """The share of the facts the model knew before fine-tuning that it still knows after.

    before, after: one bool per recall probe, True where greedy completion reproduced the fact.
    Facts the model did not know before fine-tuning do not count.
    """
    known = [index for index, hit in enumerate(before) if hit]
    return sum(bool(after[index]) for index in known) / len(known)


def check_knowledge_retention(knowledge_retention):
    report = checks.Report("knowledge_retention")
    value = report.number(knowledge_retention, [True, True, True, True], [True, True, True, True])
    if value is not None:
        report.check(checks.near(value, 1.0), "keeping every known fact is retention 1")
    value = report.number(knowledge_retention, [True, True, True, True], [False, False, False, False])
    if value is not None:
        report.check(checks.near(value, 0.0), "forgetting every known fact is retention 0")
    value = report.number(knowledge_retention, [True, False, True, False], [True, True, True, True])
    if value is not None:
        report.check(checks.near(value, 1.0), "facts the model did not know before fine-tuning do not count")
    value = report.number(knowledge_retention, [True, True, False, False], [False, False, True, True])
    if value is not None:
        report.check(checks.near(value, 0.0), "facts learned during fine-tuning do not make up for forgotten ones")
    value = report.number(knowledge_retention, [True, True, True, True], [True, False, True, True])
    if value is not None:
        report.check(0.0 < value < 1.0, "losing some known facts gives a value between 0 and 1")
    return report.show()


def unseen_knowledge_retention(rng, case):
    size = rng.randint(4, 40)
    before = [rng.random() < rng.choice((0.5, 0.9)) for _ in range(size)]
    after = [rng.random() < 0.6 for _ in range(size)]
    # Always a known fact forgotten and an unknown one learned: that is what tells retention from recall.
    forgotten, learned = rng.sample(range(size), 2)
    before[forgotten], after[forgotten] = True, False
    before[learned], after[learned] = False, True
    return before, after


EXERCISES = (
    Exercise(relative_drift, "Relative parameter drift", points=2, check=check_relative_drift,
             unseen=unseen_relative_drift, text=r"""
How far did fine-tuning move the weights? Flatten **all** parameters into one vector
and compare the size of the change with the size of the pre-trained weights:

$$\text{drift}(\theta) = \frac{\lVert \theta - \hat\theta \rVert_2}{\lVert \hat\theta \rVert_2}$$

Both arguments are dicts `{parameter name: tensor}`, as `checks.parameters(model)` returns them."""),
    Exercise(knowledge_retention, "Knowledge retention from the recall probes", points=2,
             check=check_knowledge_retention, unseen=unseen_knowledge_retention, text=r"""
The recall probes ask the model to complete every fact it saw in pre-training.
**Knowledge retention** is the share of the facts the model knew *before* fine-tuning that it still
knows *after*. Facts it never knew cannot be forgotten, so they do not count.

Both arguments hold one bool per probe, as `checks.probe_hits(lab, model)` returns them."""),
)
