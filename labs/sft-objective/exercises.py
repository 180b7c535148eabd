"""The SFT objective lab's exercise: the loss of supervised fine-tuning, written by the learner.

Each exercise is its solution, the text the learner reads, a public check, the unseen inputs and how
an answer is compared (see quizgen.notebooks.exercises). The solutions never reach a student notebook
or the grading sandbox.
"""

from quizgen.notebooks import checks
from quizgen.notebooks.exercises import Exercise


def sft_loss(logits, input_ids, prompt_lens, lengths):
    """The SFT loss: −mean log Pr(token | prefix) over the response tokens, prompt tokens masked.

    logits: a float tensor [batch, positions, vocabulary]; logits[b, t] scores the token at t + 1.
    input_ids: a long tensor [batch, positions]; row b holds `<bos> prompt response <eos>` and padding.
    prompt_lens[b]: the number of tokens before the response in row b (<bos> included).
    lengths[b]: the number of real tokens in row b; the rest of the row is padding.
    Returns the mean over every response token of every row (a 0-d tensor or a float).
    """
    import torch

    log_probs = torch.log_softmax(logits.double(), dim=-1)
    total, count = 0.0, 0
    for row, (prompt_len, length) in enumerate(zip(prompt_lens, lengths)):
        targets = input_ids[row, prompt_len:length]
        predicted = log_probs[row, prompt_len - 1 : length - 1]
        total = total - predicted.gather(-1, targets.unsqueeze(-1)).sum()
        count += length - prompt_len
    return total / count


def check_sft_loss(sft_loss):
    import math

    import torch

    report = checks.Report("sft_loss")
    generator = torch.Generator().manual_seed(11)
    vocab, lengths, prompt_lens = 7, [6, 4], [3, 2]
    input_ids = torch.randint(1, vocab, (2, 6), generator=generator)
    input_ids[1, 4:] = 0  # padding
    logits = torch.randn(2, 6, vocab, generator=generator)

    def loss(some_logits):
        return report.number(sft_loss, some_logits, input_ids, prompt_lens, lengths)

    uniform = loss(torch.zeros(2, 6, vocab))
    if uniform is not None:
        report.check(checks.near(uniform, math.log(vocab)), "uniform logits give log(vocabulary size) per token")
    base = loss(logits)
    if base is None:
        return report.show()
    report.check(base > 0, "the loss is positive")
    in_prompt = logits.clone()
    in_prompt[0, : prompt_lens[0] - 1] += 5 * torch.randn(prompt_lens[0] - 1, vocab, generator=generator)
    changed = loss(in_prompt)
    report.check(changed is not None and checks.near(changed, base),
                 "predictions of prompt tokens do not count (the prompt is masked)")
    in_padding = logits.clone()
    in_padding[1, lengths[1] - 1 :] += 5.0 * torch.randn(6 - lengths[1] + 1, vocab, generator=generator)
    changed = loss(in_padding)
    report.check(changed is not None and checks.near(changed, base), "padding after a sequence's end does not count")
    in_response = logits.clone()
    in_response[0, prompt_lens[0] - 1] += 5 * torch.randn(vocab, generator=generator)
    changed = loss(in_response)
    report.check(changed is not None and not checks.near(changed, base),
                 "the prediction of the first response token counts")
    certain = torch.full((2, 6, vocab), -30.0)
    certain.scatter_(-1, torch.roll(input_ids, -1, dims=1).unsqueeze(-1), 30.0)
    changed = loss(certain)
    report.check(changed is not None and checks.near(changed, 0.0, 1e-3),
                 "predicting every response token with certainty gives a loss near 0")
    return report.show()


def unseen_sft_loss(rng, case):
    import torch

    generator = torch.Generator().manual_seed(rng.getrandbits(62))
    batch, positions, vocabulary = rng.randint(1, 4), rng.randint(4, 12), rng.randint(4, 13)
    lengths = [rng.randint(3, positions) for _ in range(batch)]
    prompt_lens = [rng.randint(1, length - 1) for length in lengths]
    ids = torch.randint(1, vocabulary, (batch, positions), generator=generator)
    for row, length in enumerate(lengths):
        ids[row, length:] = 0  # padding
    logits = rng.choice((0.5, 2.0, 6.0)) * torch.randn(batch, positions, vocabulary, generator=generator)
    return logits, ids, prompt_lens, lengths


EXERCISES = (
    Exercise(sft_loss, "The SFT loss on response tokens only", points=3, check=check_sft_loss,
             unseen=unseen_sft_loss, text=r"""
Supervised fine-tuning maximises $\log \Pr_\theta(y \mid x)$, so its loss is
$-\sum_t \log \Pr_\theta(y_t \mid x, y_{<t})$ over the **response** tokens $y$ only: the prompt $x$ is
context, and its tokens are masked out of the loss. Training loops report the **mean** over response
tokens, so that is what `sft_loss` returns.

The model's `logits[b, t]` score the token at position `t + 1` of row `b`, so the first response token
(at position `prompt_len`) is predicted by `logits[b, prompt_len - 1]`. Padding after a row's `length`
real tokens never counts. Work in log-probabilities (`torch.log_softmax`), not probabilities."""),
)
