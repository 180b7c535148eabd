"""Output formats: one module each (quizgen/formats/<name>.py, exposing NAME and
write(course, results, out_dir)), declared once below with everything the rest of quizgen asks of it.
``write`` may return warnings (errors.Diagnostic, severity "warning", at the question's path:line) for
what the format cannot carry of the course; build() collects them and the command line prints them.

Adding a format = its module here, its template folder (quizgen/templates/<name>/, if it renders
templates) and one line in DECLARED.
The declarations are written here, not read from the modules, so that choosing formats imports none
of them: `quizgen check` never pays for jinja2 or lxml (the site module alone costs ~0.3 s of imports).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Literal, NamedTuple


class Format(NamedTuple):
    name: str  # its module's name, its template folder's name and its --format value
    # Where its files go under the build folder: "site" -> site/, "notebooks" -> notebooks/,
    # "export" -> export/<name>/.
    kind: Literal["site", "notebooks", "export"]
    forms: bool  # with --forms N, it writes form-1/ … form-N/, each a shuffled version with its own key
    cost: int  # its rendering time per question, relative to the others: how build shares work among processes
    evidence: bool  # whether it shows lab results (only then are they looked up)
    # with --learners FILE, it also writes learners/<lab or quiz>/<learner>.<ext>: each learner's own
    # variants of the generated questions (quizgen.variants.course_for_learner)
    per_learner: bool = False

    @property
    def module(self) -> str:
        return f"{__name__}.{self.name}"


DECLARED: tuple[Format, ...] = (
    Format("site", "site", forms=False, cost=3, evidence=True),
    Format("canvas", "export", forms=True, cost=3, evidence=False),
    Format("qti21", "export", forms=True, cost=4, evidence=False),
    Format("moodle", "export", forms=True, cost=2, evidence=False),
    Format("gift", "export", forms=True, cost=1, evidence=False),
    Format("key", "export", forms=True, cost=2, evidence=True),
    Format("csv", "export", forms=False, cost=1, evidence=False),
    Format("critique", "export", forms=False, cost=1, evidence=False),
    Format("notebooks", "notebooks", forms=False, cost=1, evidence=True, per_learner=True),
    Format("otter", "export", forms=False, cost=1, evidence=True),
)
REGISTRY: dict[str, Format] = {entry.name: entry for entry in DECLARED}
FORMATS: tuple[str, ...] = tuple(REGISTRY)


def get_format(name: str) -> ModuleType:
    return importlib.import_module(REGISTRY[name].module)


def warm_up(chosen: list[str]) -> None:
    """Import the formats' modules and compile their templates (in the environment a format module
    names with ``template_environment()``, if it does): what a build does first, done while other
    processes parse the course (load_course's ``warm_up``), and inherited by the processes that then
    render the formats."""
    modules = {name: get_format(name) for name in chosen}
    from quizgen.formats.common import compile_templates

    for name, module in modules.items():
        if hasattr(module, "template_environment"):
            compile_templates(name, module.template_environment())


def names(kind: str | None = None, *, forms: bool = False) -> list[str]:
    """The formats of ``kind`` (all of them when None), only those that support --forms if ``forms``."""
    return [entry.name for entry in DECLARED
            if (kind is None or entry.kind == kind) and (entry.forms or not forms)]


def shows_evidence(chosen: list[str]) -> bool:
    return any(REGISTRY[name].evidence for name in chosen)
