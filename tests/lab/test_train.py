"""The one training loop: masking, packing, the loss/NLL identity, determinism."""

from __future__ import annotations

import copy
import math

import pytest

torch = pytest.importorskip("torch")

from quizgen.lab import metrics  # noqa: E402
from quizgen.lab.data import encode, first_target, packed  # noqa: E402
from quizgen.lab.train import lr_at, masked_nll, train  # noqa: E402
from quizgen.lab.world import TextExample  # noqa: E402


def test_response_only_labels_are_exactly_the_response_tokens(tokenizer):
    pairs = encode(tokenizer, [TextExample("question : where does a dog live ? answer :", "kennel"),
                               TextExample("question : what is one plus two ? answer :", "three")])
    input_ids, labels, _ = packed(pairs, tokenizer.pad_token_id, "response")
    targets = [tokenizer.convert_ids_to_tokens(int(i)) for i in labels[labels != -100]]
    assert targets == ["kennel", "<eos>", "three", "<eos>"]
    _, all_labels, _ = packed(pairs, tokenizer.pad_token_id, "all")
    # Every token but each sequence's <bos> is a target when the loss is on all tokens.
    assert int((all_labels != -100).sum()) == sum(len(p.ids) - 1 for p in pairs)


def test_response_only_loss_ignores_what_prompt_tokens_predict(tiny_gpt2, tokenizer):
    """Changing the model's output only at prompt positions moves the all-token loss, not the SFT loss."""
    pair = encode(tokenizer, [TextExample("question : what is one plus two ? answer :", "three")])
    input_ids, labels, positions = packed(pair, tokenizer.pad_token_id, "response")
    _, all_labels, _ = packed(pair, tokenizer.pad_token_id, "all")
    prompt_positions = slice(0, pair[0].prompt_len - 1)

    class PromptLogitsShifted(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, **kwargs):
            out = self.inner(**kwargs)
            out.logits[:, prompt_positions] += torch.randn_like(out.logits[:, prompt_positions]) * 5
            return out

    shifted = PromptLogitsShifted(tiny_gpt2)
    with torch.no_grad():
        assert masked_nll(shifted, input_ids, labels, positions).item() == pytest.approx(
            masked_nll(tiny_gpt2, input_ids, labels, positions).item(), abs=1e-6)
        assert abs(masked_nll(shifted, input_ids, all_labels, positions).item()
                   - masked_nll(tiny_gpt2, input_ids, all_labels, positions).item()) > 1e-3


@pytest.mark.parametrize("arch", ["gpt2", "llama", "gpt-neox"])
def test_packed_rows_train_each_sentence_as_if_alone(arch, lab_data, tokenizer):
    """For every architecture `lab pretrain --arch` builds: position restarts are sequence boundaries."""
    from quizgen.lab.model import architecture_config, random_model

    torch.set_num_threads(1)
    model = random_model(architecture_config(arch, tokenizer), seed=0)
    sequences = lab_data.pretraining[:12]
    input_ids, labels, positions = packed(sequences, tokenizer.pad_token_id, "all", width=64)
    assert input_ids.shape[0] < len(sequences)  # really packed several per row
    total, count = 0.0, 0
    with torch.no_grad():
        for sequence in sequences:
            alone = torch.tensor([sequence.ids])
            logits = model(input_ids=alone).logits[0, :-1]
            total += torch.nn.functional.cross_entropy(logits, alone[0, 1:], reduction="sum").item()
            count += len(sequence.ids) - 1
        packed_loss = masked_nll(model, input_ids, labels, positions).item()
    assert packed_loss == pytest.approx(total / count, abs=1e-5)


