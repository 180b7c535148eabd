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
    for definition in question.get("$defs", {}).values():
        _allow_formulas(definition)
    numeric = question.get("$defs", {}).get("NumericAttrs")
    if numeric:  # the answer, or the lab metric that measures it
        numeric["anyOf"] = [{"required": ["answer"]}, {"required": ["metric"]}]
    return {"front_matter": front_matter, "question": question}


FORMULA = {"type": "string", "pattern": r"^\s*=", "description": "A formula over the question's parameters "
           "(a generated question: docs/authoring.md), e.g. \"= r / (p + r)\"."}


def _allow_formulas(definition: dict) -> None:
    """A number attribute may be written as a formula in a generated question ("= ...")."""
    for name, prop in definition.get("properties", {}).items():
        kinds = [prop, *prop.get("anyOf", [])]
        if name not in ("id", "type") and any(kind.get("type") in ("number", "integer") for kind in kinds):
            definition["properties"][name] = {"anyOf": [prop, FORMULA]}
