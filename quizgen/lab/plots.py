"""The figures the site and the notebooks show, as PNG bytes (matplotlib, Agg backend)."""

from __future__ import annotations

import io


def _figure(width: float = 6.4, height: float = 4.0):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    # No software/date metadata: the same results give byte-identical files.
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def loss_curves(curves: dict[str, list[float]], title: str, strides: dict[str, int] | None = None) -> bytes:
    """One line per run: training loss against step (a stride says a curve keeps every k-th step)."""
    fig, ax = _figure()
    for name, losses in curves.items():
        stride = (strides or {}).get(name, 1)
        ax.plot([1 + i * stride for i in range(len(losses))], losses, label=name)
    ax.set(xlabel="step", ylabel="training loss (mean −log Pr per target token)", title=title, yscale="log")
    ax.legend()
    return _png(fig)


def arm_bars(arms: dict[str, dict], metric_names: dict[str, str], title: str) -> bytes:
    """Grouped bars: for each metric, one bar per arm."""
    fig, ax = _figure(7.2, 4.0)
    width = 0.8 / max(1, len(arms))
    for index, (arm, values) in enumerate(arms.items()):
        positions = [m + index * width for m in range(len(metric_names))]
        ax.bar(positions, [values.get(name, 0.0) for name in metric_names], width, label=arm)
    ax.set_xticks([m + width * (len(arms) - 1) / 2 for m in range(len(metric_names))], list(metric_names.values()))
    ax.set(ylim=(0, 1.05), title=title)
    ax.legend(fontsize="small")
    return _png(fig)


def recall_vs_drift(points: list[dict], title: str) -> bytes:
    """The learning/forgetting trade-off: each grid point's recall and held-out accuracy against its drift."""
    fig, ax = _figure()
    for lr in sorted({p["lr"] for p in points}):
        row = sorted((p for p in points if p["lr"] == lr), key=lambda p: p["steps"])
        drift = [p["relative_drift"] for p in row]
        line = ax.plot(drift, [p["recall"] for p in row], "o-", label=f"recall, lr {lr:g}")[0]
        ax.plot(drift, [p["heldout_accuracy"] for p in row], "s--", color=line.get_color(),
                label=f"held-out accuracy, lr {lr:g}")
        for p in row:
            ax.annotate(f"{p['steps']}", (p["relative_drift"], p["recall"]), xytext=(3, 4),
                        textcoords="offset points", fontsize="x-small")
    ax.set(xlabel="relative drift ‖θ−θ₀‖/‖θ₀‖ (points labelled with steps)", ylabel="share correct",
           ylim=(0, 1.05), title=title, xscale="log")
    ax.legend(fontsize="x-small")
    return _png(fig)


def alpha_sweep(points: list[dict], title: str, end: str = "aggressive") -> bytes:
    """Interpolating θ = (1−α)·θ_pre-trained + α·θ_end (the aggressive model, or WiSE-FT's fine-tuned one)."""
    fig, ax = _figure()
    alphas = [p["alpha"] for p in points]
    ax.plot(alphas, [p["recall"] for p in points], "o-", label="fact recall")
    ax.plot(alphas, [p["heldout_accuracy"] for p in points], "s-", label="held-out task accuracy")
    ax.plot(alphas, [p["train_accuracy"] for p in points], "^-", label="training task accuracy")
    ax.set(xlabel=f"α (0 = pre-trained, 1 = {end})", ylabel="share correct", ylim=(0, 1.05), title=title)
    ax.legend()
    return _png(fig)


def validation_curve(steps: list[int], losses: list[float], stopped_at: int, title: str) -> bytes:
    """Early stopping: the validation loss at each look, and the step whose weights are kept."""
    fig, ax = _figure()
    ax.plot(steps, losses, "o-", label="validation loss (half of the held-out people)")
    ax.axvline(stopped_at, color="grey", linestyle="--", label=f"kept: step {stopped_at}")
    ax.set(xlabel="step", ylabel="mean −log Pr per response token", title=title)
    ax.legend()
    return _png(fig)


def drift_per_layer(arms: dict[str, dict[str, float]], title: str) -> bytes:
    fig, ax = _figure()
    for arm, layers in arms.items():
        ax.plot(list(layers), list(layers.values()), "o-", label=arm)
    ax.set(ylabel="relative drift", title=title, yscale="log")
    ax.legend()
    return _png(fig)


def logprob_bars(before_after: dict[str, tuple[float, float]], title: str) -> bytes:
    """Mean log Pr(y|x) before and after fine-tuning, per response set."""
    fig, ax = _figure()
    names = list(before_after)
    ax.bar([i - 0.2 for i in range(len(names))], [before_after[n][0] for n in names], 0.4, label="before")
    ax.bar([i + 0.2 for i in range(len(names))], [before_after[n][1] for n in names], 0.4, label="after")
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel="mean log Pr(y|x)", title=title)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend()
    return _png(fig)
