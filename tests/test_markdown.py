"""render_markdown: the plain-text fast path must give exactly what markdown-it gives."""

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from quizgen.markdown import _renderer, render_markdown

ALPHABET = st.sampled_from(list("abc XYZ019.,;:'\"()?/@%-+=*_`#[]<>!&|$~^\\\n\t\r\x00\x0b\x0c") + ["é", "日", "  ", "\n\n", "1. ", "- ", "\u00a0"])


@settings(max_examples=int(os.environ.get("QUIZGEN_FUZZ_EXAMPLES", 2000)), deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_fast_path_matches_markdown_it(text):
    md = _renderer("tex")
    assert render_markdown(text) == md.render(text)
    assert render_markdown(text, inline=True) == md.renderInline(text)


def test_raw_html_is_escaped_and_math_is_delimited():
    assert render_markdown("<b>x</b> $a<b$") == (
        '<p>&lt;b&gt;x&lt;/b&gt; <span class="math inline">\\(a&lt;b\\)</span></p>\n'
    )
    assert render_markdown('plain words, "quotes"') == "<p>plain words, &quot;quotes&quot;</p>\n"
