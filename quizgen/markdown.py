"""The project's one Markdown dialect: CommonMark + tables + front matter + ``$…$`` / ``$$…$$`` math.

Two uses:
- loading: only the block structure and each block's line span (``Token.map``) are needed, so the
  loader's parser runs with inline parsing switched off;
- rendering: ``render_markdown(text, math=...)`` turns the raw Markdown kept in the Course into HTML
  for an output format. Raw HTML in content is escaped, never passed through: course text is data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from typing import Literal, Mapping
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

# tex: \( … \) for a script or an LMS filter to typeset; mathml: MathML as latex2mathml writes it (the
# exports); html: MathML Core, what browsers typeset themselves (the quiz site).
MathStyle = Literal["tex", "mathml", "html"]


def _dialect(math_renderers: tuple | None = None) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(front_matter_plugin)
    options = {"allow_space": True, "double_inline": True}
    if math_renderers:
        options |= {"renderer": math_renderers[0]}
    md.use(dollarmath_plugin, **options)
    return md


@lru_cache(maxsize=1)
def structure_parser() -> MarkdownIt:
    """Block-level parser for loading: inline rules are not run (about 3x faster), nor block rules
    that cannot matter to a file's structure: raw HTML blocks (off anyway: html is False), link
    reference definitions, and setext headings (structural headings are written with #, so an
    underlined line stays a paragraph here; it still renders as a heading). About 15% faster.
    Each line tries only the block rules that can start with its first character (_by_first_character):
    the same tokens, for fewer calls (benchmarks/export_speed.py measures loading with it)."""
    md = _dialect()
    md.disable(["inline", "html_block", "reference", "lheading"])
    _by_first_character(md)
    return md


# The block rules that start only on a line whose first character (after its indentation) is one of
# these: each rule's own first test (markdown-it's rules_block, mdit-py-plugins' dollar math) returns
# False on any other. Rules not named here are always tried: table and code (which look at the next line
# and the indentation), paragraph, and front matter, which looks at the source's first character, not the
# line's (so it also matches inside a list item that opens a file: "- |---|").
RULE_STARTS = {"math_block": "$", "fence": "`~", "blockquote": ">", "hr": "*-_", "list": "*-+0123456789",
               "heading": "#"}


def _by_first_character(md: MarkdownIt) -> None:
    """Make ``md``'s block parser try, at each line, only the rules of RULE_STARTS that can start with the
    line's first character, in their usual order. A rule left out would have returned False, so the
    tokens are the same (tests/test_markdown.py compares them); on a 1,000-question course each line
    tried ~8 rules to find its one. This applies to the main chain and to the chains of rules that may
    end a paragraph, blockquote or list (markdown-it's "alt" chains)."""
    ruler = md.block.ruler
    chains = {chain: _dispatcher([rule for rule in ruler.__rules__
                                  if rule.enabled and (chain == "" or chain in rule.alt)])
              for chain in ("", *{alt for rule in ruler.__rules__ for alt in rule.alt})}
    compiled = ruler.getRules
    ruler.getRules = lambda chain: chains[chain] if chain in chains else compiled(chain)


def _dispatcher(rules: list) -> list:
    """A chain of one rule that runs, of ``rules``, those the line's first character allows."""
    by_character: dict[str, tuple] = {}

    def dispatch(state, start_line: int, end_line: int, silent: bool) -> bool:
        position = state.bMarks[start_line] + state.tShift[start_line]
        character = state.src[position] if position < len(state.src) else ""
        tried = by_character.get(character)
        if tried is None:
            tried = by_character[character] = tuple(
                rule.fn for rule in rules if rule.name not in RULE_STARTS or character in RULE_STARTS[rule.name])
        for function in tried:
            if function(state, start_line, end_line, silent):
                return True
        return False

    return [dispatch]


# --- rendering ------------------------------------------------------------------------------------


def _math_tex(content: str, options: dict) -> str:
    """TeX between \\( … \\) or \\[ … \\]: what KaTeX's auto-render and the MathJax filters of Moodle
    and Canvas look for, and still readable as TeX where no script runs. The plugin wraps it in
    <span class="math inline"> or <div class="math block">."""
    if options.get("display_mode"):
        return f"\\[{escape(content.strip())}\\]"
    return f"\\({escape(content.strip())}\\)"


def _math_mathml(content: str, options: dict) -> str:
    return _mathml(content.strip(), "block" if options.get("display_mode") else "inline")


@lru_cache(maxsize=8192)
def _mathml(tex: str, display: str) -> str:
    """MathML for a TeX formula; cached because courses repeat the same few symbols ($\\theta$) a lot."""
    from latex2mathml.converter import convert

    return convert(tex, display=display)


def _math_html(content: str, options: dict) -> str:
    """MathML Core for a browser to typeset without a script (see ``_core_mathml``). TeX latex2mathml
    cannot read stays TeX."""
    display = "block" if options.get("display_mode") else "inline"
    try:
        return _core_mathml(content.strip(), display)
    except Exception:  # latex2mathml raises many kinds of error on broken TeX; the page shows the source
        return _math_tex(content, options)


_MATHML_NS = "http://www.w3.org/1998/Math/MathML"
# Operator names latex2mathml 3.8 does not know and leaves as <mi>\arg</mi>: written as their names.
_OPERATOR_NAMES = frozenset("arg deg det dim exp gcd hom inf ker lg lim liminf limsup ln log max min Pr sec sin "
                            "cos tan sup cot csc sinh cosh tanh arcsin arccos arctan".split())
# Operators whose subscript TeX sets under them in display math (\max_\theta, \Pr_\theta, \lim_{n}).
_LIMIT_OPERATORS = frozenset("det gcd inf lim liminf limsup max min Pr sup".split())


@lru_cache(maxsize=8192)
def _core_mathml(tex: str, display: str) -> str:
    """latex2mathml's MathML made MathML Core, what Chromium, Firefox and Safari typeset:

    - a ``mathvariant`` letter (``\\mathcal D``, ``\\boldsymbol\\theta``) becomes the Unicode letter it
      stands for, since MathML Core draws every other variant as a plain letter;
    - an operator name latex2mathml leaves as TeX (``\\arg``) becomes its name;
    - a subscript of ``\\max``, ``\\Pr``, ``\\lim``… becomes an ``munder`` with movable limits: under the
      operator in display math, beside it inline, as TeX sets it.
    """
    from xml.etree import ElementTree

    root = ElementTree.fromstring(_mathml(tex, display))
    tag = lambda name: f"{{{_MATHML_NS}}}{name}"  # noqa: E731
    for element in root.iter():
        text = element.text or ""
        if element.tag in (tag("mi"), tag("mn")) and "mathvariant" in element.attrib:
            letters = _variant_letters(element.get("mathvariant"), text)
            if letters is not None:
                element.text = letters
                del element.attrib["mathvariant"]
        elif element.tag == tag("mi") and text.startswith("\\") and text[1:] in _OPERATOR_NAMES:
            element.text = text[1:]
        elif element.tag == tag("msub") and len(element) == 2 and element[0].tag == tag("mo") and (
                element[0].text in _LIMIT_OPERATORS or element[0].get("movablelimits") == "true"):
            element.tag = tag("munder")
            element[0].set("movablelimits", "true")
    ElementTree.register_namespace("", _MATHML_NS)
    if display == "inline":
        return "<wbr>".join(ElementTree.tostring(part, encoding="unicode") for part in _line_parts(root))
    return ElementTree.tostring(root, encoding="unicode")


# Where a line may break in inline math, as TeX breaks it: after a relation or a binary operator at the top.
_BREAK_AFTER = frozenset("= ≈ ≠ < > ≤ ≥ ≡ ∼ ≃ ≅ ∝ → ← ⇒ ⇔ ↦ ∈ ∉ ⊂ ⊆ + − ± × · ∗ ,".split())
_UNBROKEN = 6  # a formula of fewer top-level parts is never broken


def _line_parts(root):
    """An inline formula as one <math> per piece a line may end after: MathML Core never breaks a line
    inside a formula, and a long one would widen a phone's page."""
    from xml.etree import ElementTree

    row = root[0] if len(root) == 1 and root[0].tag == f"{{{_MATHML_NS}}}mrow" else root
    if len(row) < _UNBROKEN:
        return [root]
    pieces, current = [], []
    for child in row:
        current.append(child)
        # not after an operator that opens a piece: that is a sign (the minus of ≈ −0.69), kept with its number
        if len(current) > 1 and child.tag == f"{{{_MATHML_NS}}}mo" and (child.text or "").strip() in _BREAK_AFTER:
            child.set("form", child.get("form", "infix"))  # spaced as between its operands, not as a piece's last
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    if len(pieces) == 1:
        return [root]
    parts = []
    for piece in pieces:
        part = ElementTree.Element(root.tag, root.attrib)
        part.append(ElementTree.Element(f"{{{_MATHML_NS}}}mrow"))
        part[0].extend(piece)
        parts.append(part)
    return parts


# The first code point of each style's A, a, 0 and Greek α in Mathematical Alphanumeric Symbols, and the
# letters Unicode had encoded before that block (the block leaves their places empty).
_ALPHANUMERIC = {
    "bold": (0x1D400, 0x1D41A, 0x1D7CE, 0x1D6C2, {}),
    "italic": (0x1D434, 0x1D44E, None, 0x1D6FC, {"h": 0x210E}),
    "bold-italic": (0x1D468, 0x1D482, None, 0x1D736, {}),
    "script": (0x1D49C, 0x1D4B6, None, None, {"B": 0x212C, "E": 0x2130, "F": 0x2131, "H": 0x210B, "I": 0x2110,
                                              "L": 0x2112, "M": 0x2133, "R": 0x211B, "e": 0x212F, "g": 0x210A,
                                              "o": 0x2134}),
    "bold-script": (0x1D4D0, 0x1D4EA, None, None, {}),
    "fraktur": (0x1D504, 0x1D51E, None, None, {"C": 0x212D, "H": 0x210C, "I": 0x2111, "R": 0x211C, "Z": 0x2128}),
    "double-struck": (0x1D538, 0x1D552, 0x1D7D8, None, {"C": 0x2102, "H": 0x210D, "N": 0x2115, "P": 0x2119,
                                                         "Q": 0x211A, "R": 0x211D, "Z": 0x2124}),
    "sans-serif": (0x1D5A0, 0x1D5BA, 0x1D7E2, None, {}),
    "monospace": (0x1D670, 0x1D68A, 0x1D7F6, None, {}),
}


def _variant_letters(variant: str, letters: str) -> str | None:
    """``letters`` in a mathvariant's Unicode letters, or None where the style has no such letter."""
    style = _ALPHANUMERIC.get(variant)
    if style is None or not letters:
        return None
    upper, lower, digit, greek, exceptions = style
    mapped = []
    for char in letters:
        if char in exceptions:
            mapped.append(chr(exceptions[char]))
        elif "A" <= char <= "Z":
            mapped.append(chr(upper + ord(char) - ord("A")))
        elif "a" <= char <= "z":
            mapped.append(chr(lower + ord(char) - ord("a")))
        elif digit and "0" <= char <= "9":
            mapped.append(chr(digit + ord(char) - ord("0")))
        elif greek and "\u03b1" <= char <= "\u03c9":
            mapped.append(chr(greek + ord(char) - 0x3B1))
        else:
            return None
    return "".join(mapped)


_MATH = {"tex": _math_tex, "mathml": _math_mathml, "html": _math_html}


@lru_cache(maxsize=None)
def _renderer(math: MathStyle) -> MarkdownIt:
    return _dialect((_MATH[math],))


# Text with none of these is a single plain paragraph: most options and feedback are. Rendering it
# directly gives the same HTML as markdown-it (tests/test_markdown.py checks that with hypothesis)
# at a fraction of the cost, which matters for 10,000-question courses.
_NEEDS_PARSER = re.compile(
    r"""[\\`*_\[\]<>!&#|$~^\x00\r\f\v]  # inline syntax, entities, math, raw HTML, odd controls
    | ^\s                             # indentation (code blocks), blank lines
    | \s$                             # trailing white space: hard breaks, trimming
    | ^(?:[-+=]|\d+[.)])              # list items, setext underlines, ordered lists
    | \n[ \t]*\n                      # more than one paragraph
    """,
    re.VERBOSE | re.MULTILINE,
)


def local_images(tokens):
    """The image tokens among ``tokens`` (parsed with the rendering dialect) whose src is a local
    file: no scheme, host, absolute path or fragment of its own."""
    for token in tokens:
        for child in token.children or ():
            src = child.attrGet("src") if child.type == "image" else None
            if src and not urlsplit(src).scheme and not src.startswith(("/", "#", "?")):
                yield child


def images_of(text: str):
    """(image token, line span of its block) for every local image in a whole file's Markdown."""
    if "![" not in text:
        return
    for token in _renderer("tex").parse(text):
        for image in local_images([token]):
            yield image, token.map


_IMAGE_DESTINATION = re.compile(r"(!\[(?:[^\]\\\n]|\\.)*\]\(\s*)(<[^>\n]*>|[^\s)]+)")


def replace_images(text: str, urls: Mapping[str, str]) -> str:
    """The Markdown ``text`` with each image whose src (as markdown-it reads it) ``urls`` names pointing
    at that URL instead: for outputs that keep Markdown (notebooks), where render_markdown's files= is
    for those that write HTML."""
    normalize = _renderer("tex").normalizeLink

    def swap(match: re.Match) -> str:
        written = match.group(2)
        url = urls.get(normalize(written[1:-1] if written.startswith("<") else written))
        if url is None:
            return match.group(0)
        return match.group(1) + (f"<{url}>" if " " in url else url)

    return _IMAGE_DESTINATION.sub(swap, text)


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render_markdown(text: str, math: MathStyle = "tex", inline: bool = False,
                    files: Mapping[str, str] | None = None) -> str:
    """HTML for a piece of course Markdown. ``inline`` drops the wrapping <p> of a one-paragraph text.

    ``files`` maps an image's src, as the Markdown writes it (Concept.file_names), to where the output
    serves that file from; an image it does not name keeps its src.
    """
    if files and "![" in text:
        md = _renderer(math)
        env: dict = {}
        tokens = md.parseInline(text, env) if inline else md.parse(text, env)
        for image in local_images(tokens):
            if image.attrGet("src") in files:
                image.attrSet("src", files[image.attrGet("src")])
        return md.renderer.render(tokens, md.options, env)
    if text.strip() and not _NEEDS_PARSER.search(text):
        if inline:
            return _escape_html(text)
        return f"<p>{_escape_html(text.strip(chr(10)))}</p>\n"
    skeleton = _skeleton(text, math)
    if skeleton is not None:
        parts = _render_skeleton(skeleton[0], math, inline)
        if parts is not None:  # [html, sentinel index, html, …, html]: each sentinel's digits go back in
            numbers, filled = skeleton[1], list(parts)
            filled[1::2] = [numbers[index] for index in parts[1::2]]
            return "".join(filled)
    return _parse_and_render(text, math, inline)


def _parse_and_render(text: str, math: MathStyle, inline: bool) -> str:
    md = _renderer(math)
    if inline:
        return md.renderInline(text)
    return md.render(text)


# --- texts that differ only in their numbers --------------------------------------------------------
# The variants of a generated question (quizgen.variants) are the same Markdown with other numbers in it:
# "takes 12 steps of $10^{-3}$" and "takes 13 steps …". Each run of digits that Markdown reads as plain
# text is replaced by a sentinel made of letters (which CommonMark treats as it treats digits in running
# text: both are alphanumeric for emphasis, escapes, links and math delimiters), the skeleton is parsed and
# rendered once, and each variant's digits are put back into its HTML. Kept literal, so part of the
# skeleton: a run that may be an ordered list's marker (1. or 1) after container markers only), and for
# MathML styles a run between the text's first and last unescaped $, which may be math: the math renderer
# reads digits one by one, and a sentinel after a backslash would come out whole as a command's name
# (every math span opens and closes on an unescaped $, so no run outside them is math). Texts with entities, \r,
# brackets (link labels must match digit for digit) or the sentinel's letters are rendered directly; so
# is a skeleton whose rendering does not hold each sentinel exactly once (tests/test_markdown.py checks
# with hypothesis that every path gives what markdown-it gives).
_SENTINEL = re.compile(r"qzqz([a-z]{2})")
_DIGIT_RUNS = re.compile(r"([0-9]+)")
# Digits that may be an ordered list's marker: followed by . or ), after nothing on their line but white
# space and container markers (a blockquote's >, a list's -, * +, or another ordered marker).
_LINE_START_DIGITS = re.compile(r"^[ \t>*+\-0-9.)]*[0-9][.)]", re.MULTILINE)
_LINE_START = re.compile(r"[ \t>*+\-0-9.)]*")  # what may stand before a list marker on its line
_NO_SKELETON = re.compile(r"qz|&#|\[|\r", re.IGNORECASE)
_SENTINELS = tuple("qzqz" + first + second for first in "abcdefghijklmnopqrstuvwxyz"
                   for second in "abcdefghijklmnopqrstuvwxyz")


def _skeleton(text: str, math: MathStyle) -> tuple[str, list[str]] | None:
    """(the text with its plain-text digit runs replaced by sentinels, those runs), or None."""
    if _NO_SKELETON.search(text):
        return None
    parts = _DIGIT_RUNS.split(text)  # [text, digits, text, …, text]
    if len(parts) == 1:
        return None
    if _LINE_START_DIGITS.search(text) is None and (math == "tex" or "$" not in text):
        numbers = parts[1::2]  # every run is plain text
        if len(numbers) > len(_SENTINELS):
            return None
        parts[1::2] = _SENTINELS[:len(numbers)]
        return "".join(parts), numbers
    pieces, numbers, position = [], [], 0
    dollars = _unescaped_dollars(text) if math != "tex" else []
    for match in _DIGIT_RUNS.finditer(text):
        start = match.start()
        line_start = text.rfind("\n", 0, start) + 1
        if text[match.end():match.end() + 1] in (".", ")") and _LINE_START.fullmatch(text, line_start, start):
            continue  # may be a list marker
        if dollars and dollars[0] < start < dollars[-1]:  # between the first and the last $: maybe math
            continue
        if len(numbers) == len(_SENTINELS):
            return None
        pieces += [text[position:start], _SENTINELS[len(numbers)]]
        numbers.append(match.group())
        position = match.end()
    if not numbers:
        return None
    pieces.append(text[position:])
    return "".join(pieces), numbers


def _unescaped_dollars(text: str) -> list[int]:
    """Where the $ signs not escaped by a backslash are: math, if any, lies between the first and the last."""
    positions, index = [], text.find("$")
    while index >= 0:
        backslashes = index - len(text[:index].rstrip("\\"))
        if backslashes % 2 == 0:
            positions.append(index)
        index = text.find("$", index + 1)
    return positions


@lru_cache(maxsize=4096)
def _render_skeleton(skeleton: str, math: MathStyle, inline: bool) -> tuple | None:
    """The skeleton's HTML split at its sentinels (html, index, html, …, html), or None unless it holds
    each of its sentinels exactly once and in order."""
    rendered = _parse_and_render(skeleton, math, inline)
    parts = _SENTINEL.split(rendered)
    indices = [(ord(letters[0]) - 97) * 26 + ord(letters[1]) - 97 for letters in parts[1::2]]
    if indices != list(range(len(_SENTINEL.findall(skeleton)))):
        return None
    parts[1::2] = indices
    return tuple(parts)
