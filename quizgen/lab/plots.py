"""The figures the site shows beside a lab's claims, as SVG bytes (matplotlib, Agg backend).

Every figure is drawn for a phone's column: 3.3 × 2.5 inches, which a browser shows 317 × 240 px (the
SVG's size is in points, 72 to the inch, and a CSS pixel is 1/96 inch), with 8- to 10-point text, so that
in the 300 px a 390 px wide phone gives a plot the labels are 11–12 px high and none overlaps another.
SVG stays sharp at any zoom, and with its text kept as text it is small: under 25 kB a figure, where the
640 × 400 PNGs these replaced took 20–73 kB. The text names fonts down to `sans-serif`, so a browser
without DejaVu Sans (which the layout is measured with) draws it in a narrower sans-serif font, never a
wider one. Legends sit above the axes, not over the data; bars carry their values where there are few
enough to read; log axes read "100", "1 k", "0.01", never "10⁻²". Colours are the Okabe–Ito palette,
which colour-blind readers tell apart, on a white background, so a figure stays legible on a dark page.
"""

from __future__ import annotations

import functools
import io
import math

WIDTH, HEIGHT = 3.3, 2.5  # inches: 317 × 240 CSS px
# Okabe & Ito's colour-blind safe palette (black left out: it is the text's colour).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
STYLES = ("-", "--", ":", "-.")
STYLE = {
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "legend.fontsize": 9, "legend.frameon": False, "axes.spines.top": False, "axes.spines.right": False,
    "figure.facecolor": "white", "axes.facecolor": "white", "savefig.facecolor": "white",
    "svg.fonttype": "none",  # text as text: half the bytes of text drawn as paths
    # Element ids from a fixed salt, and no date: the same results give byte-identical files.
    "svg.hashsalt": "quizgen-lab-plot",
}
LEGEND_CHARACTERS = 33  # about what one legend row holds across the figure at 9 points
MAX_LABELLED_BARS = 8  # more bars than this and their value labels collide; the page lists the values


def _drawn(draw):
    """A figure function drawn with the lab's style and returned as SVG bytes."""
    @functools.wraps(draw)
    def figure(*args, **kwargs) -> bytes:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from cycler import cycler

        with plt.rc_context(STYLE | {"axes.prop_cycle": cycler(color=COLOURS)}):
            fig = draw(*args, **kwargs)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
        return buffer.getvalue()
    return figure


def _axes(width: float = WIDTH, height: float = HEIGHT):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), layout="constrained")


def _legend_above(ax, handles=None, labels=None) -> None:
    """The legend in rows above the axes, where it covers no data, in as many columns as fit."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    columns = len(labels)
    while columns > 1:
        widths = [max(len(label) + 5 for label in labels[column::columns]) for column in range(columns)]
        if sum(widths) <= LEGEND_CHARACTERS:
            break
        columns -= 1
    ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.02), ncols=columns, borderaxespad=0.0,
              handlelength=1.8, columnspacing=1.2)


def _plain_log(axis, subs: tuple[float, ...] = (1.0,)) -> None:
    """A log axis labelled with plain numbers at its powers of ten (times ``subs``), no minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: short(value)))
    axis.set_minor_formatter(NullFormatter())


def _label_bars(ax, bars, values: list[float], over_lines: bool = False) -> None:
    """Each bar's value above it; ``over_lines`` gives the labels a white ground, for a line they may cross."""
    ground = {"bbox": {"facecolor": "white", "edgecolor": "none", "pad": 0.5}} if over_lines else {}
    ax.bar_label(bars, labels=[short(value) for value in values], padding=2, fontsize=8, **ground)


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def short(value: float) -> str:
    """A number as a figure prints it: 2 or 3 significant digits, thousands as k and millions as M, and a
    tiny number as 5.6×10⁻⁶."""
    if value is None or not math.isfinite(value):
        return ""
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.3g} M".replace("-", "−")
    if size >= 1e3:
        return f"{value / 1e3:.3g} k".replace("-", "−")
    if size >= 0.001:
        return (f"{value:.3g}" if size >= 10 else f"{value:.2g}").replace("-", "−")
    mantissa, exponent = f"{size:.1e}".split("e")
    return f"{'−' if value < 0 else ''}{mantissa.removesuffix('.0')}×10{str(int(exponent)).translate(SUPERSCRIPTS)}"


