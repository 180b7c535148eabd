"""Item-writing lint: classic flaws that make a choice question easier to guess than to answer.

Warnings, not errors (``quizgen check --strict`` makes them errors):
- the correct option sits in the same position in most of a concept's choice questions;
- "all of the above" / "none of the above" options;
- the correct option is the longest one in most of a concept's choice questions;
- options that differ only in case or white space;
- an image without alternative text (a screen reader, or a learner whose LMS did not load the file,
  gets nothing);
- a learning objective that no question assesses (no question names it in objective=), and a question
  that names no objective in a concept that declares some: the quiz no longer says what it measures.
"""

from __future__ import annotations

import re
from collections import Counter

from quizgen.errors import Diagnostic
from quizgen.formats.notation import option_letter

ABOVE = re.compile(r"\b(all|none|both|neither)\s+of\s+the\s+above\b", re.IGNORECASE)
MIN_QUESTIONS = 3  # below this, a pattern is as likely to be chance as habit


def lint(course) -> list[Diagnostic]:
    warnings: list[Diagnostic] = []
    for concept in course.concepts:
        choice = [q for q in concept.questions if q.type == "choice"]
        warnings += position_skew(concept, choice) + longest_is_correct(concept, choice)
        for question in concept.questions:
            warnings += option_flaws(concept, question)
        warnings += objective_coverage(concept)
        warnings += [_warning(concept, file.line, f"image '{file.src}' has no alternative text: say in its [brackets] "
                              "what it shows, for learners who cannot see it") for file in concept.files if not file.alt.strip()]
    return sorted(warnings)


def _warning(concept, line: int, message: str) -> Diagnostic:
    return Diagnostic(concept.path, line, message, "warning")


def objective_coverage(concept) -> list[Diagnostic]:
    if not concept.objectives:
        return []
    assessed = {objective_id for question in concept.questions for objective_id in question.objective}
    warnings = [_warning(concept, objective.line, f"no question assesses the objective '{objective.id}': tag one "
                         f"with objective={objective.id}, or drop the objective")
                for objective in concept.objectives if objective.id not in assessed]
    warnings += [_warning(concept, question.line - 1, f"question '{question.id}' names no objective: add "
                          f"objective=<id> (this concept's are {', '.join(o.id for o in concept.objectives)})")
                 for question in concept.questions if not question.objective]
    return warnings


def position_skew(concept, questions) -> list[Diagnostic]:
    if len(questions) < MIN_QUESTIONS:
        return []
    positions = Counter(next(i for i, o in enumerate(q.options) if o.correct) for q in questions)
    position, count = positions.most_common(1)[0]
    if count < MIN_QUESTIONS or count * 2 <= len(questions):
        return []
    return [_warning(concept, questions[0].line - 1,
                     f"the correct option is {option_letter(position)} in {count} of {len(questions)} choice questions "
                     "of this concept; vary its position")]


def longest_is_correct(concept, questions) -> list[Diagnostic]:
    if len(questions) < MIN_QUESTIONS:
        return []
    longest = [q for q in questions
               if all(len(q.correct_option.text) > len(o.text) for o in q.options if not o.correct)]
    if len(longest) * 2 <= len(questions):
        return []
    return [_warning(concept, longest[0].line - 1,
                     f"the correct option is the longest in {len(longest)} of {len(questions)} choice questions "
                     "of this concept; learners learn to pick the longest")]


def option_flaws(concept, question) -> list[Diagnostic]:
    warnings = []
    seen: dict[str, int] = {}
    for option in getattr(question, "options", ()):
        if ABOVE.search(option.text):
            warnings.append(_warning(concept, option.line, f"'{ABOVE.search(option.text).group(0)}' option: "
                                     "it breaks when options are shuffled and rewards partial knowledge"))
        key = " ".join(option.text.split()).casefold()
        if key in seen:
            warnings.append(_warning(concept, option.line, f"this option differs from the one on line {seen[key]} "
                                     "only in case or white space"))
        seen.setdefault(key, option.line)
    return warnings
