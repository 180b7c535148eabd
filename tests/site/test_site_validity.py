"""Every page of both built sites passes the Nu HTML Checker (npm vnu-jar, run with the machine's Java)."""

from __future__ import annotations

import json
import subprocess

from site_helpers import VNU, needs, needs_java


def test_every_page_is_valid_html(sites):
    needs(VNU, "vnu-jar (npm)")
    needs_java()
    pages = [str(path) for build_dir in sites.values() for path in sorted((build_dir / "site").rglob("*.html"))]
    assert len(pages) > 10
    result = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '').rsplit('/site/', 1)[-1]}:{m.get('lastLine')}: {m.get('message')}"
              for m in messages if m.get("type") in ("error", "non-document-error")]
    assert errors == []