def test_loss_equals_negative_mean_log_likelihood_from_probabilities(tiny_gpt2, lab_data, tokenizer):
    pairs = lab_data.finetune_train[:40]
    input_ids, labels, positions = packed(pairs, tokenizer.pad_token_id, "response")
    with torch.no_grad():
        loss = masked_nll(tiny_gpt2, input_ids, labels, positions).item()
    scored = metrics.score(tiny_gpt2, pairs, pad_id=tokenizer.pad_token_id)
    assert loss == pytest.approx(metrics.response_nll_per_token(scored, pairs), abs=1e-5)
    assert loss > 1.0  # an untrained model: the identity is not trivially 0 == 0


def test_loop_reduces_the_loss_on_a_tiny_task(tiny_gpt2, lab_data, tokenizer):
    run = train(tiny_gpt2, lab_data.finetune_train[:16], steps=40, lr=1e-2, batch_size=16,
                pad_id=tokenizer.pad_token_id)
    assert run.losses[-1] < 0.5 * run.losses[0]
    assert run.loop == "quizgen.lab.train.train"
    assert run.tokens_seen[-1] == 40 * sum(len(s.ids) for s in lab_data.finetune_train[:16])
    # Response-only: per pair, its answer and <eos> are the targets.
    assert run.target_tokens[-1] == 40 * sum(len(s.ids) - s.prompt_len for s in lab_data.finetune_train[:16])
    assert run.summary(up_to_step=10)["tokens_seen"] == run.tokens_seen[-1] // 4


def _run(tokenizer, lab_data, seed):
    from quizgen.lab.model import gpt2_config, random_model

    torch.set_num_threads(2)
    model = random_model(gpt2_config(tokenizer, n_embd=16, n_layer=2, n_head=2), seed=0)
    run = train(model, lab_data.finetune_train, steps=8, lr=1e-3, batch_size=8, warmup_steps=3,
                seed=seed, pad_id=tokenizer.pad_token_id)
    return run.losses, model.state_dict()


def test_same_seed_and_threads_give_bit_identical_training(tokenizer, lab_data):
    losses_a, state_a = _run(tokenizer, lab_data, seed=3)
    losses_b, state_b = _run(tokenizer, lab_data, seed=3)
    assert losses_a == losses_b
    assert all(torch.equal(state_a[name], state_b[name]) for name in state_a)
    losses_c, _ = _run(tokenizer, lab_data, seed=4)
    assert losses_c != losses_a  # the seed really decides the batch order


def test_one_flat_buffer_trains_exactly_as_torch_s_per_tensor_adamw_and_clipping(tiny_gpt2, lab_data, tokenizer):
    """The loop keeps weights and gradients in one flat tensor each; per element that is the same arithmetic
    as torch's AdamW and clip_grad_norm_ on separate tensors, bit for bit, with clipping active."""
    pairs = lab_data.finetune_train[:24]
    reference = copy.deepcopy(tiny_gpt2)
    settings = dict(lr=3e-3, weight_decay=0.3, grad_clip=0.05)
    run = train(tiny_gpt2, pairs, steps=5, batch_size=8, seed=2, pad_id=tokenizer.pad_token_id, **settings)

    torch.manual_seed(2)
    order = torch.Generator().manual_seed(2)
    parameters = [p for p in reference.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=settings["lr"], betas=(0.9, 0.95),
                                  weight_decay=settings["weight_decay"], fused=True)
    reference.train()
    queue, losses, clipped = torch.empty(0, dtype=torch.long), [], []
    for step in range(5):
        while len(queue) < 8:
            queue = torch.cat([queue, torch.randperm(len(pairs), generator=order)])
        batch, queue = [pairs[i] for i in queue[:8].tolist()], queue[8:]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, 5, settings["lr"], 0, 0.1)
        loss = masked_nll(reference, *packed(batch, tokenizer.pad_token_id, "response"))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clipped.append(torch.nn.utils.clip_grad_norm_(parameters, settings["grad_clip"]).item() > settings["grad_clip"])
        optimizer.step()
        losses.append(loss.item())
    assert all(clipped)  # the clipping path really ran
    assert run.losses == losses
    trained, expected = tiny_gpt2.state_dict(), reference.state_dict()
    assert all(torch.equal(trained[name], expected[name]) for name in expected)


