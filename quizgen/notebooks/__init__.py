"""Lab notebooks: a student version (`quizgen build` writes build/notebooks/<lab>.ipynb), a solution
version (tests run it top to bottom) and, via quizgen.formats.otter, an Otter-Grader master.

Every version is rendered from one `Plan`, made from the lab's folder (its lab.py, its notebook.py
recipe and its exercises.py; see plan.py, recipe.py and exercises.py). Building a notebook imports
neither torch nor nbformat: a notebook is JSON, written here with sorted keys and stable cell ids so that
the same course gives byte-identical files.
"""

from __future__ import annotations

import json
import re
from quizgen.notebooks.plan import CHECK, Cell, Plan
from quizgen.notebooks.recipe import plan_for

FORMAT_VERSION = 1
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

__all__ = ["plan_for", "student_notebook", "solution_notebook", "notebook_json", "lab_plans", "cell_id"]


def cell_id(index: int, cell: Cell) -> str:
    key = re.sub(r"[^A-Za-z0-9-]+", "-", cell.key).strip("-")[:40]
    return f"c{index:03d}-{cell.role}" + (f"-{key}" if key else "")


def _cell(index: int, cell: Cell, source: str) -> dict:
    node = {
        "cell_type": cell.kind,
        "id": cell_id(index, cell),
        "metadata": {"quizgen": {"role": cell.role} | ({"key": cell.key} if cell.key else {})}
                    # a check's code is shown collapsed in Jupyter: its output is what the learner reads
                    | ({"jupyter": {"source_hidden": True}} if cell.role == CHECK else {}),
        "source": source,
    }
    if cell.kind == "code":
        node |= {"execution_count": None, "outputs": []}
    if cell.attachments:
        node["attachments"] = {name: {mime: data} for name, mime, data in cell.attachments}
    return node


def _notebook(plan: Plan, solutions: bool) -> dict:
    cells = [_cell(i, cell, cell.reference if solutions else cell.source) for i, cell in enumerate(plan.cells)]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
            "quizgen": {"lab": plan.lab_id, "concept": plan.concept_id, "format": FORMAT_VERSION,
                        "version": "solution" if solutions else "student"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def student_notebook(plan: Plan) -> dict:
    return _notebook(plan, solutions=False)


def solution_notebook(plan: Plan) -> dict:
    return _notebook(plan, solutions=True)


def notebook_json(notebook: dict) -> str:
    """As Jupyter writes it (one-space indent, sorted keys), so a save in Jupyter changes nothing else."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def lab_plans(course, quick: bool = False) -> list[Plan]:
    """A plan for the lab of every concept that names one (the loader has checked that each exists).

    quick: each lab's QUICK settings (its recipe's few steps per arm) instead of its own, for tests and
    demonstrations; such a notebook is graded by relations, not against the reference run.
    """
    from quizgen.lab.runner import discover

    labs = discover(course.labs)
    plans, seen = [], set()
    for concept in course.concepts:
        if concept.lab and concept.lab not in seen:
            seen.add(concept.lab)
            spec = labs[concept.lab]
            overrides = getattr(spec.notebook, "QUICK", {}) if quick else {}
            plans.append(plan_for(spec, concept, overrides, files=course.folder))
    return plans
