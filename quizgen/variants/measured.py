"""Answers the labs measure: a numeric question with ``metric=`` and no ``answer=`` takes its key from
the lab's cached runs, one per fine-tuning seed, before any output is rendered.

A generated question reads a lab **grid**: its metric is ``<grid>.<name>`` (``grid.recall``) where the
lab's GRIDS declares ``<grid>`` and its axes (``{"grid": {"lr": GRID_LRS, "steps": GRID_STEPS}}``), and
its parameters are those axes, so each variant reads the grid point of its values. Any other metric is a
dotted path into the lab's metrics, the same for every variant.

A variant's answer is the median of its measurements over the seeds; a variant whose measurements spread
beyond the question's tolerance around that median is not stable enough to grade a learner by, and is
dropped with the reason said. A question left with fewer than two variants (one, for a question without
parameters) is a problem: `quizgen verify` fails on it and a build leaves the question out. Nothing here
imports torch: the cached results are plain JSON.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from quizgen.errors import Diagnostic
from quizgen.formats.notation import number

GRIDS = "GRIDS"  # the lab.py constant that declares its grids: {grid metric: {axis: values}}
SIGNIFICANT_DIGITS = 4  # a measured key is the median rounded to this many digits


@dataclass
class VariantReport:
    label: str  # "lr=0.001, steps=120", or "" for a question without parameters
    measured: list[float | None]  # one per seed; None where the lab has no such measurement
    answer: float | None = None
    reason: str | None = None  # why the variant was dropped; None when it is kept


@dataclass
class QuestionReport:
    path: str
    line: int
    question_id: str
    lab: str
    metric: str
    seeds: list[int]
    variants: list[VariantReport] = field(default_factory=list)

    @property
    def usable(self) -> list[VariantReport]:
        return [variant for variant in self.variants if variant.reason is None]

    @property
    def needed(self) -> int:
        return 2 if len(self.variants) > 1 else 1

    def problem(self) -> Diagnostic | None:
        if len(self.usable) >= self.needed:
            return None
        if not self.seeds:
            return Diagnostic(self.path, self.line, f"question '{self.question_id}' takes its answer from lab "
                              f"{self.lab} ({self.metric}), which has no cached run: run `quizgen verify`")
        reasons = "; ".join(f"{v.label or 'the answer'}: {v.reason}" for v in self.variants if v.reason)
        return Diagnostic(self.path, self.line, f"question '{self.question_id}': {len(self.usable)} of "
                          f"{len(self.variants)} variants measured stably on seed(s) {_seeds(self.seeds)}, at least "
                          f"{self.needed} needed ({reasons})")

    def summary(self) -> str:
        dropped = [v for v in self.variants if v.reason]
        text = (f"{self.path}:{self.line}: question '{self.question_id}': {len(self.usable)} of {len(self.variants)} "
                f"variants usable ({self.metric}, lab {self.lab}, seed(s) {_seeds(self.seeds)})")
        return text + "".join(f"\n    dropped {v.label}: {v.reason}" for v in dropped)


def _seeds(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds)) if len(seeds) < 4 else f"{seeds[0]}–{seeds[-1]}"


def measured_questions(course):
    """(concept, question) for every question whose answer a lab measures."""
    return [(concept, question) for concept, question in course.questions if getattr(question, "answer", 0) is None]


def grid_point(metrics: dict, grid: str, axes: dict, values: dict) -> dict | None:
    """The point of ``metrics[grid]`` (a list of dicts) whose axis values are the variant's."""
    for point in metrics.get(grid) or ():
        if all(_same(point.get(axis), values.get(axis)) for axis in axes):
            return point
    return None


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def measurement(results: dict, metric: str, values: dict) -> float | None:
    """What one run of the lab measured for ``metric`` at a variant's ``values``."""
    from quizgen.lab.claims import flatten  # plain Python, no torch

    grids = (results.get("settings", {}).get("config") or {}).get(GRIDS) or {}
    grid, _, name = metric.partition(".")
    if grid in grids:
        point = grid_point(results.get("metrics", {}), grid, grids[grid], values)
        value = None if point is None else flatten(point).get(name)
    else:
        value = flatten(results.get("metrics", {})).get(metric)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def resolve(course, results_by_lab: dict[str, list[dict]]):
    """(the course with every measured answer filled in, a QuestionReport per measured question).

    ``results_by_lab`` holds each lab's cached runs, one per seed. A variant not measured stably is left
    out of its question; a question left with too few variants (QuestionReport.problem) is left out of
    the course."""
    reports, replaced = [], {}
    for concept, question in measured_questions(course):
        runs = results_by_lab.get(concept.lab, []) if concept.lab else []
        report = QuestionReport(concept.path, question.line, question.id, concept.lab or "(none)", question.metric,
                                [run.get("seed", index) for index, run in enumerate(runs)])
        kept = []
        for variant in question.variants or (question,):
            values = variant.variant.values if variant.variant else {}
            measured = [measurement(run, question.metric, values) for run in runs]
            entry = VariantReport(variant.variant.label if variant.variant else "", measured)
            report.variants.append(entry)
            entry.reason = _unstable(variant, measured)
            if entry.reason is None:
                entry.answer = float(f"{statistics.median(measured):.{SIGNIFICANT_DIGITS}g}")
                update = {"answer": entry.answer}
                if variant.variant:  # the key shows what each seed measured
                    update["variant"] = variant.variant.model_copy(
                        update={"seeds": tuple(report.seeds), "measured": tuple(measured)})
                kept.append(variant.model_copy(update=update))
        reports.append(report)
        if report.problem() is not None:
            replaced[(concept.id, question.id)] = None
        elif question.variants:
            count = len(kept)
            # Numbered anew, 1 … count, as the site and the exports show them ("variant 3 of 5"); the label
            # keeps naming each by its values.
            pool = tuple(v.model_copy(update={"variant": v.variant.model_copy(update={"index": position, "count": count})})
                         for position, v in enumerate(kept, 1))
            replaced[(concept.id, question.id)] = pool[0].model_copy(update={"variants": pool})
        else:
            replaced[(concept.id, question.id)] = kept[0]
    if not replaced:
        return course, reports
    concepts = []
    for concept in course.concepts:
        questions = []
        for question in concept.questions:
            key = (concept.id, question.id)
            if key not in replaced:
                questions.append(question)
            elif replaced[key] is not None:
                questions.append(replaced[key])
        concepts.append(concept.model_copy(update={"questions": tuple(questions)}))
    return course.model_copy(update={"concepts": tuple(concepts)}), reports


def _unstable(variant, measured: list[float | None]) -> str | None:
    """Why a variant's measurements cannot be its key, or None."""
    if not measured:
        return "no run of the lab"
    if any(value is None for value in measured):
        return f"the lab does not measure {variant.metric} here"
    centre = statistics.median(measured)
    probe = variant.model_copy(update={"answer": centre})
    margin = probe.margin
    worst = max(abs(value - centre) for value in measured)
    if worst > margin * (1 + 1e-9):
        return (f"the seeds measured {number(min(measured), 3)} to {number(max(measured), 3)}, wider than "
                f"± {number(margin, 3)} around {number(centre, 3)}")
    return None
