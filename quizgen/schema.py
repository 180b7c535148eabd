"""JSON Schemas of what authors write by hand, for editors and for `quizgen schema`."""

from __future__ import annotations

from pydantic import TypeAdapter

from quizgen.model import FrontMatter
from quizgen.questions import QuestionAttributes

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schemas() -> dict:
    front_matter = {"$schema": DIALECT, **FrontMatter.model_json_schema()}
    front_matter["title"] = "quizgen concept front matter"
    question = {"$schema": DIALECT, **TypeAdapter(QuestionAttributes).json_schema()}
    question["title"] = "quizgen question attribute line ({#id type=... key=value})"
    return {"front_matter": front_matter, "question": question}
