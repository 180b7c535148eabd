"""render_markdown's fast paths and the loader's structure parser must give exactly what markdown-it gives."""

import os

import pytest

from hypothesis import example, given, settings
from hypothesis import strategies as st

from paths import ROOT
from quizgen.markdown import _dialect, _renderer, render_markdown, structure_parser

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


NUMBERED = st.sampled_from(list("ab 0123456789.,-+*_`#[]<>!&|$~^\\\n\r\t(){}") + ["12", "3.5", "\n\n", "1. ", "- ", "> ", "$$", "é", "&#49;"])


@settings(max_examples=int(os.environ.get("QUIZGEN_FUZZ_EXAMPLES", 2000)), deadline=None)
@given(st.lists(NUMBERED, max_size=40).map("".join), st.sampled_from(["tex", "mathml", "html"]))
@example("$$\\0$$", "mathml")  # display math: a sentinel after the backslash came out as one command name
def test_numbers_put_back_into_a_rendered_skeleton_match_markdown_it(text, math):
    """Texts with digits go through the skeleton path (variants of a generated question share one parse)."""
    md = _renderer(math)
    for inline, reference in ((False, md.render), (True, md.renderInline)):
        try:
            expected = reference(text)
        except Exception as error:  # noqa: BLE001 - TeX latex2mathml cannot read (check reports it): same error
            with pytest.raises(type(error)):
                render_markdown(text, math=math, inline=inline)
            continue
        assert render_markdown(text, math=math, inline=inline) == expected


def test_variants_share_one_parse_of_their_skeleton():
    from quizgen.markdown import _render_skeleton

    _render_skeleton.cache_clear()
    for steps in (3, 14, 250):
        text = f"A run of case 3.7 takes **{steps} steps** of $10^{{-3}}$, at most {steps / 1000} away."
        for math in ("tex", "mathml"):
            assert render_markdown(text, math=math) == _renderer(math).render(text)
    info = _render_skeleton.cache_info()
    assert (info.misses, info.hits) == (2, 4)
    # a digit that may start a list item stays in the skeleton: "3." starts a list, "q." would not
    assert render_markdown("3. items\n\nnot 4. here") == _renderer("tex").render("3. items\n\nnot 4. here")


# Lines as concept files have them, each kind of block start (and near misses), at several indentations.
LINE_STARTS = st.sampled_from(["", "", "- ", "* ", "+ ", "1. ", "12) ", "- [x] ", "- [ ] ", "> ", ">", "# ", "### ", "####",
                               "#x", "```", "~~~", "$$", "---", "***", "___", "-", "| ", "|", ":-", "a | b", "{#q1 type=choice}"])
LINE = st.tuples(st.sampled_from(["", " ", "  ", "   ", "    ", "\t"]), LINE_STARTS,
                 st.sampled_from(["", "text", "$x$", "> quoted", "- x", "|---|", "$$", "```", "#"])).map("".join)
DOCUMENT = st.lists(LINE, max_size=25).map("\n".join)


def block_tokens(md, text: str) -> list[tuple]:
    return [(t.type, t.tag, t.map, t.nesting, t.level, t.content, t.markup, t.info, t.block, t.hidden, t.attrs, t.meta)
            for t in md.parse(text)]


def plain_structure_parser():
    md = _dialect()
    md.disable(["inline", "html_block", "reference", "lheading"])
    return md


@settings(max_examples=int(os.environ.get("QUIZGEN_FUZZ_EXAMPLES", 2000)), deadline=None)
@given(DOCUMENT)
@example("- |---|\ntext")  # the front matter rule looks at the file's first character, not the line's
def test_structure_parser_tries_fewer_rules_for_the_same_tokens(text):
    assert block_tokens(structure_parser(), text) == block_tokens(plain_structure_parser(), text)


def test_structure_parser_gives_the_same_tokens_on_every_markdown_file_of_the_project():
    files = [path for folder in ("content", "docs", "tests/fixtures", "labs") for path in (ROOT / folder).rglob("*.md")]
    assert len(files) > 50
    plain = plain_structure_parser()
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert block_tokens(structure_parser(), text) == block_tokens(plain, text), path
