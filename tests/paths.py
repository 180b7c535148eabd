"""Where the tests find the project: ROOT (the checkout) and FIXTURES (tests/fixtures).

A module of its own, not conftest.py: every folder of tests has a conftest, so `from conftest import …`
would get whichever pytest loaded last. pytest puts tests/ on sys.path (its rootdir conftest lives
there), so any test module can `from paths import ROOT, FIXTURES`.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's (make test-setup installs it; never `playwright install`)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
