"""Lab results -> what a question's "Check it in the lab" panel and the answer key's "Lab evidence" show.

``results`` is ``{lab_id: that lab's results dict}`` as the lab engine caches it (results.json):
``claims`` (a list of ``{name, description, passed, conditions: [{condition, holds}], values, run, plot}``),
``metrics`` (nested numbers), ``settings.config`` (the lab's configuration, with ``NAMES``: what the panel
calls each run's values) and ``directory`` (where the plot files are). Any part may be missing: a lab
without results, a claim the results do not name, a plot whose file is gone, results from before claims
said what was run. Each case becomes a plain sentence on the page instead of an error, because a course
is often written before its lab has run.

For a learner, a claim's panel says in words what was run and what came out: each condition as a named
value ("held-out accuracy after moderate fine-tuning: 0.92 — the claim needs at least 0.7"), never a metric
path; the one plot the claim declares (quizgen.lab.claims.Plot), with its caption and alt text, the
``{metric}`` placeholders of those texts filled in with the measured numbers; and how to run the notebook.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from quizgen.formats.notation import number
from quizgen.model import Course

NO_RESULTS = "no-results"
UNKNOWN_CLAIM = "unknown-claim"
MEASURED = "measured"

# What the engine's metrics (quizgen.lab.metrics, the training loop; labs/README.md) are called on the page.
# A lab's NAMES adds who measured them: "held-out accuracy" + " after moderate fine-tuning".
METRIC_NAMES = {
    "recall": "fact recall",
    "train_accuracy": "accuracy on the training questions",
    "heldout_accuracy": "held-out accuracy",
    "test_accuracy": "accuracy on unseen test questions",
    "perplexity": "perplexity on general text",
    "relative_drift": "drift from θ̂",
    "train_logprob": "mean log Pr(y|x) of the training responses",
    "heldout_logprob": "mean log Pr(y|x) of the held-out responses",
    "validation_nll": "validation loss",
    "train_response_nll": "−mean log Pr(y|x) of the training responses",
    "trainable_parameters": "parameters trained",
    "trainable_share": "share of the parameters trained",
    "stopped_at": "step whose weights were kept",
    "tokens_seen": "tokens seen in training",
    "final_loss": "final training loss",
    "steps": "training steps",
    "lr": "learning rate",
    "loop": "training loop function",
}
NEEDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than", "==": "it to equal"}
NOTEBOOKS = "notebooks"  # where the build writes the student notebooks, beside the site folder

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.-]*)\}")
_CONDITION = re.compile(r"^\s*(?P<left>\S+)\s*(?P<op><=|>=|==|<|>)\s*(?:(?P<factor>[-\d.e]+)\s*\*\s*)?(?P<right>\S+)\s*$")
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Plot:
    src: str  # path inside the site, e.g. labs/initialization/arms.svg
    caption: str  # what to look at
    alt: str  # what the plot shows, numbers filled in
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Reading:
    """One condition of a claim, as a learner reads it: a named value and what the claim needs of it."""

    name: str  # "Held-out accuracy after moderate fine-tuning"
    value: str  # "0.92"
    needs: str  # "at least 0.7"
    holds: bool
    text: bool = False  # the value is text (a function's name), shown as code


@dataclass(frozen=True)
class Evidence:
    lab: str
    status: str  # MEASURED, NO_RESULTS or UNKNOWN_CLAIM
    claim: str | None = None
    description: str = ""
    passed: bool | None = None
    conditions: tuple[tuple[str, bool], ...] = ()
    values: tuple[tuple[str, str], ...] = ()  # metric name, value (the answer key lists these; key_value)
    run: str = ""  # what was run, in plain words
    readings: tuple[Reading, ...] = ()  # each condition in words
    plot: Plot | None = None  # the one plot that shows the claim
    plot_missing: bool = False  # the claim names a plot the results do not have
    measured: tuple[str, ...] = ()  # a metric question's measurement, one line per variant
    notebook: str = ""  # the notebook's path from the site's root


@dataclass(frozen=True)
class LabView:
    """One lab's results, read once per build."""

    lab: str
    claims: dict[str, dict]
    metrics: dict
    names: dict[str, str]  # the lab's NAMES
    metric_plots: dict[str, dict]  # the lab's METRIC_PLOTS: {metric's first part: plot}
    directory: Path | None
    plot_files: dict[str, Path] = field(default_factory=dict)  # site path -> file to copy: the plots shown

    @classmethod
    def read(cls, lab: str, results: dict, shown: set[str] | None = None) -> LabView:
        """The lab's results; ``shown`` names the claims and metrics the course shows, whose plots the site
        copies (every one's, when None)."""
        claims = results.get("claims") or []
        if isinstance(claims, dict):  # {name: entry} is accepted as well as a list of entries
            claims = [{"name": name} | entry for name, entry in claims.items()]
        by_name = {claim["name"]: claim for claim in claims if isinstance(claim, dict) and "name" in claim}
        config = (results.get("settings") or {}).get("config") or {}
        names = config.get("NAMES") if isinstance(config.get("NAMES"), dict) else {}
        metric_plots = config.get("METRIC_PLOTS") if isinstance(config.get("METRIC_PLOTS"), dict) else {}
        directory = Path(results["directory"]) if results.get("directory") else None
        view = cls(lab, by_name, results.get("metrics") or {}, names, metric_plots, directory)
        declared = [claim.get("plot") for name, claim in by_name.items() if shown is None or name in shown]
        declared += [plot for first, plot in metric_plots.items()
                     if shown is None or any(name.split(".")[0] == first for name in shown)]
        for plot in declared:
            source = view.plot_source(plot)
            if source is not None:
                view.plot_files[f"labs/{lab}/{source.name}"] = source
        return view

    def plot_source(self, declared) -> Path | None:
        """The file of a declared plot ({file, caption, alt}), when the results have it."""
        if not isinstance(declared, dict) or self.directory is None or not isinstance(declared.get("file"), str):
            return None
        source = self.directory / Path(declared["file"]).name
        return source if source.is_file() else None

    def plot(self, declared) -> Plot | None:
        """A declared plot as the page shows it, its texts' {metric} placeholders filled in; None when the
        results do not have its file."""
        source = self.plot_source(declared)
        if source is None:
            return None
        width, height = image_size(source)
        return Plot(f"labs/{quote(self.lab)}/{quote(source.name)}", self.fill(str(declared.get("caption", ""))),
                    self.fill(str(declared.get("alt", ""))), width, height)

    def metric_plot(self, metric: str) -> dict | None:
        """The plot the lab declares for a metric (METRIC_PLOTS, by the metric's first part)."""
        return self.metric_plots.get(metric.split(".")[0])

    def name(self, metric: str, values: dict | None = None) -> str:
        """What the page calls a metric: the lab's name for it, else the engine's name of the metric followed
        by the lab's words for the run ("held-out accuracy" + " after moderate fine-tuning"). ``values``
        fill the placeholders of a grid's words ("at learning rate {lr}")."""
        if metric in self.names:
            return fill_values(self.names[metric], values)
        parts = metric.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            run, rest = ".".join(parts[:cut]), ".".join(parts[cut:])
            if run in self.names:
                return f"{metric_name(rest)} {fill_values(self.names[run], values)}"
        if len(parts) == 1:
            return metric_name(metric)
        return f"{metric_name(parts[-1])} ({' '.join(parts[:-1]).replace('_', ' ')})"

    def fill(self, text: str) -> str:
        """A claim's text with each {metric} replaced by what the run measured (a setting of the run, such as
        its learning rate, as it was set)."""
        def value(match):
            metric = match.group(1)
            found = metric_value(self.metrics, metric)
            return setting(found) if metric.rpartition(".")[2] in SETTINGS else shown(found)

        return _PLACEHOLDER.sub(value, text)


def metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


def fill_values(words: str, values: dict | None) -> str:
    """A grid's words with its axes' values (settings: "at learning rate 0.00375", never rounded)."""
    if not values:
        return words
    return _PLACEHOLDER.sub(lambda match: setting(values[match.group(1)]) if match.group(1) in values
                            else match.group(0), words)


def lab_views(course: Course, results: dict) -> dict[str, LabView]:
    """A view of each lab the course names that has results (an empty dict counts as none); only the plots
    of the claims (and metrics) the course's questions name are copied into the site."""
    labs = sorted({concept.lab for concept in course.concepts if concept.lab})
    shown: dict[str, set[str]] = {lab: set() for lab in labs}
    for concept, question in course.questions:
        if concept.lab and question.claim:
            shown[concept.lab].add(question.claim)
        elif concept.lab and getattr(question, "metric", None):
            shown[concept.lab].add(question.metric)
    return {lab: LabView.read(lab, results[lab], shown[lab]) for lab in labs if results.get(lab)}


def notebook_path(lab: str, in_site: bool = False) -> str:
    """The student notebook from the site's root: a copy inside the site (labs/<lab>/<lab>.ipynb, see
    notebook_pages), or the build's notebooks folder beside the site."""
    return f"labs/{quote(lab)}/{quote(lab)}.ipynb" if in_site else f"../{NOTEBOOKS}/{quote(lab)}.ipynb"


