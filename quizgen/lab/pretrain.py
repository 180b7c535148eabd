"""Pre-training the in-house base model: `quizgen lab pretrain` runs this and writes the checkpoint."""

from __future__ import annotations

import time
from pathlib import Path

# 1,500 steps of ~2,000 tokens: memorisation of every fact is a sudden transition, and this schedule
# gets past it on every seed the prototype tried (recall 0.99–1.0).
PRETRAIN_CONFIG = dict(
    seed=0,
    steps=1500,
    lr=5e-3,
    warmup_steps=100,
    min_lr_ratio=0.1,
    batch_size=240,  # sentences per step, ~2,000 tokens, packed into rows of 64
    weight_decay=0.0,
    loss_on="all",
)
REBUILD_COMMAND = "quizgen lab pretrain"
LOSS_CURVE_POINTS = 150


def pretrain(out_dir: Path, *, seed: int, threads: int, device: str, steps: int | None = None,
             arch: str = "gpt2", config_path: Path | None = None) -> dict:
    """Pre-train a model of ``arch`` (or of the config at ``config_path``) from random weights on the
    world's corpus with PRETRAIN_CONFIG, and save it with its record at ``out_dir``."""
    import torch

    from quizgen.lab import cache, data, metrics, model, world
    from quizgen.lab.train import train

    torch.set_num_threads(threads)
    config = PRETRAIN_CONFIG | {"seed": seed} | ({"steps": steps} if steps else {})
    started = time.perf_counter()
    tokenizer = world.build_tokenizer()
    lab_data = data.build_lab_data(tokenizer)
    if config_path is not None:
        model_config = model.config_from_file(config_path, tokenizer)
    else:
        model_config = model.architecture_config(arch, tokenizer)
    base = model.LoadedModel(model.random_model(model_config, seed), tokenizer, None)
    built_in = config_path is None and arch == "gpt2"
    shape = model.GPT2_SHAPE if built_in else {k: v for k, v in model_config.to_dict().items()
                                               if k != "transformers_version"}
    run = train(
        base.model, lab_data.pretraining, device=device, pad_id=tokenizer.pad_token_id, desc="pre-training",
        **{k: config[k] for k in ("steps", "lr", "warmup_steps", "min_lr_ratio", "batch_size", "weight_decay", "loss_on", "seed")},
    )
    evaluation = metrics.evaluate(base.model, lab_data, reference=None, device=device, pad_id=tokenizer.pad_token_id)
    stride = max(1, len(run.losses) // LOSS_CURVE_POINTS)
    info = {
        "config": config,
        "config_hash": cache.settings_hash(
            config | {"model": shape, "data_pipeline_version": world.DATA_PIPELINE_VERSION}
        ),
        "model_type": model_config.model_type,
        "data_pipeline_version": world.DATA_PIPELINE_VERSION,
        "rebuild_command": REBUILD_COMMAND,
        "parameters": sum(p.numel() for p in base.model.parameters()),
        "corpus_sequences": len(lab_data.pretraining),
        "corpus_tokens": sum(len(s.ids) for s in lab_data.pretraining),
        "recall": evaluation["recall"],
        "perplexity": evaluation["perplexity"],
        "heldout_accuracy": evaluation["heldout_accuracy"],
        "run": run.summary() | {"loss_curve": run.losses[::stride], "loss_curve_stride": stride},
        "threads": threads,
        "device": device,
        "libraries": cache.library_versions(),
        "wall_s": time.perf_counter() - started,
    }
    base.model.to("cpu")
    model.save_model(base, Path(out_dir), info)
    return info
