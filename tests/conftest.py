from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def full_course():
    from quizgen.loader import load_course

    return load_course(FIXTURES / "courses" / "full")