def test_after_training_or_an_interruption_each_parameter_has_its_own_storage_and_no_gradient(tiny_gpt2, lab_data, tokenizer, tmp_path):
    train(tiny_gpt2, lab_data.finetune_train[:8], steps=2, lr=1e-3, batch_size=8, pad_id=tokenizer.pad_token_id)
    parameters = list(tiny_gpt2.parameters())
    assert len({p.untyped_storage().data_ptr() for p in parameters}) == len(parameters)
    assert all(p.grad is None for p in parameters)
    tiny_gpt2.save_pretrained(tmp_path)  # safetensors refuses tensors that share a buffer

    def interrupted(model):  # as when a learner interrupts the cell
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train(tiny_gpt2, lab_data.finetune_train[:8], steps=2, lr=1e-3, batch_size=8, pad_id=tokenizer.pad_token_id,
              penalty=interrupted)
    assert len({p.untyped_storage().data_ptr() for p in parameters}) == len(parameters)
    assert all(p.grad is None for p in parameters)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    assert lr_at(0, 100, 1.0, 10, 0.1) == pytest.approx(0.1)
    assert lr_at(9, 100, 1.0, 10, 0.1) == pytest.approx(1.0)
    assert lr_at(10, 100, 1.0, 10, 0.1) == pytest.approx(1.0)
    assert lr_at(100, 100, 1.0, 10, 0.1) == pytest.approx(0.1)
    assert lr_at(55, 100, 1.0, 10, 1.0) == 1.0  # min_lr_ratio 1: constant after warm-up


def test_cooldown_holds_the_rate_then_decays_linearly_to_zero():
    assert lr_at(0, 100, 1.0, 10, 0.1, cooldown_steps=20) == pytest.approx(0.1)  # warm-up as before
    assert lr_at(79, 100, 1.0, 10, 0.1, cooldown_steps=20) == 1.0  # constant until the last 20 steps
    assert lr_at(90, 100, 1.0, 10, 0.1, cooldown_steps=20) == pytest.approx(0.5)
    assert lr_at(99, 100, 1.0, 10, 0.1, cooldown_steps=20) == pytest.approx(0.05)


def test_label_smoothing_is_torch_s_and_the_recorded_loss_stays_the_plain_nll(tiny_gpt2, lab_data, tokenizer):
    import torch.nn.functional as F

    from quizgen.lab.data import packed

    input_ids, labels, positions = packed(lab_data.finetune_train[:8], tokenizer.pad_token_id, "response")
    with torch.no_grad():
        nll, objective = masked_nll(tiny_gpt2, input_ids, labels, positions, label_smoothing=0.15)
        logits = tiny_gpt2(input_ids=input_ids, position_ids=positions, use_cache=False).logits
        flat = logits[:, :-1].reshape(-1, logits.size(-1)).float(), labels[:, 1:].reshape(-1)
        assert nll.item() == pytest.approx(masked_nll(tiny_gpt2, input_ids, labels, positions).item(), abs=1e-6)
        assert objective.item() == pytest.approx(
            F.cross_entropy(*flat, ignore_index=-100, label_smoothing=0.15).item(), abs=1e-5)
    # One step at learning rate 0 on exactly these 8 pairs (in some order): what it records is their NLL.
    run = train(tiny_gpt2, lab_data.finetune_train[:8], steps=1, lr=0.0, batch_size=8, label_smoothing=0.15,
                pad_id=tokenizer.pad_token_id)
    assert run.losses[0] == pytest.approx(nll.item(), rel=1e-4)  # packed in another order: float rounding


def test_unknown_loss_mask_is_refused(tokenizer):
    pair = encode(tokenizer, [TextExample("the sky", "blue")])[0]
    with pytest.raises(ValueError, match="loss_on"):
        first_target(pair, "prompt")


