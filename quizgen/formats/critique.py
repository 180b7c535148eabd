"""Critique prompts: for each critique question, what the learner sees and what a grader applies.

critique/<concept>/<question>/learner.md   the scenario, the task, the criteria and their points
critique/<concept>/<question>/grader.md    rubric-based scoring instructions for a TA or an LLM,
                                           with {{ANSWER}} where the learner's answer goes
critique/<concept>/<question>/schema.json  the JSON Schema the grader's reply must meet

A level earns a fixed score (level_scores: full, half, none), which the prompt states per criterion and
the schema enforces: each criterion appears once under its own key, its score is its level's, and the
total is their sum (pinned in the schema by listing the combinations of levels while they are few; quizgen
itself reads no grades back). The learner's answer goes last, between <learner_answer> tags, and the
prompt tells the grader that it is data to grade, never instructions to follow.

It carries the questions a person scores with a rubric (QuestionType.graded == "rubric"); an
auto-graded question has no rubric to apply and no prompt.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

from quizgen.formats.common import environment, full_id
from quizgen.formats.notation import number
from quizgen.questions import auto_graded, for_type

NAME = "critique"
LEVELS = ("full", "partial", "none")
# schema.json pins the total to the levels chosen by listing every combination of levels, while there are
# at most this many (4 criteria with a partial level); past it, the total is only described as the sum.
MAX_TOTAL_COMBINATIONS = 81


def level_scores(criterion) -> dict[str, float]:
    """The score each level of a criterion earns: full its points, partial exactly half of them (as the
    site's self-assessment scores it), none 0; a criterion without a partial level has no partial."""
    scores = {"full": float(criterion.points)}
    if criterion.partial:
        scores["partial"] = criterion.points / 2
    scores["none"] = 0.0
    return scores


def criterion_keys(question) -> list[str]:
    """The key of each criterion in the grader's reply: its name as a slug, unique in the rubric."""
    keys: list[str] = []
    for index, criterion in enumerate(question.rubric, start=1):
        key = re.sub(r"[^a-z0-9]+", "-", criterion.name.lower()).strip("-") or f"criterion-{index}"
        candidate, n = key, 2
        while candidate in keys:
            candidate, n = f"{key}-{n}", n + 1
        keys.append(candidate)
    return keys


def criterion_schema(criterion) -> dict:
    """A criterion's part of the reply: the level chosen, its score (fixed by the level) and why."""
    scores = level_scores(criterion)
    return {
        "type": "object",
        "title": criterion.name,
        "additionalProperties": False,
        "required": ["level", "score", "justification"],
        "properties": {
            "level": {"enum": list(scores)},
            "score": {"type": "number"},
            "justification": {"type": "string", "minLength": 1,
                              "description": "Quote or paraphrase the part of the answer that decided the level."},
        },
        # The score is the level's: exactly one branch holds for a reply.
        "oneOf": [{"properties": {"level": {"const": level}, "score": {"const": score}}} for level, score in scores.items()],
    }


def total_branches(question, keys: list[str]) -> list[dict] | None:
    """One branch per combination of levels, each pinning the total to that combination's sum; None when
    there are more than MAX_TOTAL_COMBINATIONS."""
    choices = [list(level_scores(criterion).items()) for criterion in question.rubric]
    count = 1
    for levels in choices:
        count *= len(levels)
    if count > MAX_TOTAL_COMBINATIONS:
        return None
    branches = []
    for combination in itertools.product(*choices):
        branches.append({"properties": {
            "criteria": {"properties": {key: {"properties": {"level": {"const": level}}}
                                        for key, (level, _) in zip(keys, combination)}},
            "total": {"const": sum(score for _, score in combination)},
        }})
    return branches


def output_schema(concept, question) -> dict:
    """The JSON Schema of a grader's reply: each criterion once (fixed keys, all required, no others), its
    score fixed by the level chosen, and the total the sum of the scores (pinned by listing the
    combinations of levels while there are few enough, else described)."""
    keys = criterion_keys(question)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Rubric scores for {full_id(concept, question)}",
        "type": "object",
        "additionalProperties": False,
        "required": ["question", "criteria", "total", "feedback"],
        "properties": {
            "question": {"const": full_id(concept, question)},
            "criteria": {
                "type": "object",
                "description": "One entry per rubric criterion, each exactly once, under its key.",
                "additionalProperties": False,
                "required": keys,
                "properties": {key: criterion_schema(criterion) for key, criterion in zip(keys, question.rubric)},
            },
            "total": {"type": "number", "minimum": 0, "maximum": question.points,
                      "description": "The sum of the criteria's scores."},
            "feedback": {"type": "string", "description": "Two or three sentences for the learner."},
        },
    }
    branches = total_branches(question, keys)
    if branches is not None:
        schema["anyOf"] = branches
    return schema


def write_prompts(env, course, concept, question, folder: Path) -> None:
    """learner.md, grader.md and schema.json for a question with a task, a rubric and an exemplar."""
    folder.mkdir(parents=True)
    full_schema = output_schema(concept, question)
    schema = json.dumps(full_schema, indent=2, ensure_ascii=False)
    # The prompt shows the schema without the list of level combinations that pins the total (schema.json
    # keeps it for validating replies): the prompt says the total is the sum, and the list is long.
    shown = json.dumps({key: value for key, value in full_schema.items() if key != "anyOf"}, indent=2, ensure_ascii=False)
    levels = [(key, criterion, level_scores(criterion)) for key, criterion in zip(criterion_keys(question), question.rubric)]
    context = {"concept": concept, "question": question, "course_title": course.title, "schema": shown,
               "levels": levels, "number": number}
    (folder / "learner.md").write_text(env.get_template("learner.md").render(**context), encoding="utf-8")
    (folder / "grader.md").write_text(env.get_template("grader.md").render(**context), encoding="utf-8")
    (folder / "schema.json").write_text(schema + "\n", encoding="utf-8")


# The prompts of each rubric-graded type.
WRITERS = {"critique": write_prompts}


def write(course, results, out_dir: Path) -> None:
    env = environment(NAME).overlay()
    env.filters["cell"] = lambda text: " ".join(text.split()).replace("|", "\\|")
    for concept in course.concepts:
        for question in concept.questions:
            if auto_graded(question):
                continue
            writer = for_type(WRITERS, question, "the critique export")
            writer(env, course, concept, question, out_dir / concept.id / question.id)
