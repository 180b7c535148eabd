"""The lab's exercise on what differs between pre-training and instruction fine-tuning: the loss mask.

Each exercise is its solution, the text the learner reads, a public check, the unseen inputs and how
an answer is compared (see quizgen.notebooks.exercises). The solutions never reach a student notebook
or the grading sandbox.
"""

from quizgen.notebooks import checks
from quizgen.notebooks.exercises import Exercise


def loss_mask(length, prompt_len, loss_on):
    """For each of a sequence's `length` tokens, whether the loss is taken on predicting it.

    The sequence is `<bos> prompt response <eos>`; its first `prompt_len` tokens come before the
    response. loss_on="response" is the fine-tuning objective (prompt masked); loss_on="all" is
    pre-training's (every token that something predicts). Any other value raises ValueError.
    Returns a list of `length` bools.
    """
    if loss_on == "response":
        first_target = prompt_len
    elif loss_on == "all":
        first_target = 1  # nothing predicts the first token
    else:
        raise ValueError(f"loss_on must be 'response' or 'all', not {loss_on!r}")
    return [position >= first_target for position in range(length)]


def check_loss_mask(loss_mask):
    report = checks.Report("loss_mask")
    mask, ok = report.call(loss_mask, 6, 3, "response")
    if ok and report.check(isinstance(mask, (list, tuple)) and len(mask) == 6, "one entry per token"):
        report.check(all(isinstance(m, bool) for m in mask), "every entry is True or False")
        report.check(not any(mask[:3]) and all(mask[3:]), "with loss_on='response' the prompt tokens carry no loss")
    mask, ok = report.call(loss_mask, 6, 3, "all")
    if ok and isinstance(mask, (list, tuple)) and len(mask) == 6:
        report.check(not mask[0], "the first token is never a target: nothing predicts it")
        report.check(sum(map(bool, mask)) == 5, "with loss_on='all' every other token is a target")
    report.raises(ValueError, "an unknown loss_on raises ValueError", loss_mask, 6, 3, "prompt")
    return report.show()


def unseen_loss_mask(rng, case):
    length = rng.randint(2, 30)
    prompt_len = rng.randint(1, length - 1)
    if case == 0:
        return length, prompt_len, rng.choice(("prompt", "none", "Response"))  # must raise ValueError
    return length, prompt_len, "response" if case % 2 else "all"


EXERCISES = (
    Exercise(loss_mask, "Which tokens carry the loss", points=2, check=check_loss_mask, unseen=unseen_loss_mask,
             compare=checks.same_list, text=r"""
Pre-training and instruction fine-tuning run through the same loop and minimise the same
negative log-likelihood. One thing differs in the loss: **which tokens it is taken on**. Write the mask:
for each token of `<bos> prompt response <eos>`, whether predicting it counts. With
`loss_on="response"` the prompt is masked; with `loss_on="all"` every token that something predicts
counts (the first one is predicted by nothing)."""),
)
