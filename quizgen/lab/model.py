"""The in-house base model: a small GPT-2, saved and loaded with Hugging Face's own format.

`load_model(DIR)` accepts any local causal-LM directory (config + weights + tokenizer), so a lab can
run on a model other than the shipped checkpoint.
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
        **(GPT2_SHAPE | shape),
    )


def random_model(config, seed: int):
    """A freshly initialised model from `config` (same seed, same weights)."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config, attn_implementation="eager")


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
    try:
        # Eager attention: at this size it is faster on CPU than SDPA and bit-reproducible.
        model = AutoModelForCausalLM.from_pretrained(path, attn_implementation="eager")
    except (OSError, ValueError) as error:
        raise QuizgenError(f"Could not load a causal language model from {path}: {error}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return LoadedModel(model.float(), tokenizer, path)


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