@_drawn
def loss_curves(curves: dict[str, list[float]], strides: dict[str, int] | None = None,
                ylabel: str = "training loss per token"):
    """One line per run: training loss against step (a stride says a curve keeps every k-th step); each
    later curve is drawn over the earlier ones in its own dash, so a short run shows over a long one."""
    fig, ax = _axes()
    for index, (name, losses) in enumerate(curves.items()):
        stride = (strides or {}).get(name, 1)
        ax.plot([1 + i * stride for i in range(len(losses))], losses, label=name, linewidth=1.6,
                linestyle=STYLES[index % len(STYLES)], zorder=3 + index)
    ax.set(xlabel="step", ylabel=ylabel, yscale="log")
    _plain_log(ax.yaxis)
    _legend_above(ax)
    return fig


@_drawn
def arm_bars(arms: dict[str, dict], metric_names: dict[str, str], ylabel: str = "share correct",
             reference: tuple[str, float] | None = None, log: bool = False):
    """Grouped bars: for each metric, one bar per arm (with its value, when few and on a linear scale, where
    the labels have room); ``reference`` (label, value) is a dashed line across, such as the accuracy of
    guessing."""
    fig, ax = _axes()
    width = 0.84 / max(1, len(arms))
    for index, (arm, values) in enumerate(arms.items()):
        positions = [m + (index - (len(arms) - 1) / 2) * width for m in range(len(metric_names))]
        heights = [values.get(name, 0.0) for name in metric_names]
        bars = ax.bar(positions, heights, width, label=arm)
        if len(arms) * len(metric_names) <= MAX_LABELLED_BARS and not log:
            _label_bars(ax, bars, heights)
    if reference is not None:
        ax.axhline(reference[1], color="black", linestyle="--", linewidth=1, label=reference[0])
    ax.set_xticks(range(len(metric_names)), list(metric_names.values()))
    ax.set(ylabel=ylabel)
    if log:
        ax.set_yscale("log")
        _plain_log(ax.yaxis)
    else:
        ax.set_ylim(0, 1.1)
    _legend_above(ax)
    return fig


@_drawn
def arm_rows(arms: dict[str, dict], metric_names: dict[str, str], xlabel: str = "share correct"):
    """Many arms: one row per arm (named on the left, where long names fit), one bar per metric."""
    fig, ax = _axes(WIDTH, 1.1 + 0.42 * len(arms))
    height = 0.8 / max(1, len(metric_names))
    rows = list(arms)
    for index, (name, label) in enumerate(metric_names.items()):
        positions = [r + (index - (len(metric_names) - 1) / 2) * height for r in range(len(rows))]
        ax.barh(positions, [arms[row].get(name, 0.0) for row in rows], height, label=label)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()  # the first arm on top, as written
    ax.set(xlim=(0, 1.0), xlabel=xlabel)
    ax.grid(axis="x", linewidth=0.5, alpha=0.5)
    _legend_above(ax)
    return fig


@_drawn
def value_bars(values: dict[str, float], ylabel: str, log: bool = False,
               reference: tuple[str, float] | None = None):
    """One bar per named value, each labelled with it (a log scale for values orders of magnitude apart);
    ``reference`` (label, value) is a dashed line across, such as a uniform guess's perplexity, named with
    its value in the legend."""
    fig, ax = _axes()
    names = list(values)
    heights = [values[name] for name in names]
    bars = ax.bar(range(len(names)), heights, 0.6, color=[COLOURS[i % len(COLOURS)] for i in range(len(names))])
    _label_bars(ax, bars, heights, over_lines=reference is not None)
    top = max(heights + ([reference[1]] if reference else []))
    if reference is not None:
        ax.axhline(reference[1], color="black", linestyle="--", linewidth=1, zorder=1,
                   label=f"{reference[0]}: {short(reference[1])}")
        _legend_above(ax)
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel=ylabel)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(min(heights) / 3, top * 4)  # room for the labels above the bars
        _plain_log(ax.yaxis)
    else:
        ax.set_ylim(0, top * 1.15)
    return fig


