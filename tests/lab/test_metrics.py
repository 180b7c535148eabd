"""Metrics: drift, greedy-completion accuracy, log-likelihoods and perplexity."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from quizgen.lab import metrics  # noqa: E402
from quizgen.lab.data import encode  # noqa: E402
from quizgen.lab.world import TextExample  # noqa: E402


def test_drift_is_zero_for_the_reference_and_exact_for_a_scaled_copy(tiny_gpt2):
    reference = {k: v.clone() for k, v in tiny_gpt2.state_dict().items()}
    total, per_layer = metrics.relative_drift(tiny_gpt2, reference)
    assert total == 0 and set(per_layer.values()) == {0.0}
    with torch.no_grad():
        for name, parameter in tiny_gpt2.named_parameters():
            parameter.mul_(1.1 if ".h.1." in name else 1.0)
    total, per_layer = metrics.relative_drift(tiny_gpt2, reference)
    assert per_layer["layer_1"] == pytest.approx(0.1)
    assert per_layer["layer_0"] == 0 and per_layer["embeddings"] == 0
    assert 0 < total < 0.1


def test_parameters_group_by_layer_across_architectures():
    assert metrics.layer_of("transformer.h.3.attn.c_attn.weight") == "layer_3"
    assert metrics.layer_of("model.layers.12.mlp.up_proj.weight") == "layer_12"
    assert metrics.layer_of("transformer.wte.weight") == "embeddings"
    assert metrics.layer_of("model.embed_tokens.weight") == "embeddings"
    assert metrics.layer_of("transformer.ln_f.weight") == "other"


def greedy_completion(model, sequence, steps):
    ids = list(sequence.ids[: sequence.prompt_len])
    with torch.no_grad():
        for _ in range(steps):
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
            ids.append(int(logits.argmax()))
    return ids[sequence.prompt_len :]


def test_completion_accuracy_agrees_with_real_greedy_decoding(tiny_gpt2, lab_data, tokenizer):
    from quizgen.lab.train import train

    pairs = lab_data.finetune_train[:24]
    train(tiny_gpt2, pairs[:12], steps=40, lr=1e-2, batch_size=12, pad_id=tokenizer.pad_token_id)
    scored = metrics.score(tiny_gpt2, pairs, pad_id=tokenizer.pad_token_id)
    greedy_right = [greedy_completion(tiny_gpt2, p, p.answer_len) == list(p.ids[p.prompt_len : p.prompt_len + p.answer_len])
                    for p in pairs]
    assert 0 < sum(greedy_right) < len(pairs)  # some right, some wrong: the comparison means something
    assert metrics.completion_accuracy(scored, pairs) == sum(greedy_right) / len(pairs)


class UniformModel(torch.nn.Module):
    """Gives every token the same probability."""

    def __init__(self, vocab_size):
        super().__init__()
        self.vocab_size = vocab_size

    def forward(self, input_ids, attention_mask=None, **kwargs):
        class Output:
            logits = torch.zeros(*input_ids.shape, self.vocab_size)
        return Output()


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size(lab_data, tokenizer):
    scored = metrics.score(UniformModel(len(tokenizer)), lab_data.general_heldout[:50])
    assert metrics.perplexity(scored) == pytest.approx(len(tokenizer))


def test_response_logprob_sums_answer_and_eos(tokenizer):
    pairs = encode(tokenizer, [TextExample("question : what is one plus two ? answer :", "three")])
    scored = metrics.score(UniformModel(len(tokenizer)), pairs)
    # Two response tokens ("three", "<eos>"), each with probability 1/V.
    assert metrics.response_logprobs(scored, pairs) == [pytest.approx(-2 * math.log(len(tokenizer)))]
    assert metrics.response_nll_per_token(scored, pairs) == pytest.approx(math.log(len(tokenizer)))


def test_padding_does_not_change_scores(tiny_gpt2, lab_data):
    short, long = lab_data.finetune_train[0], max(lab_data.pretraining, key=lambda s: len(s.ids))
    alone = metrics.score(tiny_gpt2, [short]).logprobs[0]
    batched = metrics.score(tiny_gpt2, [short, long]).logprobs[0]
    assert batched == pytest.approx(alone, abs=1e-6)
