"""What practitioners do to fine-tune hard without forgetting, each as the papers define it:

- LoRA (Hu et al. 2022): freeze θ̂ and train a low-rank update of every linear layer (the `peft` library);
- L2-SP (Li et al. 2018): add λ·‖θ−θ̂‖² to the loss, a pull towards the starting point rather than 0;
- replay / data mixing: pre-training text joins every fine-tuning batch (the loop's `replay_per_step`);
- early stopping: keep the weights of the step with the lowest loss on a validation split;
- WiSE-FT (Wortsman et al. 2022): average the weights, θ(α) = (1−α)·θ̂ + α·θ_ft, of the pre-trained and a
  fine-tuned model.
"""

from __future__ import annotations

LORA_TARGETS = "all-linear"  # every linear layer of the blocks (not the output head), as peft names it


def with_lora(model, rank: int, seed: int):
    """``model`` wrapped by peft with rank-``rank`` adapters (α = 2·rank, no dropout); only they train.
    Their random half (A) is drawn from ``seed``; B starts at 0, so the wrapped model starts as θ̂."""
    import warnings

    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=LORA_TARGETS, bias="none",
                        fan_in_fan_out=model.config.model_type == "gpt2")  # GPT-2's Conv1D stores W transposed
    with warnings.catch_warnings():  # peft asks transformers a deprecated question; nothing for a learner to do
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, config)


def merged(lora_model):
    """The plain model whose weights are θ̂ + B·A: what evaluation and drift look at."""
    return lora_model.merge_and_unload()


def trainable_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def l2_sp(reference: dict, strength: float):
    """penalty(model) = strength · Σ ‖θ − θ̂‖² over the trained parameters (θ̂ = ``reference``)."""
    def penalty(model):
        total = 0.0
        for name, parameter in model.named_parameters():
            if parameter.requires_grad:
                total = total + (parameter - reference[name].to(parameter.device)).square().sum()
        return strength * total

    return penalty


def interpolated(reference: dict, finetuned: dict, alpha: float) -> dict:
    """WiSE-FT's weights: (1 − α)·θ̂ + α·θ_ft, parameter by parameter."""
    return {name: (1 - alpha) * reference[name] + alpha * value for name, value in finetuned.items()}


def best_step(validation_losses: dict[int, float]) -> int:
    """Early stopping: the step whose validation loss is lowest (the earliest, on a tie)."""
    return min(sorted(validation_losses), key=lambda step: validation_losses[step])
