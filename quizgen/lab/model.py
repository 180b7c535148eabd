"""The in-house base model: a small GPT-2, saved and loaded with Hugging Face's own format.

`quizgen lab pretrain` builds it, or a model of another architecture (`--arch llama`, `--arch gpt-neox`,
or any causal-LM `--config`), with the world's tokenizer. `load_model(DIR)` accepts any local causal-LM
directory (config + weights + tokenizer), so a lab can run on a model other than the shipped checkpoint;
a lab run first checks that such a model recalls MIN_RECALL of the world's facts
(`LabContext.check_knows_the_world`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from quizgen.errors import QuizgenError

CHECKPOINT_DIR = Path(__file__).parent / "checkpoint"
CHECKPOINT_INFO = "quizgen_checkpoint.json"

# ~0.85 M parameters: small enough to pre-train on 2 CPU cores in a few minutes.
GPT2_SHAPE = dict(n_embd=128, n_layer=4, n_head=4, n_positions=64)
# The same size in the other built-in architectures' terms (`quizgen lab pretrain --arch`).
SHAPE = dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512,
             max_position_embeddings=64)
ARCHITECTURES = ("gpt2", "llama", "gpt-neox")
# GPT-2's tanh-approximated GELU: the same function as transformers' "gelu_new" (to float rounding), where
# gelu_new's chain of elementwise operations took ~18% of a step. Loaded models compute it in the faster
# sigmoid form of quizgen.lab.activations.
GPT2_ACTIVATION = "gelu_pytorch_tanh"
MIN_POSITIONS = 64  # the loop packs sequences into rows of 64 tokens
# A model must recall this share of the world's facts before a lab fine-tunes it: the claims are about
# what fine-tuning does to knowledge pre-training stored (the shipped checkpoint recalls over 99%).
MIN_RECALL = 0.9


@dataclass
class LoadedModel:
    model: object  # a transformers PreTrainedModel
    tokenizer: object  # a transformers PreTrainedTokenizerBase
    directory: Path | None  # None for a model built in memory


def transformers_quiet() -> None:
    """Keep library advice (e.g. on attention masks, which the loop handles by design) and its
    loading/saving progress bars off the console; the labs show their own progress."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def gpt2_config(tokenizer, **shape):
    from transformers import GPT2Config

    # No dropout: the runs are short, and it keeps the training signal identical across arms.
    return GPT2Config(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        activation_function=GPT2_ACTIVATION,
        **(GPT2_SHAPE | shape),
    )


def architecture_config(arch: str, tokenizer):
    """A config of the built-in size for ``arch`` (one of ARCHITECTURES), for the world's tokenizer."""
    if arch == "gpt2":
        return gpt2_config(tokenizer)
    from transformers import GPTNeoXConfig, LlamaConfig

    if arch == "llama":
        config = LlamaConfig(num_key_value_heads=SHAPE["num_attention_heads"], attention_dropout=0.0,
                             tie_word_embeddings=True, **SHAPE)
    elif arch == "gpt-neox":
        config = GPTNeoXConfig(hidden_dropout=0.0, attention_dropout=0.0, tie_word_embeddings=True, **SHAPE)
    else:
        raise QuizgenError(f"unknown architecture '{arch}': pick one of {', '.join(ARCHITECTURES)}, or pass "
                           "a config.json with --config")
    return for_tokenizer(config, tokenizer)


def config_from_file(path: Path, tokenizer):
    """Any Hugging Face causal-LM config (a config.json, or a folder holding one), its vocabulary and
    special tokens set to the world's tokenizer; a plain error when it cannot be one."""
    from transformers import AutoConfig, AutoModelForCausalLM

    path = Path(path)
    file = path / "config.json" if path.is_dir() else path
    if not file.is_file():
        raise QuizgenError(f"--config {path}: no such file (give a Hugging Face config.json, or a folder holding one).")
    try:
        config = AutoConfig.from_pretrained(file)
    except (OSError, ValueError, KeyError) as error:
        raise QuizgenError(f"--config {path}: not a Hugging Face model config ({error}).") from None
    if type(config) not in AutoModelForCausalLM._model_mapping:
        raise QuizgenError(f"--config {path}: a {config.model_type} config has no causal language model in "
                           "transformers; pick a causal LM (GPT-2, Llama, GPT-NeoX, …).")
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if positions is not None and positions < MIN_POSITIONS:
        raise QuizgenError(f"--config {path}: {positions} positions; the labs need at least {MIN_POSITIONS} "
                           "(they train on rows of 64 tokens).")
    return for_tokenizer(config, tokenizer)


