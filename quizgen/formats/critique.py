"""Critique prompts: for each critique question, what the learner sees and what a grader applies.

critique/<concept>/<question>/learner.md   the scenario, the task, the criteria and their points
critique/<concept>/<question>/grader.md    rubric-based scoring instructions for a TA or an LLM,
                                           with {{ANSWER}} where the learner's answer goes
critique/<concept>/<question>/schema.json  the JSON Schema the grader's reply must meet

It carries the questions a person scores with a rubric (QuestionType.graded == "rubric"); an
auto-graded question has no rubric to apply and no prompt.
"""

from __future__ import annotations

import json
from pathlib import Path

from quizgen.formats.common import environment, full_id
from quizgen.questions import auto_graded, for_type

NAME = "critique"


def output_schema(concept, question) -> dict:
    names = [criterion.name for criterion in question.rubric]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Rubric scores for {full_id(concept, question)}",
        "type": "object",
        "additionalProperties": False,
        "required": ["question", "criteria", "total", "feedback"],
        "properties": {
            "question": {"const": full_id(concept, question)},
            "criteria": {
                "type": "array",
                "minItems": len(names),
                "maxItems": len(names),
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["criterion", "level", "score", "justification"],
                    "properties": {
                        "criterion": {"enum": names},
                        "level": {"enum": ["full", "partial", "none"]},
                        "score": {"type": "number", "minimum": 0,
                                  "maximum": max(criterion.points for criterion in question.rubric)},
                        "justification": {"type": "string", "minLength": 1,
                                          "description": "Quote or paraphrase the part of the answer that decided the level."},
                    },
                },
            },
            "total": {"type": "number", "minimum": 0, "maximum": question.points},
            "feedback": {"type": "string", "description": "Two or three sentences for the learner."},
        },
    }


def write_prompts(env, course, concept, question, folder: Path) -> None:
    """learner.md, grader.md and schema.json for a question with a task, a rubric and an exemplar."""
    folder.mkdir(parents=True)
    schema = json.dumps(output_schema(concept, question), indent=2, ensure_ascii=False)
    context = {"concept": concept, "question": question, "course_title": course.title, "schema": schema}
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