def test_snapshots_are_the_weights_at_that_step(tiny_gpt2, lab_data, tokenizer):
    run = train(tiny_gpt2, lab_data.finetune_train, steps=6, lr=1e-3, batch_size=8, pad_id=tokenizer.pad_token_id,
                snapshot_steps=(3, 6))
    final = tiny_gpt2.state_dict()
    assert all(torch.equal(run.snapshots[6][name], final[name]) for name in final)
    assert not all(torch.equal(run.snapshots[3][name], final[name]) for name in final)
    assert math.isfinite(run.losses[-1])


def test_a_penalty_is_optimised_but_the_recorded_loss_is_the_nll_alone(tiny_gpt2, lab_data, tokenizer):
    from quizgen.lab import remedies

    reference = {k: v.detach().clone() for k, v in tiny_gpt2.named_parameters()}
    pairs = lab_data.finetune_train[:16]
    free = copy.deepcopy(tiny_gpt2)
    run_free = train(free, pairs, steps=20, lr=1e-2, batch_size=16, pad_id=tokenizer.pad_token_id)
    run_held = train(tiny_gpt2, pairs, steps=20, lr=1e-2, batch_size=16, pad_id=tokenizer.pad_token_id,
                     penalty=remedies.l2_sp(reference, 10.0))

    def drift(model):
        return sum((p - reference[n]).square().sum().item() for n, p in model.named_parameters()) ** 0.5
    assert drift(tiny_gpt2) < 0.5 * drift(free)  # L2-SP pulls towards the reference
    assert run_held.losses[0] == pytest.approx(run_free.losses[0])  # step 0: same weights, the NLL alone


def test_replay_mixes_pretraining_sentences_into_every_batch_with_loss_on_every_token(tiny_gpt2, lab_data, tokenizer):
    pairs, replay = lab_data.finetune_train[:8], lab_data.pretraining[:50]
    run = train(tiny_gpt2, pairs, steps=3, lr=1e-3, batch_size=8, pad_id=tokenizer.pad_token_id,
                replay=replay, replay_per_step=4)
    pair_tokens = sum(len(s.ids) for s in pairs)
    assert pair_tokens * 3 < run.tokens_seen[-1] <= pair_tokens * 3 + 3 * 4 * max(len(s.ids) for s in replay)
    response_targets = sum(len(s.ids) - s.prompt_len for s in pairs)
    assert run.target_tokens[-1] > 3 * response_targets  # the replayed sentences' tokens are targets too


def test_stacked_batches_keep_each_sentence_alone(tiny_gpt2, lab_data, tokenizer):
    from quizgen.lab.train import stacked

    first = packed(lab_data.finetune_train[:6], tokenizer.pad_token_id, "response")
    second = packed(lab_data.pretraining[:9], tokenizer.pad_token_id, "all")
    input_ids, labels, positions = stacked(first, second, tokenizer.pad_token_id)
    assert input_ids.shape[0] == first[0].shape[0] + second[0].shape[0]
    with torch.no_grad():
        together = masked_nll(tiny_gpt2, input_ids, labels, positions).item()
        parts = [(masked_nll(tiny_gpt2, *t).item(), int((t[1] != -100).sum())) for t in (first, second)]
    assert together == pytest.approx(sum(l * n for l, n in parts) / sum(n for _, n in parts), abs=1e-5)


def test_lora_trains_only_its_adapters_and_starts_as_the_pretrained_model(tiny_gpt2, lab_data, tokenizer):
    from quizgen.lab import remedies

    before = {k: v.detach().clone() for k, v in tiny_gpt2.state_dict().items()}
    pairs = lab_data.finetune_train[:16]
    input_ids, labels, positions = packed(pairs, tokenizer.pad_token_id, "response")
    with torch.no_grad():
        start = masked_nll(tiny_gpt2, input_ids, labels, positions).item()
    adapted = remedies.with_lora(tiny_gpt2, rank=2, seed=0)
    with torch.no_grad():
        assert masked_nll(adapted, input_ids, labels, positions).item() == pytest.approx(start, abs=1e-6)
    assert 0 < remedies.trainable_parameters(adapted) < 0.3 * sum(p.numel() for p in adapted.parameters())
    run = train(adapted, pairs, steps=20, lr=1e-2, batch_size=16, pad_id=tokenizer.pad_token_id)
    assert run.losses[-1] < run.losses[0]
    merged = remedies.merged(adapted)
    assert set(merged.state_dict()) == set(before)
    # Frozen: every pre-trained tensor outside the adapted layers is unchanged; the adapted ones moved.
    changed = {k for k, v in merged.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.endswith("weight") and ".h." in k for k in changed)


