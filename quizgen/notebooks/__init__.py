"""Lab notebooks: a student version (`quizgen build` writes build/notebooks/<lab>.ipynb), a solution
version (tests run it top to bottom) and, via quizgen.formats.otter, an Otter-Grader master.

Every version is rendered from one `Plan` (see plan.py and recipes.py). Building a notebook imports
neither torch nor nbformat: a notebook is JSON, written here with sorted keys and stable cell ids so that
the same course gives byte-identical files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from quizgen.notebooks.plan import Cell, Plan
from quizgen.notebooks.recipes import plan_for

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
        "metadata": {"quizgen": {"role": cell.role} | ({"key": cell.key} if cell.key else {})},
        "source": source,
    }
    if cell.kind == "code":
        node |= {"execution_count": None, "outputs": []}
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


def lab_plans(course, labs_directory: Path | None = None, config_overrides: dict | None = None) -> list[Plan]:
    """A plan for every concept whose lab exists; concepts naming no lab, or an unknown one, have none."""
    from quizgen.lab.runner import discover

    labs = discover(labs_directory)
    plans, seen = [], set()
    for concept in course.concepts:
        if concept.lab and concept.lab in labs and concept.lab not in seen:
            seen.add(concept.lab)
            plans.append(plan_for(labs[concept.lab], concept, (config_overrides or {}).get(concept.lab)))
    return plans
