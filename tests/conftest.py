import os
import tempfile
from pathlib import Path

import pytest

# The CLI caches parsed files under XDG_CACHE_HOME; tests must neither read a developer's cache nor
# leave one behind, so the whole run (subprocesses included) gets a fresh one.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="quizgen-test-cache-")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def full_course():
    from quizgen.loader import load_course

    return load_course(FIXTURES / "courses" / "full")
