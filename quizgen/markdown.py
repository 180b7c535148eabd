"""The project's one Markdown dialect: CommonMark + tables + front matter + math.

The loader only needs the block structure and each block's line span (``Token.map``), so it uses a
parser with inline parsing switched off; the raw Markdown of every stem, option and explanation is
kept as text and rendered by the output formats.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin


def _dialect() -> MarkdownIt:
    return (
        MarkdownIt("commonmark")
        .enable("table")
        .use(front_matter_plugin)
        .use(dollarmath_plugin, allow_space=True, double_inline=True)
    )


@lru_cache(maxsize=1)
def structure_parser() -> MarkdownIt:
    """Block-level parser for loading: inline rules are not run (about 3x faster)."""
    md = _dialect()
    md.disable("inline")
    return md
