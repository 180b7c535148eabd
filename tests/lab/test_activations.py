"""The sigmoid form of GPT-2's tanh-approximated GELU that loaded models compute on a CPU."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from quizgen.lab.activations import GELUTanh, with_fast_activations  # noqa: E402


def test_it_is_torch_s_tanh_gelu_in_value_and_gradient():
    x = torch.linspace(-12, 12, 20001)
    assert torch.allclose(GELUTanh()(x), torch.nn.functional.gelu(x, approximate="tanh"), atol=1e-6, rtol=1e-6)
    wide = (torch.randn(64, 32, dtype=torch.float64) * 4).requires_grad_()
    assert torch.autograd.gradcheck(GELUTanh(), (wide,))
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    GELUTanh()(ours).sum().backward()
    torch.nn.functional.gelu(theirs, approximate="tanh").sum().backward()
    assert torch.allclose(ours.grad, theirs.grad, atol=1e-5)


def test_without_a_gradient_it_computes_in_place_and_leaves_its_input_alone():
    x = torch.randn(8, 16)
    before = x.clone()
    with torch.inference_mode():
        y = GELUTanh()(x)
    assert torch.equal(x, before)
    assert torch.allclose(y, torch.nn.functional.gelu(before, approximate="tanh"), atol=1e-6)


def test_loaded_and_fresh_models_use_it_with_the_same_outputs(tiny_gpt2, lab_data, tokenizer):
    from transformers import activations

    from quizgen.lab.data import packed
    from quizgen.lab.model import load_model

    assert any(isinstance(m, GELUTanh) for m in tiny_gpt2.modules())
    assert any(isinstance(m, GELUTanh) for m in load_model().model.modules())
    slow = type(tiny_gpt2)(tiny_gpt2.config)
    slow.load_state_dict(tiny_gpt2.state_dict())
    assert any(isinstance(m, activations.GELUTanh) for m in slow.modules())
    input_ids, _, positions = packed(lab_data.finetune_train[:8], tokenizer.pad_token_id, "response")
    with torch.no_grad():
        expected = slow(input_ids=input_ids, position_ids=positions).logits
        assert torch.allclose(tiny_gpt2(input_ids=input_ids, position_ids=positions).logits, expected, atol=1e-5)
        assert torch.allclose(with_fast_activations(slow)(input_ids=input_ids, position_ids=positions).logits,
                              expected, atol=1e-5)
