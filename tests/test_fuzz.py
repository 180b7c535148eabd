"""Mutated concept files never raise anything but diagnostics, and every diagnostic points into its file."""

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizgen.errors import ContentError
from quizgen.loader import load_course
from paths import FIXTURES


SOURCES = sorted((FIXTURES / "courses" / "full").glob("*.md"))
TEXTS = [path.read_text(encoding="utf-8") for path in SOURCES]
FRAGMENTS = [
    "---", "{#", "{#q type=choice}", "{#q type=numeric answer=x}", "{#q type=critique points=0}", "- [x] ",
    "- [ ] ", "  > ", "### ", "#### ", "#### Rubric", "## Questions", "$$", "```", "|", "| a | b |", ":",
    "\t", "id: [", "title:", "\x00", "é", "{", "}", "\"", "\\", "<div>", "1.", "***",
]


@st.composite
def mutated(draw):
    index = draw(st.integers(0, len(TEXTS) - 1))
    lines = TEXTS[index].split("\n")
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace", "truncate"]))
        if action == "delete" and len(lines) > 1:
            del lines[position]
        elif action == "duplicate":
            lines.insert(position, lines[position])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[position], lines[other] = lines[other], lines[position]
        elif action == "insert":
            text = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)))
            lines.insert(position, text)
        elif action == "replace":
            line = lines[position]
            cut = draw(st.integers(0, len(line)))
            lines[position] = line[:cut] + draw(st.sampled_from(FRAGMENTS)) + line[cut:]
        elif action == "truncate":
            lines = lines[: position + 1]
    return SOURCES[index].name, "\n".join(lines)


@settings(max_examples=int(os.environ.get("QUIZGEN_FUZZ_EXAMPLES", 300)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_give_diagnostics_never_exceptions(case):
    name, text = case
    with tempfile.TemporaryDirectory() as folder:
        for source in SOURCES:
            target = Path(folder) / source.name
            target.write_text(text if source.name == name else source.read_text(encoding="utf-8"), encoding="utf-8")
        try:
            load_course(folder)
        except ContentError as error:
            assert error.diagnostics
            for diagnostic in error.diagnostics:
                assert Path(diagnostic.path).parent == Path(folder)
                path_lines = Path(diagnostic.path).read_text(encoding="utf-8").count("\n") + 1
                assert 1 <= diagnostic.line <= path_lines, str(diagnostic)
                assert diagnostic.message and "\n" not in diagnostic.message