def for_tokenizer(config, tokenizer):
    """``config`` with the world tokenizer's vocabulary size and special tokens, and no dropout (the runs
    are short, and it keeps the training signal identical across arms)."""
    config.vocab_size = len(tokenizer)
    config.bos_token_id, config.eos_token_id = tokenizer.bos_token_id, tokenizer.eos_token_id
    config.pad_token_id = tokenizer.pad_token_id
    for name in ("hidden_dropout", "attention_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop", "dropout"):
        if hasattr(config, name):
            setattr(config, name, 0.0)
    return config


def random_model(config, seed: int):
    """A freshly initialised model from `config` (same seed, same weights)."""
    import torch
    from transformers import AutoModelForCausalLM

    from quizgen.lab.activations import with_fast_activations

    torch.manual_seed(seed)
    return with_fast_activations(AutoModelForCausalLM.from_config(config, attn_implementation="eager"))


def load_model(directory: str | Path | None = None) -> LoadedModel:
    """Load a local Hugging Face causal LM and its tokenizer; the shipped checkpoint by default."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(directory) if directory is not None else CHECKPOINT_DIR
    if not (path / "config.json").is_file():
        if directory is None:
            raise QuizgenError(
                f"The pre-trained checkpoint is missing from {path}; rebuild it with `quizgen lab pretrain`."
            )
        raise QuizgenError(f"{path} is not a Hugging Face model directory (it has no config.json).")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as error:
        raise QuizgenError(f"Could not load a tokenizer from {path}: {error}") from None
    if tokenizer.eos_token_id is None:
        raise QuizgenError(
            f"The tokenizer in {path} has no end-of-sequence token: the labs end every answer with one (and "
            "pad with it when there is no padding token). Set eos_token in its tokenizer_config.json, or "
            "pre-train a model with the world's tokenizer: `quizgen lab pretrain --out DIR`.")
    try:
        # Eager attention: at this size it is faster on CPU than SDPA and bit-reproducible.
        model = AutoModelForCausalLM.from_pretrained(path, attn_implementation="eager")
    except (OSError, ValueError) as error:
        raise QuizgenError(f"Could not load a causal language model from {path}: {error}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token  # padding is never a target, so any token will do
    from quizgen.lab.activations import with_fast_activations

    return LoadedModel(with_fast_activations(model.float()), tokenizer, path)


def save_model(loaded: LoadedModel, directory: Path, info: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    loaded.model.save_pretrained(directory)
    loaded.tokenizer.save_pretrained(directory)
    (directory / CHECKPOINT_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    # safetensors writes its file owner-only (0600); a checkpoint is shared data, readable like the rest
    # of the package (by a grader or a learner running as another user).
    umask = os.umask(0)
    os.umask(umask)
    for path in directory.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~umask)


def checkpoint_info(directory: Path | None = None) -> dict | None:
    """The metadata `quizgen lab pretrain` wrote next to a checkpoint, if any."""
    path = (directory or CHECKPOINT_DIR) / CHECKPOINT_INFO
    return json.loads(path.read_text()) if path.is_file() else None


def model_fingerprint(directory: str | Path | None = None) -> str:
    """A hash of every file in a model directory: the model's identity in cache keys (no torch needed)."""
    path = Path(directory) if directory is not None else CHECKPOINT_DIR
    digest = hashlib.sha256()
    if not path.is_dir():
        return "missing"
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:16]
