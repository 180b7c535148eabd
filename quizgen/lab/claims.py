"""Claims: named, readable conditions over a lab's metrics, each checked against measured values.

A condition is a comparison written as text, so that a lab file reads like the course it backs:

    Claim("aggressive-forgets", "Aggressive fine-tuning erases what pre-training stored.",
          "aggressive.recall <= 0.4", "moderate.recall >= 0.85")

Each side names a metric (dotted, e.g. `moderate.relative_drift`) or a number; the right side may be
scaled, as in `aggressive.relative_drift >= 5 * moderate.relative_drift`. `==` also compares text,
as in `pretraining.loop == finetuning.loop`.

A claim may also say, for the site's lab panel, what was run (`run=`) and which of the lab's plots shows
it (`plot=Plot(file, caption, alt)`); those texts may name measured values as `{moderate.recall}`, which
the site fills in. They travel with the claim's result (`ClaimResult.to_json`), so the site needs nothing
but the cached results.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

COMPARISONS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}
_NAME = r"[A-Za-z_][\w-]*(?:\.[\w-]+)*"
_NUMBER = r"-?\d+(?:\.\d*)?(?:e-?\d+)?"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_CONDITION = re.compile(
    rf"^\s*(?P<left>{_NAME})\s*(?P<op><=|>=|==|<|>)\s*(?:(?P<factor>{_NUMBER})\s*\*\s*)?(?P<right>{_NAME}|{_NUMBER})\s*$"
)


def flatten(metrics: dict, prefix: str = "") -> dict[str, float | str]:
    """Nested metrics -> {dotted name: number or text}; lists (loss curves) are not addressable."""
    flat: dict[str, float | str] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, name + ".")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value)
        elif isinstance(value, str):
            flat[name] = value
    return flat


@dataclass(frozen=True)
class Condition:
    text: str
    left: str
    op: str
    factor: float
    right: str  # a metric name or a number, as written

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text)
        if not match:
            raise ValueError(f"cannot read the condition {text!r}; write e.g. 'moderate.recall >= 0.85'")
        factor = float(match["factor"]) if match["factor"] else 1.0
        return cls(text.strip(), match["left"], match["op"], factor, match["right"])

    def metric_names(self) -> list[str]:
        return [self.left] + ([] if _is_number(self.right) else [self.right])

    def holds(self, values: dict[str, float | str]) -> bool:
        left = values[self.left]
        right = float(self.right) if _is_number(self.right) else values[self.right]
        if isinstance(left, str) or isinstance(right, str):
            # Text is only ever equal or not; a scale or an ordering of text means nothing.
            return self.op == "==" and self.factor == 1.0 and left == right
        return COMPARISONS[self.op](left, self.factor * right)


    def margin(self, values: dict[str, float | str | None]) -> float | None:
        """How far the condition is from failing, in the left side's units (negative: it fails by that
        much); None for text, equality or a value not measured."""
        right = float(self.right) if _is_number(self.right) else values.get(self.right)
        left = values.get(self.left)
        if self.op == "==" or not all(isinstance(v, (int, float)) for v in (left, right)):
            return None
        bound = self.factor * right
        return left - bound if self.op in (">=", ">") else bound - left

    def bound(self, values: dict[str, float | str | None]) -> float | None:
        """The number the left side is compared with (the right side, scaled)."""
        right = float(self.right) if _is_number(self.right) else values.get(self.right)
        return self.factor * right if isinstance(right, (int, float)) else None


def _is_number(text: str) -> bool:
    return re.fullmatch(_NUMBER, text) is not None


def placeholders(text: str) -> list[str]:
    """The metric names a text's ``{metric}`` placeholders name; a ValueError for one that names none."""
    names = _PLACEHOLDER.findall(text)
    for name in names:
        if not re.fullmatch(_NAME, name):
            raise ValueError(f"{{{name}}} in {text!r} names no metric; write e.g. {{moderate.recall}}")
    return names


@dataclass(frozen=True)
class Plot:
    """The plot that shows a claim on the site: a file the lab's run writes with ``lab.figure``, a caption
    that says what to look at, and alt text that states what the plot shows, for readers who cannot see it
    (the finding, with its numbers: "Fact recall falls from {pretrained.recall} to {aggressive.recall}")."""

    file: str
    caption: str
    alt: str

    def __post_init__(self):
        if not re.fullmatch(r"[\w.-]+\.(svg|png)", self.file):
            raise ValueError(f"a plot is a file name ending in .svg or .png, not {self.file!r}")
        if not self.caption.strip() or not self.alt.strip():
            raise ValueError(f"the plot {self.file!r} needs a caption (what to look at) and alt text (what it shows)")
        placeholders(self.caption), placeholders(self.alt)

    def to_json(self) -> dict:
        return {"file": self.file, "caption": self.caption, "alt": self.alt}


@dataclass(frozen=True)
class ClaimResult:
    name: str
    description: str
    passed: bool
    conditions: list[tuple[str, bool]]  # each condition's text and whether it held
    values: dict[str, float | str | None]  # every metric the conditions read; None when not measured
    run: str = ""  # what was run, in plain words, for the site
    plot: Plot | None = None  # the plot that shows the claim

    def to_json(self) -> dict:
        return {
            "name": self.name, "description": self.description, "passed": self.passed,
            "conditions": [{"condition": text, "holds": held} for text, held in self.conditions],
            "values": self.values, "run": self.run, "plot": self.plot.to_json() if self.plot else None,
        }


class Claim:
    """A named statement the course makes, and the conditions on the lab's metrics that back it; for the
    site's lab panel, what was run (``run``, plain words) and the plot that shows it (``plot``)."""

    def __init__(self, name: str, description: str, *conditions: str, run: str = "", plot: Plot | None = None):
        if not conditions:
            raise ValueError(f"claim {name!r} has no condition")
        self.name = name
        self.description = description
        self.conditions = [Condition.parse(text) for text in conditions]
        placeholders(run)
        self.run = run
        self.plot = plot

    def __repr__(self) -> str:
        return f"Claim({self.name!r}: {' and '.join(c.text for c in self.conditions)})"

    def metric_names(self) -> list[str]:
        return list(dict.fromkeys(n for c in self.conditions for n in c.metric_names()))

    def evaluate(self, metrics: dict) -> ClaimResult:
        flat = flatten(metrics)
        values = {name: flat.get(name) for name in self.metric_names()}
        outcomes = []
        for condition in self.conditions:
            measured = all(values[n] is not None for n in condition.metric_names())
            outcomes.append((condition.text, measured and condition.holds(values)))
        return ClaimResult(
            self.name, self.description, all(held for _, held in outcomes), outcomes, values, self.run, self.plot
        )
