"""Output formats: one module each, exposing NAME, KIND and write(course, results, out_dir).

KIND says where a format's files go under the build folder: "site" -> build/site/,
"notebooks" -> build/notebooks/, "export" -> build/export/<NAME>/.
Adding a format = one module here, one template folder, one line in REGISTRY.
Modules are imported on first use, so `quizgen check` never pays for jinja2 or lxml.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import NamedTuple


class Format(NamedTuple):
    module: str
    kind: str  # where its files go (see above)
    evidence: bool  # whether it shows lab results (only then are they looked up)


# Written here, not read from the modules, so that choosing formats imports none of them (the
# site module alone costs ~0.3 s of imports); a test checks that each module's KIND agrees.
REGISTRY: dict[str, Format] = {
    "site": Format("quizgen.formats.site", "site", evidence=True),
    "canvas": Format("quizgen.formats.canvas", "export", evidence=False),
    "qti21": Format("quizgen.formats.qti21", "export", evidence=False),
    "moodle": Format("quizgen.formats.moodle", "export", evidence=False),
    "gift": Format("quizgen.formats.gift", "export", evidence=False),
    "key": Format("quizgen.formats.key", "export", evidence=True),
    "csv": Format("quizgen.formats.csv", "export", evidence=False),
    "critique": Format("quizgen.formats.critique", "export", evidence=False),
    "notebooks": Format("quizgen.formats.notebooks", "notebooks", evidence=True),
    "otter": Format("quizgen.formats.otter", "export", evidence=True),
}
FORMATS: tuple[str, ...] = tuple(REGISTRY)


def get_format(name: str) -> ModuleType:
    return importlib.import_module(REGISTRY[name].module)


def kind(name: str) -> str:
    return REGISTRY[name].kind


def shows_evidence(names: list[str]) -> bool:
    return any(REGISTRY[name].evidence for name in names)


def names(kind: str | None = None) -> list[str]:
    return [name for name, entry in REGISTRY.items() if kind is None or entry.kind == kind]