def notebook_pages(course: Course):
    """(path inside the site, what it is made from, how to make it) for each lab's student notebook, the one
    `quizgen build` writes to notebooks/: a site listing these serves the notebook itself, so its link
    works when the site folder is hosted alone (then pass ``in_site=True`` to course_evidence)."""
    from quizgen.notebooks import lab_plans, notebook_json, student_notebook

    for plan in lab_plans(course):
        concept = next(concept for concept in course.concepts if concept.lab == plan.lab_id)
        yield (f"labs/{plan.lab_id}/{plan.lab_id}.ipynb", ("notebook", plan.lab_id, concept),
               lambda plan=plan: notebook_json(student_notebook(plan)).encode())


def claim_evidence(lab: str, claim: str, views: dict[str, LabView], in_site: bool = False) -> Evidence:
    """What the lab measured for one claim: how the site and the answer key both read a claim's result."""
    view = views.get(lab)
    notebook = notebook_path(lab, in_site)
    if view is None:
        return Evidence(lab, NO_RESULTS, claim, notebook=notebook)
    entry = view.claims.get(claim)
    if entry is None:
        return Evidence(lab, UNKNOWN_CLAIM, claim, notebook=notebook)
    measured = entry.get("values") or {}
    values = tuple((name, key_value(value)) for name, value in measured.items())
    conditions = tuple((c.get("condition", ""), bool(c.get("holds"))) for c in entry.get("conditions") or [])
    readings = tuple(reading for text, holds in conditions if (reading := read_condition(text, holds, measured, view)))
    plot = view.plot(entry.get("plot"))
    return Evidence(lab, MEASURED, claim, entry.get("description", ""), entry.get("passed"), conditions, values,
                    run=view.fill(entry.get("run") or ""), readings=readings, plot=plot,
                    plot_missing=plot is None and isinstance(entry.get("plot"), dict), notebook=notebook)


def read_condition(text: str, holds: bool, values: dict, view: LabView) -> Reading | None:
    """A condition ("moderate.heldout_accuracy >= 0.7") as a named value and what the claim needs of it."""
    match = _CONDITION.match(text)
    if match is None:
        return None
    left, op, right = match["left"], match["op"], match["right"]
    factor = float(match["factor"]) if match["factor"] else 1.0
    value = values.get(left, metric_value(view.metrics, left))
    try:
        bound: float | str | None = float(right)
        other = None
    except ValueError:
        other = values.get(right, metric_value(view.metrics, right))
        bound = factor * other if _is_number(other) else other
    if _is_number(value) and _is_number(bound):
        value_text, bound_text = distinct(value, bound)
    else:
        value_text, bound_text = shown(value), shown(bound)
    if other is None:
        needs = f"{NEEDS[op]} {bound_text}"
    elif factor == 1.0:
        needs = f"{NEEDS[op]} {view.name(right)} ({bound_text})"
    else:
        needs = f"{NEEDS[op]} {shown(factor)} × {view.name(right)} ({shown(factor)} × {shown(other)} = {bound_text})"
    name = view.name(left)
    return Reading(name[:1].upper() + name[1:], value_text, needs, holds, text=isinstance(value, str))


def question_evidence(lab: str | None, question, views: dict[str, LabView], in_site: bool = False) -> Evidence | None:
    """The evidence for a question that names a claim or a lab metric; None for any other question."""
    claim = question.claim
    metric = getattr(question, "metric", None)
    if lab is None or (claim is None and metric is None):
        return None
    if claim is not None:
        evidence = claim_evidence(lab, claim, views, in_site)
    elif lab in views:
        evidence = Evidence(lab, MEASURED, notebook=notebook_path(lab, in_site))
    else:
        evidence = Evidence(lab, NO_RESULTS, notebook=notebook_path(lab, in_site))
    if evidence.status == MEASURED and metric is not None:
        view = views[lab]
        values = evidence.values
        if metric not in dict(values):
            values += ((metric, key_value(metric_value(view.metrics, metric))),)
        evidence = replace(evidence, values=values, measured=measured_lines(question, metric, view))
        if claim is None:
            declared = view.metric_plot(metric)
            plot = view.plot(declared)
            evidence = replace(evidence, plot=plot, plot_missing=plot is None and declared is not None)
    return evidence


def measured_lines(question, metric: str, view: LabView) -> tuple[str, ...]:
    """What the lab measured for a metric question, in words: one line per variant of a generated question
    (a lab grid's point: the median of the seeds the key was taken from), else the last run's value."""
    variants = [variant for variant in question.variants if variant.variant] if question.variants else []
    if not variants:
        value = metric_value(view.metrics, metric)
        if value is None and getattr(question, "answer", None) is not None and question.variant is None:
            value = question.answer
        name = view.name(metric)
        return (f"{name[:1].upper() + name[1:]}: {shown(value)}.",)
    lines = []
    for variant in variants:
        name = view.name(metric, variant.variant.values)
        # the key itself, as the answer panel writes it
        line = f"{name[:1].upper() + name[1:]}: {number(variant.answer) if _is_number(variant.answer) else shown(None)}"
        measured = [value for value in variant.variant.measured if _is_number(value)]
        if len(measured) > 1:
            line += (f", the median of {len(measured)} runs with different seeds, which measured "
                     f"{shown(min(measured))} to {shown(max(measured))}")
        lines.append(line + ".")
    return tuple(lines)


