"""Forms: versions of a course with questions and options in a shuffled, reproducible order.

Form n of seed s is always the same: the order comes from a generator seeded with (s, n) alone.
Questions are shuffled within each concept; the options of a type whose record says so
(QuestionType.shuffles_options) are shuffled unless the question says shuffle=false (e.g. "none of
the above" last). Every export that supports forms (its declaration in
quizgen.formats says so) then renders the form like any course, so each form gets its own answer key.

A form is a fixed version, one paper: each generated question (quizgen.variants) is replaced by one of its
variants, drawn by the same generator, so two forms ask different numbers. The drawn variant is a question
of its own with no pool (its ``variants`` is empty; its ``variant`` still says which one it is), so every
export writes it as one question (no Canvas group, QTI selection or Moodle category), under its variant's
ids (quizgen.formats.common.variant_id), and the form's key gives that variant's values and answer.
Drawing touches the generator only for generated questions: a course without them gets the forms it
always got.
"""

from __future__ import annotations

import random

from quizgen.model import Course
from quizgen.questions import question_type


def make_form(course: Course, seed: int, number: int) -> Course:
    rng = random.Random(f"quizgen-form:{seed}:{number}")
    concepts = []
    for concept in course.concepts:
        questions = [shuffle_options(draw_variant(question, rng), rng) for question in concept.questions]
        rng.shuffle(questions)
        concepts.append(concept.model_copy(update={"questions": tuple(questions)}))
    title = f"{course.title} (form {number})"
    return course.model_copy(update={"title": title, "concepts": tuple(concepts), "form": number})


def draw_variant(question, rng: random.Random):
    """One variant of a generated question (a question of its own, without a pool); any other question as it is."""
    if not question.variants:
        return question
    return question.variants[rng.randrange(len(question.variants))].model_copy(update={"variants": ()})


def shuffle_options(question, rng: random.Random):
    if not (question_type(question).shuffles_options and question.shuffle):
        return question
    options = list(question.options)
    rng.shuffle(options)
    return question.model_copy(update={"options": tuple(options)})
