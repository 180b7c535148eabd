"""Lab results -> what a question's "Check it in the lab" panel and the answer key's "Lab evidence" show.

``results`` is ``{lab_id: that lab's results dict}`` as the lab engine caches it (results.json):
``claims`` (a list of ``{name, description, passed, conditions: [{condition, holds}], values}``),
``metrics`` (nested numbers), ``plots`` (PNG file names) and ``directory`` (where those files are).
Any part may be missing: a lab without results, a claim the results do not name, a plot whose file is
gone. Each case becomes a plain sentence on the page instead of an error, because a course is often
written before its lab has run.
"""

from __future__ import annotations

import struct
from urllib.parse import quote
from dataclasses import dataclass, replace
from pathlib import Path

from quizgen.formats.notation import number
from quizgen.model import Course

NO_RESULTS = "no-results"
UNKNOWN_CLAIM = "unknown-claim"
MEASURED = "measured"


@dataclass(frozen=True)
class Plot:
    src: str  # path inside the site, e.g. labs/initialization/arms.png
    caption: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Evidence:
    lab: str
    status: str  # MEASURED, NO_RESULTS or UNKNOWN_CLAIM
    claim: str | None = None
    description: str = ""
    passed: bool | None = None
    conditions: tuple[tuple[str, bool], ...] = ()
    values: tuple[tuple[str, str], ...] = ()  # metric name, value as shown
    plots: tuple[Plot, ...] = ()


@dataclass(frozen=True)
class LabView:
    """One lab's results, read once per build."""

    lab: str
    claims: dict[str, dict]
    metrics: dict
    plots: tuple[Plot, ...]
    plot_files: dict[str, Path]  # site path -> file to copy

    @classmethod
    def read(cls, lab: str, results: dict) -> LabView:
        claims = results.get("claims") or []
        if isinstance(claims, dict):  # {name: entry} is accepted as well as a list of entries
            claims = [{"name": name} | entry for name, entry in claims.items()]
        by_name = {claim["name"]: claim for claim in claims if isinstance(claim, dict) and "name" in claim}
        plots, files = [], {}
        directory = Path(results["directory"]) if results.get("directory") else None
        for name in results.get("plots") or []:
            source = Path(name) if Path(name).is_absolute() or directory is None else directory / name
            if not source.is_file():
                continue
            files[f"labs/{lab}/{source.name}"] = source
            src = f"labs/{quote(lab)}/{quote(source.name)}"
            width, height = png_size(source)
            plots.append(Plot(src, caption_of(source.name), width, height))
        return cls(lab, by_name, results.get("metrics") or {}, tuple(plots), files)


def lab_views(course: Course, results: dict) -> dict[str, LabView]:
    """A view of each lab the course names that has results (an empty dict counts as none)."""
    labs = sorted({concept.lab for concept in course.concepts if concept.lab})
    return {lab: LabView.read(lab, results[lab]) for lab in labs if results.get(lab)}


def claim_evidence(lab: str, claim: str, views: dict[str, LabView]) -> Evidence:
    """What the lab measured for one claim: how the site and the answer key both read a claim's result."""
    view = views.get(lab)
    if view is None:
        return Evidence(lab, NO_RESULTS, claim)
    entry = view.claims.get(claim)
    if entry is None:
        return Evidence(lab, UNKNOWN_CLAIM, claim)
    values = tuple((name, shown(value)) for name, value in (entry.get("values") or {}).items())
    conditions = tuple((c.get("condition", ""), bool(c.get("holds"))) for c in entry.get("conditions") or [])
    return Evidence(lab, MEASURED, claim, entry.get("description", ""), entry.get("passed"), conditions, values,
                    view.plots)


def question_evidence(lab: str | None, question, views: dict[str, LabView]) -> Evidence | None:
    """The evidence for a question that names a claim or a lab metric; None for any other question."""
    claim = question.claim
    metric = getattr(question, "metric", None)
    if lab is None or (claim is None and metric is None):
        return None
    if claim is not None:
        evidence = claim_evidence(lab, claim, views)
    elif lab in views:
        evidence = Evidence(lab, MEASURED, plots=views[lab].plots)
    else:
        evidence = Evidence(lab, NO_RESULTS)
    if evidence.status == MEASURED and metric is not None and metric not in dict(evidence.values):
        value = shown(metric_value(views[lab].metrics, metric))
        evidence = replace(evidence, values=evidence.values + ((metric, value),))
    return evidence


def course_evidence(course: Course, views: dict[str, LabView]) -> dict[str, tuple[Evidence | None, ...]]:
    """Concept id -> the evidence of each of its questions (None where a question has none)."""
    return {concept.id: tuple(question_evidence(concept.lab, question, views) for question in concept.questions)
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
    return value


def shown(value) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return number(value, digits=4)
    return str(value)


def caption_of(file_name: str) -> str:
    words = Path(file_name).stem.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def png_size(path: Path) -> tuple[int | None, int | None]:
    """Width and height from a PNG's header, so the page reserves the plot's space before it loads."""
    with open(path, "rb") as file:
        head = file.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None, None
    width, height = struct.unpack(">II", head[16:24])
    return width, height