@_drawn
def recall_vs_drift(points: list[dict]):
    """The learning/forgetting trade-off: each grid point's recall (solid) and held-out accuracy (dashed)
    against its drift, one colour per learning rate (its points, more steps further right)."""
    from matplotlib.lines import Line2D

    fig, ax = _axes()
    handles, labels = [], []
    for index, lr in enumerate(sorted({p["lr"] for p in points})):
        row = sorted((p for p in points if p["lr"] == lr), key=lambda p: p["steps"])
        drift = [p["relative_drift"] for p in row]
        colour = COLOURS[index % len(COLOURS)]
        ax.plot(drift, [p["recall"] for p in row], "o-", color=colour)
        ax.plot(drift, [p["heldout_accuracy"] for p in row], "s--", color=colour)
        handles.append(Line2D([], [], color=colour, linewidth=6))
        labels.append(f"lr {lr:g}")
    handles += [Line2D([], [], color="black", marker="o"), Line2D([], [], color="black", marker="s", linestyle="--")]
    labels += ["fact recall", "held-out"]
    ax.set(xlabel="drift ‖θ−θ̂‖/‖θ̂‖ (log scale)", ylabel="share correct", ylim=(0, 1.05), xscale="log")
    _plain_log(ax.xaxis, subs=(1.0, 2.0, 5.0))
    _legend_above(ax, handles, labels)
    return fig


@_drawn
def interpolation(points: list[dict], end: str):
    """Interpolating θ = (1−α)·θ̂ + α·θ_end (WiSE-FT: θ_end is a fine-tuned model, called ``end``)."""
    fig, ax = _axes()
    alphas = [p["alpha"] for p in points]
    ax.plot(alphas, [p["recall"] for p in points], "o-", label="fact recall")
    ax.plot(alphas, [p["heldout_accuracy"] for p in points], "s--", label="held-out questions")
    ax.plot(alphas, [p["train_accuracy"] for p in points], "^:", label="training questions")
    ax.set(xlabel=f"α  (0: pre-trained θ̂, 1: {end})", ylabel="share correct", ylim=(0, 1.05))
    ax.set_xticks(alphas)
    _legend_above(ax)
    return fig


@_drawn
def validation_curve(steps: list[int], losses: list[float], stopped_at: int):
    """Early stopping: the validation loss at each look, and the step whose weights are kept."""
    fig, ax = _axes()
    ax.plot(steps, losses, "o-", markersize=3, label="validation loss")
    ax.axvline(stopped_at, color="black", linestyle="--", linewidth=1, label=f"kept: step {stopped_at}")
    ax.set(xlabel="step", ylabel="loss per response token")
    _legend_above(ax)
    return fig


@_drawn
def drift_per_layer(arms: dict[str, dict[str, float]]):
    """Each arm's drift from θ̂, part by part (log scale: the arms differ tenfold)."""
    fig, ax = _axes()
    for index, (arm, layers) in enumerate(arms.items()):
        names = [name.replace("layer_", "block ") for name in layers]
        ax.plot(names, list(layers.values()), ("o-", "s--", "^:")[index % 3], label=arm)
    ax.set(ylabel="drift ‖θ−θ̂‖/‖θ̂‖", yscale="log")
    _plain_log(ax.yaxis)
    ax.tick_params(axis="x", labelrotation=30)
    _legend_above(ax)
    return fig


@_drawn
def logprob_bars(before_after: dict[str, tuple[float, float]]):
    """Mean log Pr(y|x) before and after fine-tuning, per response set, each bar with its value."""
    fig, ax = _axes()
    names = list(before_after)
    for offset, label, which in ((-0.2, "before fine-tuning", 0), (0.2, "after", 1)):
        heights = [before_after[name][which] for name in names]
        bars = ax.bar([i + offset for i in range(len(names))], heights, 0.4, label=label)
        _label_bars(ax, bars, heights)
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel="mean log Pr(y|x)")
    ax.axhline(0, color="black", linewidth=0.6)
    low = min(value for pair in before_after.values() for value in pair)
    ax.set_ylim(low * 1.15, -low * 0.12)
    _legend_above(ax)
    return fig
