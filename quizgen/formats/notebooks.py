"""Student lab notebooks: build/notebooks/<lab>.ipynb, one per lab that a concept names.

A student notebook holds the lab's explanation, configuration and code, the exercises as stubs with
their public checks, the predict-then-run cells and the concept's quiz. It holds no solution, no hidden
test and no reference result (tests/notebooks/ searches every file for each).
"""

from __future__ import annotations

from pathlib import Path

from quizgen.notebooks import lab_plans, notebook_json, student_notebook

NAME = "notebooks"


def write(course, results, out_dir: Path) -> None:
    for plan in lab_plans(course):
        (out_dir / f"{plan.lab_id}.ipynb").write_text(notebook_json(student_notebook(plan)), encoding="utf-8")
