"""Forms: versions of a course with questions and options in a shuffled, reproducible order.

Form n of seed s is always the same: the order comes from a generator seeded with (s, n) alone.
Questions are shuffled within each concept; the options of a type whose record says so
(QuestionType.shuffles_options) are shuffled unless the question says shuffle=false (e.g. "none of
the above" last). Every export that supports forms (its declaration in
quizgen.formats says so) then renders the form like any course, so each form gets its own answer key.
"""

from __future__ import annotations

import random

from quizgen.model import Course
from quizgen.questions import question_type


def make_form(course: Course, seed: int, number: int) -> Course:
    rng = random.Random(f"quizgen-form:{seed}:{number}")
    concepts = []
    for concept in course.concepts:
        questions = [shuffle_options(question, rng) for question in concept.questions]
        rng.shuffle(questions)
        concepts.append(concept.model_copy(update={"questions": tuple(questions)}))
    title = f"{course.title} (form {number})"
    return course.model_copy(update={"title": title, "concepts": tuple(concepts), "form": number})


def shuffle_options(question, rng: random.Random):
    if not (question_type(question).shuffles_options and question.shuffle):
        return question
    options = list(question.options)
    rng.shuffle(options)
    return question.model_copy(update={"options": tuple(options)})
