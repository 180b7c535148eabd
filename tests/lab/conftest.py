"""Shared fixtures: the world's tokenizer and models small enough to train in a second."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tokenizer():
    from quizgen.lab.world import build_tokenizer

    return build_tokenizer()


@pytest.fixture(scope="session")
def lab_data(tokenizer):
    from quizgen.lab.data import build_lab_data

    return build_lab_data(tokenizer)


@pytest.fixture
def tiny_gpt2(tokenizer):
    import torch

    from quizgen.lab.model import gpt2_config, random_model

    torch.set_num_threads(1)
    return random_model(gpt2_config(tokenizer, n_embd=16, n_layer=2, n_head=2), seed=0)


@pytest.fixture
def tiny_llama_dir(tmp_path, tokenizer):
    """A different architecture, saved as any local Hugging Face causal-LM directory would be."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    directory = tmp_path / "tiny-llama"
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