def test_early_stopping_keeps_the_lowest_validation_loss_and_the_earliest_on_a_tie():
    from quizgen.lab.remedies import best_step, interpolated

    assert best_step({10: 0.5, 20: 0.3, 30: 0.3, 40: 0.9}) == 20
    theta_hat, theta_ft = {"w": torch.tensor([0.0, 2.0])}, {"w": torch.tensor([4.0, 2.0])}
    assert torch.equal(interpolated(theta_hat, theta_ft, 0.25)["w"], torch.tensor([1.0, 2.0]))


def test_rows_are_as_few_as_first_fit_gives_and_hold_every_sequence_once(lab_data, tokenizer):
    """A batch of the lab's 64 question/answer pairs (12–14 tokens) fills rows of 64 nearly full."""
    pairs = lab_data.finetune_train[:64]
    input_ids, labels, positions = packed(pairs, tokenizer.pad_token_id, "response", width=64)
    total = sum(len(s.ids) for s in pairs)
    assert input_ids.shape[1] <= 64
    assert input_ids.shape[0] <= math.ceil(total / 64) + 1  # filling in order took 16 rows for ~830 tokens
    # Each sequence starts where a position is 0 and ends before the next 0: read them back.
    found = []
    for row_ids, row_positions in zip(input_ids.tolist(), positions.tolist()):
        starts = [i for i, p in enumerate(row_positions) if p == 0] + [len(row_positions)]
        found += [tuple(row_ids[a:b]) for a, b in zip(starts, starts[1:])]
    real = [ids for ids in found if any(i != tokenizer.pad_token_id for i in ids)]
    assert sorted(real) == sorted(s.ids for s in pairs)
    assert int((labels != -100).sum()) == sum(len(s.ids) - s.prompt_len for s in pairs)


def test_a_batch_is_spread_evenly_over_its_rows(lab_data, tokenizer):
    """The lab's 16 pairs a step fill as few rows as first-fit does, but evenly: the fullest row sets the
    width every row is computed at, so first-fit's 64, 64, 64 and 13 tokens cost 256 positions for ~205."""
    for start in range(0, 160, 16):
        pairs = lab_data.finetune_train[start:start + 16]
        total = sum(len(s.ids) for s in pairs)
        input_ids, labels, _ = packed(pairs, tokenizer.pad_token_id, "response", width=64)
        rows, width = input_ids.shape
        assert rows == math.ceil(total / 64) or rows == math.ceil(total / 64) + 1
        assert width <= math.ceil(total / rows) + max(len(s.ids) for s in pairs)
        assert input_ids.numel() <= 1.1 * total
        assert int((labels != -100).sum()) == sum(len(s.ids) - s.prompt_len for s in pairs)


def test_a_sequence_longer_than_the_row_gets_a_row_of_its_own(lab_data, tokenizer):
    by_length = sorted(lab_data.pretraining[:200], key=lambda s: len(s.ids))
    short, long = by_length[0], by_length[-1]
    assert 2 * len(short.ids) < len(long.ids)
    input_ids, _, _ = packed([short, long, short], tokenizer.pad_token_id, "all", width=len(long.ids) - 1)
    assert input_ids.shape == (2, len(long.ids))  # the long one alone, the two short ones together
    assert input_ids[0].tolist() == list(long.ids)
