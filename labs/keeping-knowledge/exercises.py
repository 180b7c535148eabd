"""The keeping-knowledge lab's exercises: L2-SP's pull towards θ̂, and early stopping's choice of step.

Each exercise is its solution, the text the learner reads, a public check, the unseen inputs and how
an answer is compared (see quizgen.notebooks.exercises). The solutions never reach a student notebook
or the grading sandbox.
"""

from quizgen.notebooks import checks
from quizgen.notebooks.exercises import Exercise


def l2_sp_penalty(theta, theta_hat, strength):
    """strength · ‖θ − θ̂‖₂², with all parameters flattened into one vector.

    theta, theta_hat: dicts {parameter name: tensor}, the same names and shapes in both.
    strength: λ, a float. Returns a float (or a 0-d tensor).
    """
    return strength * sum(float((theta[name].double() - theta_hat[name].double()).square().sum()) for name in theta_hat)


def check_l2_sp_penalty(l2_sp_penalty):
    import torch

    report = checks.Report("l2_sp_penalty")
    generator = torch.Generator().manual_seed(11)
    theta_hat = {"a.weight": torch.randn(3, 2, generator=generator), "b.bias": torch.randn(4, generator=generator)}
    value = report.number(l2_sp_penalty, theta_hat, theta_hat, 0.3)
    if value is not None:
        report.check(checks.near(value, 0.0), "θ = θ̂ costs nothing, whatever θ̂ is (the pull is towards θ̂, not 0)")
    moved = dict(theta_hat, **{"b.bias": theta_hat["b.bias"] + torch.tensor([1.0, 0.0, 0.0, 0.0])})
    value = report.number(l2_sp_penalty, moved, theta_hat, 0.3)
    if value is not None:
        report.check(checks.near(value, 0.3), "moving one weight by 1 costs λ·1² = λ")
    twice = dict(theta_hat, **{"b.bias": theta_hat["b.bias"] + torch.tensor([2.0, 0.0, 0.0, 0.0])})
    value = report.number(l2_sp_penalty, twice, theta_hat, 0.3)
    if value is not None:
        report.check(checks.near(value, 1.2), "moving it by 2 costs four times as much: the distance is squared")
    both = {"a.weight": theta_hat["a.weight"] + 1.0, "b.bias": theta_hat["b.bias"] + 1.0}
    value = report.number(l2_sp_penalty, both, theta_hat, 0.5)
    if value is not None:
        report.check(checks.near(value, 0.5 * 10), "every tensor counts: 10 weights moved by 1 cost 10·λ")
    return report.show()


def unseen_l2_sp_penalty(rng, case):
    import torch

    generator = torch.Generator().manual_seed(rng.getrandbits(62))
    names = rng.sample(["wte.weight", "h.0.attn.c_attn.weight", "h.0.mlp.c_fc.bias", "ln_f.weight"], rng.randint(1, 4))
    theta_hat = {name: torch.randn([rng.randint(1, 5) for _ in range(rng.randint(1, 2))], generator=generator)
                 for name in names}
    step = rng.choice((0.0, 0.05, 0.5, 3.0))
    theta = {name: value + step * torch.randn(value.shape, generator=generator) for name, value in theta_hat.items()}
    return theta, theta_hat, rng.choice((0.01, 0.3, 1.0, 10.0))


def best_step(steps, losses):
    """Early stopping: the step whose validation loss is lowest, the earliest one on a tie.

    steps: the steps at which the validation loss was measured, in any order (ints).
    losses: the validation loss at each of those steps (floats, in the same order).
    Returns the step (an int).
    """
    return min(sorted(zip(steps, losses)), key=lambda pair: pair[1])[0]


def check_best_step(best_step):
    report = checks.Report("best_step")
    value = report.number(best_step, [10, 20, 30], [0.9, 0.7, 0.8])
    if value is not None:
        report.check(value == 20, "the step of the lowest validation loss, not the last step")
    value = report.number(best_step, [30, 10, 20], [0.5, 0.9, 0.6])
    if value is not None:
        report.check(value == 30, "steps may come in any order")
    value = report.number(best_step, [10, 20, 30, 40], [0.9, 0.6, 0.6, 0.8])
    if value is not None:
        report.check(value == 20, "on a tie, the earliest step: stop as soon as it gets no better")
    value = report.number(best_step, [40, 30, 20, 10], [0.8, 0.6, 0.6, 0.9])
    if value is not None:
        report.check(value == 20, "on a tie, the earliest step, in whatever order the steps come")
    return report.show()


def unseen_best_step(rng, case):
    every, first = rng.choice((10, 25, 50)), rng.choice((100, 200, 500))
    steps = [first + every * index for index in range(rng.randint(2, 12))]
    losses = [round(rng.uniform(0.3, 2.0), rng.choice((1, 3))) for _ in steps]
    if case == 0:  # a tie for the lowest loss: the earlier step wins
        first, second = rng.sample(range(len(steps)), 2)
        losses[first] = losses[second] = min(losses)
    order = list(range(len(steps)))
    rng.shuffle(order)
    return [steps[i] for i in order], [losses[i] for i in order]


EXERCISES = (
    Exercise(l2_sp_penalty, "L2-SP's penalty", points=2, check=check_l2_sp_penalty, unseen=unseen_l2_sp_penalty,
             text=r"""
L2-SP adds to the fine-tuning loss a pull towards the pre-trained weights θ̂, not towards zero as
weight decay does. Flatten **all** parameters into one vector:

$$\text{penalty}(\theta) = \lambda\,\lVert \theta - \hat\theta \rVert_2^2$$

`theta` and `theta_hat` are dicts `{parameter name: tensor}`, as `checks.parameters(model)` returns them."""),
    Exercise(best_step, "Early stopping's step", points=2, check=check_best_step, unseen=unseen_best_step, text=r"""
Early stopping looks at the loss on a validation split every few steps and keeps the weights of the
look where it was **lowest**. Given the steps of the looks and the validation loss at each (two lists in
the same order, not necessarily sorted), return that step; on a tie, the earliest (later looks that are
no better do not count)."""),
)
