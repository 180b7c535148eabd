"""What the site tests share: paths, the tools they need, and stand-in lab results."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest

from paths import FIXTURES, ROOT

FULL = FIXTURES / "courses" / "full"
GENERATED = FIXTURES / "courses" / "generated"
GENERATED_RUBRIC = Path(__file__).resolve().parent / "courses" / "generated-rubric"
LEARNER = Path(__file__).resolve().parent / "courses" / "learner"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARTIFACTS = ROOT / "build" / "test-artifacts"


def png(width: int, height: int) -> bytes:
    """A small valid PNG (a grey gradient), standing in for a lab plot."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"".join(bytes([x * 255 // width] * 3) for x in range(width))
    rows = row * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def lab_results(folder: Path) -> dict:
    """Results as the lab engine caches them: `initialization` ran (one claim, with its plot, and the lab's
    names for its values), `sft-objective` ran but names none of the questions' claims, `ift-vs-pretraining`
    never ran."""
    directory = folder / "initialization"
    directory.mkdir(parents=True)
    (directory / "recall_vs_drift.png").write_bytes(png(64, 40))
    return {
        "initialization": {
            "lab": "initialization",
            "claims": [{
                "name": "aggressive-forgets",
                "description": "Aggressive fine-tuning erases pre-trained knowledge.",
                "passed": True,
                "conditions": [{"condition": "aggressive.recall <= 0.4", "holds": True},
                               {"condition": "moderate.recall >= 0.85", "holds": True}],
                "values": {"aggressive.recall": 0.1234567, "moderate.recall": 0.93},
                "run": "The model was fine-tuned moderately and aggressively, then asked every fact.",
                "plot": {"file": "recall_vs_drift.png", "caption": "Compare recall as drift grows.",
                         "alt": "Recall falls to {aggressive.recall} after aggressive fine-tuning."},
            }],
            "settings": {"config": {"NAMES": {"moderate": "after moderate fine-tuning",
                                              "aggressive": "after aggressive fine-tuning"}}},
            "metrics": {"moderate": {"recall": 0.93, "relative_drift": 0.0481}, "aggressive": {"recall": 0.1234567}},
            "plots": ["recall_vs_drift.png", "missing.png"],
            "directory": str(directory),
        },
        "sft-objective": {"lab": "sft-objective", "claims": [], "metrics": {}},
    }


def site_course(content: Path):
    """The course as a site built without lab results shows it: questions whose answers a lab measures are
    left out (quizgen.build.with_measured_answers)."""
    from quizgen.build import with_measured_answers
    from quizgen.loader import load_course

    return with_measured_answers(load_course(content), {})[0]


def needs(path: Path, what: str):
    if not path.exists():
        pytest.skip(f"{what} is not installed ({path} is missing; make test-setup installs it)")


def needs_java():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (make test-setup installs default-jre-headless)")
