"""Reading what a learner's process produced: bounded, type-checked, and safe to write anywhere.

Everything that comes out of a sandbox (its messages, its answers, its error texts, its output) and
every name taken from a submitted file passes through here before the grader keeps it: JSON is parsed
with a depth and size bound, strings lose lone surrogates and control characters, and text shown in
Markdown feedback is escaped so that it renders as the text it is.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata

MAX_DEPTH = 40
MAX_ITEMS = 250_000
MAX_TEXT = 20_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# What could make text into something else in a Markdown table cell: a link or an image ([…](…)), the end of
# the cell (|), an escape (\\). HTML (<img onerror>, <script>) is escaped as entities. Emphasis and code
# spans only change how text looks, so they stay.
_MARKDOWN = re.compile(r"([\\\[\]|])")


class Rejected(ValueError):
    """A message from the sandbox that is not well-formed, or too large or too deep."""


def clean_text(text: str, limit: int = MAX_TEXT, *, keep_newlines: bool = False) -> str:
    """A string fit to store and print: valid UTF-8 (lone surrogates replaced), no control characters (no
    terminal escapes, no bidirectional overrides), at most `limit` characters."""
    text = text[:limit].encode("utf-8", "replace").decode("utf-8")
    if keep_newlines:
        return "\n".join(_CONTROL.sub("\ufffd", line.replace("\t", "    ")) for line in text.split("\n"))
    return _CONTROL.sub("\ufffd", text)


def parse(line: bytes, max_bytes: int, max_items: int = MAX_ITEMS, max_text: int = MAX_TEXT) -> object:
    """One JSON line, bounded; every string in it cleaned (and cut to ``max_text``). Raises Rejected."""
    if len(line) > max_bytes:
        raise Rejected("too long")
    try:
        value = json.loads(line.decode("utf-8", "replace"))
    except (ValueError, RecursionError, MemoryError) as error:
        raise Rejected(type(error).__name__) from None
    budget = [max_items]
    return _bounded(value, 0, budget, max_text)


def _bounded(value, depth: int, budget: list, max_text: int = MAX_TEXT) -> object:
    budget[0] -= 1
    if depth > MAX_DEPTH or budget[0] < 0:
        raise Rejected("too deep or too large")
    if isinstance(value, str):
        return clean_text(value, max_text)
    if isinstance(value, list):
        return [_bounded(item, depth + 1, budget, max_text) for item in value]
    if isinstance(value, dict):
        return {clean_text(key, 200): _bounded(item, depth + 1, budget, max_text) for key, item in value.items()}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        value = float(value) if abs(value) < 2**1023 else math.inf  # what the sandbox itself would send
    if isinstance(value, float) and not math.isfinite(value):  # not JSON: kept as what it is, ungradable
        return {"__unsupported__": f"a number that is not finite ({value})"}
    return value  # int, float, bool, None


def markdown_text(text: object, limit: int = 500) -> str:
    """Learner-derived text inside a Markdown line: one line, escaped, so `<img onerror>` or a link show as typed."""
    flat = " ".join(clean_text(str(text), limit).split())
    flat = unicodedata.normalize("NFC", flat)
    return _MARKDOWN.sub(r"\\\1", html.escape(flat, quote=False))


def log_text(data: bytes) -> str:
    """A notebook's output for logs/<learner>.txt: readable in a terminal without running its escapes."""
    return clean_text(data.decode("utf-8", "replace"), len(data) + 1, keep_newlines=True)
