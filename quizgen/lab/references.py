"""What a course's numeric questions say a lab measures, checked against the lab's results.

The names a course uses (a concept's lab, a question's claim) are checked whenever a course is
loaded (``quizgen.loader.check_labs``); this checks what only a run can tell, for `quizgen verify`:
that each metric a question names is measured, and that its answer is what the lab measured. (A question
whose answer the lab gives, with metric= and no answer=, is keyed by quizgen.variants.measured instead.)
"""

from __future__ import annotations

from quizgen.errors import Diagnostic
from quizgen.lab.claims import flatten


def metric_problems(course, results_by_lab: dict[str, list[dict]]) -> list[Diagnostic]:
    """A diagnostic for each question whose metric no run of its lab (any lab, for a concept without
    one) measured, or whose answer a run's measurement falls outside of."""
    problems = []
    for concept in course.concepts:
        lab_ids = [concept.lab] if concept.lab else list(results_by_lab)
        for question in concept.questions:
            metric = getattr(question, "metric", None)
            if metric and question.answer is None:
                continue  # the lab gives this answer: quizgen.variants.measured keys it
            problem = metric and measured_problem(question, metric, lab_ids, results_by_lab)
            if problem:
                problems.append(Diagnostic(concept.path, question.line, problem))
    return problems


def measured_problem(question, metric: str, lab_ids: list[str], results_by_lab: dict[str, list[dict]]) -> str | None:
    measured = [flatten(r["metrics"]).get(metric) for lab_id in lab_ids for r in results_by_lab.get(lab_id, [])]
    measured = [value for value in measured if isinstance(value, float)]
    if not measured:
        return f"question '{question.id}' names the metric '{metric}', which lab {' or '.join(lab_ids)} does not measure."
    if any(abs(value - question.answer) > question.margin for value in measured):
        shown = ", ".join(f"{value:.4g}" for value in measured)
        return (f"question '{question.id}' gives {metric} = {question.answer:g} ± {question.margin:g}, "
                f"but the lab measured {shown}.")
    return None
