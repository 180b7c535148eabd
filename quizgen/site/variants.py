"""Generated questions on a page: every variant is rendered, the page's script shows one.

A question's templates wrap each text that may differ between variants in a call block:

    {% call(v) varying(q) %}{{ v.stem|md }}{% endcall %}

``varying`` renders the block for every variant and writes it once when all variants render the same
HTML, else one element per variant (``data-variant`` = the variant's index, 1-based), every one but the
first ``hidden``: without JavaScript the first variant shows and works, as any question does, and the
script shows the learner's own. The data attributes the script checks answers with are written the
same way (``check_data``): the first variant's on the form, and, in ``data-variants``, each attribute
that differs with its value in every variant. So a page carries only what varies.
"""

from __future__ import annotations

import html
import json
import re
from typing import Callable

from markupsafe import Markup

_ATTRIBUTE = re.compile(r"""\s*(data-[a-z][a-z0-9-]*)=(?:"([^"]*)"|'([^']*)')\s*""")


def variants_of(question) -> tuple:
    """The variants of a generated question; a question without parameters is its only variant."""
    return question.variants or (question,)


def varying(question, tag: str = "div", caller: Callable | None = None) -> Markup:
    """The HTML ``caller`` renders for each variant of ``question``, once if every variant renders the
    same; else each variant's in a ``<tag data-variant="N">``, all but the first hidden."""
    rendered = [caller(variant) for variant in variants_of(question)]
    if all(part == rendered[0] for part in rendered):
        return rendered[0]
    return Markup("").join(
        Markup('<{0} data-variant="{1}"{2}>{3}</{0}>').format(
            tag, index, "" if index == 1 else Markup(" hidden"), part)
        for index, part in enumerate(rendered, 1))


def check_data(question, caller: Callable | None = None) -> Markup:
    """The ``data-*`` attributes ``caller`` writes for a question's form: the first variant's as written,
    plus ``data-variants``, a JSON object giving each attribute that differs between variants (its name
    without ``data-``) its value in every variant, in order (null where a variant has none)."""
    first = caller(question)
    if not question.variants:
        return first
    rendered = [_attributes(caller(variant)) for variant in question.variants]
    names = sorted(set().union(*rendered))
    differing = [name for name in names if len({attributes.get(name) for attributes in rendered}) > 1]
    if not differing:
        return first
    table = {name.removeprefix("data-"): [attributes.get(name) for attributes in rendered] for name in differing}
    return first + Markup(' data-variants="{}"').format(json.dumps(table, ensure_ascii=False, separators=(",", ":")))


def _attributes(text: str) -> dict[str, str]:
    """``data-a="1" data-b='x'`` -> {"data-a": "1", "data-b": "x"} (values unescaped)."""
    attributes, position, text = {}, 0, str(text).strip()
    while position < len(text):
        match = _ATTRIBUTE.match(text, position)
        if match is None:
            raise ValueError(f"check_data blocks write only data-name=\"value\" attributes, not {text[position:]!r}")
        value = match.group(2) if match.group(2) is not None else match.group(3)
        attributes[match.group(1)] = html.unescape(value)
        position = match.end()
    return attributes
