"""Output formats: one module each, exposing NAME, KIND and write(course, results, out_dir).

KIND says where a format's files go under the build folder: "site" -> build/site/,
"notebooks" -> build/notebooks/, "export" -> build/export/<NAME>/.
Adding a format = one module here, one template folder, one line in FORMATS.
Modules are imported on first use, so `quizgen check` never pays for jinja2 or lxml.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FORMATS: dict[str, str] = {
    "site": "quizgen.formats.site",
    "canvas": "quizgen.formats.canvas",
    "qti21": "quizgen.formats.qti21",
    "moodle": "quizgen.formats.moodle",
    "gift": "quizgen.formats.gift",
    "key": "quizgen.formats.key",
    "csv": "quizgen.formats.csv",
    "critique": "quizgen.formats.critique",
    "notebooks": "quizgen.formats.notebooks",
    "otter": "quizgen.formats.otter",
}


def get_format(name: str) -> ModuleType:
    return importlib.import_module(FORMATS[name])


def names(kind: str | None = None) -> list[str]:
    return [name for name in FORMATS if kind is None or get_format(name).KIND == kind]
