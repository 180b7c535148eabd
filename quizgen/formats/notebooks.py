"""Student lab notebooks: build/notebooks/<lab>.ipynb, one per lab that a concept names, and with
`--learners FILE` build/notebooks/learners/<lab>/<learner>.ipynb, one per learner (their own variants).

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


def write_for_learners(course, results, out_dir: Path, learners: list[str]) -> None:
    """learners/<lab>/<learner>.ipynb: each learner's notebook, with their own variant of every generated
    question. The learner hands it in under the same name, which is how `quizgen grade` knows whose
    variants to score it against."""
    from quizgen.variants import course_for_learner

    for learner in learners:
        for plan in lab_plans(course_for_learner(course, learner)):
            folder = out_dir / "learners" / plan.lab_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{learner}.ipynb").write_text(notebook_json(student_notebook(plan)), encoding="utf-8")