def course_evidence(course: Course, views: dict[str, LabView],
                    in_site: bool = False) -> dict[str, tuple[Evidence | None, ...]]:
    """Concept id -> the evidence of each of its questions (None where a question has none); ``in_site``:
    the site carries the notebooks (notebook_pages)."""
    return {concept.id: tuple(question_evidence(concept.lab, question, views, in_site)
                              for question in concept.questions)
            for concept in course.concepts}


def unbacked_claims(course: Course, evidence: dict) -> list[tuple[str, str, str]]:
    """(full question id, lab, claim) for every claim with no measured result."""
    return [
        (f"{concept.id}#{question.id}", concept.lab, question.claim)
        for concept in course.concepts
        for question, found in zip(concept.questions, evidence[concept.id])
        if question.claim and found.status != MEASURED
    ]


def missing_claims(course: Course, results: dict) -> list[tuple[str, str, str]]:
    """(full question id, lab, claim) for every claim with no measured result: what a build reports."""
    return unbacked_claims(course, course_evidence(course, lab_views(course, results)))


def metric_value(metrics: dict, name: str):
    """A dotted metric name looked up in nested metrics (None when not measured)."""
    value = metrics
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, (int, float, str)) else None


def key_value(value) -> str:
    """A measured value as the answer key lists it beside its metric's name, for an instructor: 4 digits."""
    if _is_number(value):
        return number(value, digits=4)
    return shown(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# What a run was set to, not what it measured: shown as set (a learning rate of 0.00375 is not "0.0037").
SETTINGS = ("lr", "steps", "batch_size", "replay_per_step")


def setting(value) -> str:
    """A setting of a run as it was set: a fraction in full decimals (0.00375, 0.0003), anything else as
    ``shown`` writes it."""
    if isinstance(value, float) and not isinstance(value, bool) and math.isfinite(value) and 1e-6 <= abs(value) < 1:
        return ("−" if value < 0 else "") + f"{abs(value):.6f}".rstrip("0")
    return shown(value)


def shown(value, digits: int = 2) -> str:
    """A measured value as a learner reads it: about ``digits`` significant digits (three from 1 up),
    whole numbers in full with thousands separated (49,969), millions in words (12.9 million), tiny numbers
    as 2.8 × 10⁻⁸; text as it is."""
    if value is None:
        return "not measured"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return "not a number" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    size = abs(value)
    sign = "−" if value < 0 else ""
    if size >= 1e6 and not (float(value).is_integer() and size < 1e7):
        return f"{sign}{size / 1e6:.{max(digits, 3)}g} million"
    if float(value).is_integer():
        return f"{sign}{int(size):,}"
    if size >= 1e-4:
        # a fraction never reads as a whole number: 0.99875 is 0.999, not 1
        for more in range(digits if size < 1 else max(digits, 3), 8):
            text = _plain(f"{size:.{more}g}")
            if not float(text).is_integer():
                break
        return sign + text
    mantissa, exponent = f"{size:.{digits - 1}e}".split("e")
    return f"{sign}{mantissa.rstrip('0').rstrip('.')} × 10{str(int(exponent)).translate(SUPERSCRIPTS)}"


def _plain(text: str) -> str:
    """Python's "1e-05" or "1.2e+03" from a 'g' format, written out."""
    if "e" not in text:
        return text
    return format(float(text), "f").rstrip("0").rstrip(".")


def distinct(value: float, bound: float) -> tuple[str, str]:
    """A value and the bound it is compared with, with enough digits that two different numbers never read
    the same (0.846 against at least 0.85 is not "0.85 — at least 0.85")."""
    for digits in range(2, 8):
        pair = shown(value, digits), shown(bound, digits)
        if pair[0] != pair[1] or value == bound:
            return pair
    return pair


def image_size(path: Path) -> tuple[int | None, int | None]:
    """A plot's width and height in CSS pixels, so that the page reserves its space before it loads: from a
    PNG's header, or from an SVG's width and height (matplotlib writes points: 72 to the inch, 96 px)."""
    with open(path, "rb") as file:
        head = file.read(1024)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    match = re.search(rb'<svg[^>]*?\swidth="([\d.]+)(pt|px)?"[^>]*?\sheight="([\d.]+)(pt|px)?"', head)
    if match is None:
        return None, None
    scale = 96 / 72 if match[2] == b"pt" else 1
    return round(float(match[1]) * scale), round(float(match[3]) * scale)

