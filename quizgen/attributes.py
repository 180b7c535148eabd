"""The attribute line above a question heading: ``{#question-id type=numeric answer=0.05 unit="%"}``.

Pandoc-style, but bare values may hold any character except space, quote and brace, so that
``answer=0.05`` and ``metric=moderate.relative_drift`` need no quotes (mdit's attrs plugin rejects both).
"""

from __future__ import annotations

import re

_ITEM = re.compile(
    r"""\s*(?:
        \#(?P<id>[^\s{}"]+)
      | (?P<key>[A-Za-z_][\w-]*)\s*=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s{}"]+))
    )""",
    re.VERBOSE,
)


class AttributeSyntaxError(ValueError):
    pass


def parse_attribute_line(text: str) -> dict[str, str]:
    """Parse ``{#id key=value ...}``; raise AttributeSyntaxError with a sentence saying what is wrong."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise AttributeSyntaxError("an attribute line starts with '{' and ends with '}'")
    body, position, attrs = text[1:-1], 0, {}
    while body[position:].strip():
        match = _ITEM.match(body, position)
        if match is None:
            rest = body[position:].strip()
            if rest.count('"') % 2:
                raise AttributeSyntaxError(f"unterminated quote in {rest!r}")
            raise AttributeSyntaxError(f"cannot read {rest.split()[0]!r}: write #id or key=value")
        key = "id" if match.group("id") is not None else match.group("key")
        if key in attrs:
            raise AttributeSyntaxError(f"'{key}' is given twice")
        if match.group("id") is not None:
            attrs[key] = match.group("id")
        elif match.group("quoted") is not None:
            attrs[key] = re.sub(r"\\(.)", r"\1", match.group("quoted"))
        else:
            attrs[key] = match.group("bare")
        position = match.end()
    return attrs
