"""The site as files: what each page holds without JavaScript, its links, lab evidence, determinism,
and atomic builds. (The browser tests drive the same pages in Chromium.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from lxml import html as lxml_html

from quizgen.build import build
from quizgen.errors import ContentError
from quizgen.site import pages as site_pages
from quizgen.site.evidence import missing_claims
from quizgen.site.order import learning_order, tag_slugs
from paths import FIXTURES, ROOT
from site_helpers import site_course

FULL = FIXTURES / "courses" / "full"


def parse(path: Path):
    return lxml_html.fromstring(path.read_bytes())


_STEP = re.compile(r'(>)?\s*([a-z0-9*]*)((?:\.[\w-]+)*)((?:\[[\w-]+(?:="[^"]*")?\])*)\s*')


def select(element, selector: str) -> list:
    """A CSS selector subset (tag, .class, [attr], [attr="v"], descendant and > child) as XPath,
    so the tests need no cssselect package."""
    xpath, position = ".", 0
    while position < len(selector):
        match = _STEP.match(selector, position)
        child, tag, classes, attributes = match.groups()
        xpath += ("/" if child else "//") + (tag or "*")
        for name in filter(None, classes.split(".")):
            xpath += f"[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"
        for name, value in re.findall(r'\[([\w-]+)(?:="([^"]*)")?\]', attributes):
            xpath += f"[@{name}='{value}']" if value else f"[@{name}]"
        position = match.end()
    return element.xpath(xpath)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def text(element) -> str:
    return " ".join(element.text_content().split())


# --- what is on the pages ------------------------------------------------------------------------


def test_index_lists_every_concept_in_learning_order(sites):
    index = parse(sites["content"] / "site" / "index.html")
    links = [a.get("href") for a in select(index, ".concept-list .concept-title")]
    # parameter-initialization (forgetting, moderate adjustment) sends the learner to sft-objective, which
    # sends them to ift-vs-pretraining: nothing uses forgetting or moderate adjustment before it is taught;
    # keeping-knowledge, the remedies for forgetting, comes after them.
    assert links == ["concepts/parameter-initialization.html", "concepts/sft-objective.html",
                     "concepts/ift-vs-pretraining.html", "concepts/keeping-knowledge.html"]
    course = site_course(ROOT / "content")
    assert len(select(index, ".concept-list > li")) == len(course.concepts)


def test_learning_order_follows_learn_after_and_keeps_file_order_otherwise(full_course):
    order = [concept.id for concept in learning_order(full_course)]
    # Both ift-vs-pretraining and parameter-initialization send the learner on to sft-objective, which
    # is first in file order; the two keep their file order (links to a concept's own questions ignored).
    assert order == ["ift-vs-pretraining", "parameter-initialization", "sft-objective"]


def test_tag_slugs_are_unique_file_names():
    slugs = tag_slugs(["C++", "c", "C", "Foundations of LLMs", "foundations of llms!"])
    assert len(set(slugs.values())) == 5
    assert all(slug.replace("-", "").isalnum() for slug in slugs.values())


def test_every_question_is_answerable_without_javascript(sites):
    """Each question's answer and explanation sit in a <details> right after its form."""
    course = site_course(ROOT / "content")
    for concept in course.concepts:
        page = parse(sites["content"] / "site" / "concepts" / f"{concept.id}.html")
        for question in concept.questions:
            section = page.get_element_by_id(f"q-{question.id}")
            answer = select(section, "details.answer")
            assert len(answer) == 1, (concept.id, question.id)
            shown = text(answer[0])
            assert "Explanation" in shown
            if question.type in ("choice", "multi", "truefalse"):
                right = [i for i, option in enumerate(question.options) if option.correct]
                marked = [int(li.get("data-option")) for li in select(answer[0], ".key > li.right")]
                assert marked == right
            if question.type == "numeric":
                assert f"{question.answer:.6g}" in shown
            if question.type == "short":
                assert question.accepted[0] in shown
            if question.type == "critique":
                assert len(select(answer[0], ".criterion")) == len(question.rubric)
                assert "Exemplar" in shown
            # the controls that need JavaScript show only where it runs (site.css: html:not(.js) .js-only)
            assert all("js-only" in actions.get("class").split() for actions in select(section, ".actions"))


def test_answers_are_embedded_for_the_script(full_course, sites):
    page = parse(sites["full"] / "site" / "concepts" / "parameter-initialization.html")
    forms = {form.get("data-key"): form for form in select(page, "form.quiz")}
    drift = full_course.concept("parameter-initialization").question("drift")
    numeric = forms["parameter-initialization#drift"]
    assert float(numeric.get("data-answer")) == drift.answer
    assert float(numeric.get("data-margin")) == drift.margin
    multi = forms["parameter-initialization#signs-of-forgetting"]
    assert multi.get("data-correct") == "0 1" and multi.get("data-scoring") == "partial"


def test_math_is_mathml_in_the_page_with_its_font(sites):
    """Math is typeset by the browser from MathML written at build time: no TeX left, no math script."""
    site = sites["content"] / "site"
    for path in sorted((site / "concepts").glob("*.html")):
        source = path.read_text(encoding="utf-8")
        assert "\\(" not in source and "\\[" not in source and "katex" not in source.lower(), path.name
        page = parse(path)
        for math in page.xpath("//*[contains(concat(' ', @class, ' '), ' math ')]"):
            assert math.xpath("./*[local-name()='math']"), (path.name, text(math))
            assert not re.search(r"\\[A-Za-z]+", text(math)), (path.name, text(math))  # no TeX command left
    page = parse(site / "concepts" / "sft-objective.html")
    assert select(page, ".explanation .math.inline") and select(page, ".explanation .math.block")
    assert [s.get("src").split("?")[0] for s in select(page, "script[src]")] == ["../assets/site.js"]
    # a wide equation scrolls in its own box, focusable without the script (which drops the tab stop where it fits)
    for block in select(page, ".math.block"):
        assert (block.get("tabindex"), block.get("role"), block.get("aria-label")) == ("0", "region", "Equation")
    css = (site / "assets" / "site.css").read_text()
    font = re.search(r'url\("(vendor/noto-sans-math/[^"]+\.woff2)"\)', css).group(1)
    assert (site / "assets" / font).is_file() and (site / "assets" / "vendor" / "noto-sans-math" / "LICENSE").is_file()


def test_mathml_is_math_core_a_browser_draws():
    """What Chromium, Firefox and Safari do not draw is rewritten: \\mathcal letters, \\arg, limits under \\max."""
    from quizgen.markdown import render_markdown

    inline = render_markdown(r"$\mathcal D$, $\boldsymbol\theta$ and $\arg\max_\theta f$", math="html")
    assert "\U0001d49f" in inline and "\U0001d73d" in inline and "mathvariant" not in inline
    assert "<mi>arg</mi>" in inline and '<munder><mo movablelimits="true">max</mo>' in inline
    long = render_markdown(r"$\log p = \ln 0.5 + \ln 0.2 \approx -0.693 - 1.609 = -2.302$", math="html")
    assert long.count("<math") == 6 and long.count("<wbr>") == 5  # a line may break after = + ≈ − =
    assert "<mo>−</mo><mn>0.693</mn>" in long  # a sign stays with its number
    assert render_markdown(r"$\frac{1}{$", math="html") == '<p><span class="math inline">\\(\\frac{1}{\\)</span></p>\n'
    # the exports' MathML is unchanged
    assert 'mathvariant="script"' in render_markdown(r"$\mathcal D$", math="mathml")


def test_navigation_links_related_next_tags_and_neighbours(sites):
    site = sites["content"] / "site"
    middle = parse(site / "concepts" / "sft-objective.html")
    assert select(middle, '.pager a[rel="prev"]')[0].get("href") == "parameter-initialization.html"
    assert select(middle, '.pager a[rel="next"]')[0].get("href") == "ift-vs-pretraining.html"
    page = parse(site / "concepts" / "parameter-initialization.html")
    assert select(page, '.pager a[rel="next"]')[0].get("href") == "sft-objective.html"
    see_also = {a.get("href") for a in select(page, ".see-also a")}
    # the seed page's Related items: its sibling concepts and three questions of theirs
    assert {"ift-vs-pretraining.html#q-pretraining-adaptation-relationship",
            "ift-vs-pretraining.html#q-methodology-must-differ", "sft-objective.html#q-ift-objective"} <= see_also
    assert "#q-aggressive-risk" not in see_also  # learn_after one of its own questions: right below
    assert "ift-vs-pretraining.html" in see_also  # related
    for tag in select(page, ".tags a"):
        assert (site / "concepts" / tag.get("href")).resolve().is_file()


def test_every_link_and_asset_stays_on_the_machine(sites):
    """Relative URLs only; each resolves inside the build folder (the site, or the notebooks beside it). A
    source's web address is a link the learner may follow (rel="external"), never a request the page makes."""
    for name, build_dir in sites.items():
        for path in sorted((build_dir / "site").rglob("*.html")):
            page = parse(path)
            for element, attribute, url, _ in page.iterlinks():
                parts = urlsplit(url)
                if element.tag == "a" and element.get("rel") == "external":
                    assert parts.scheme in ("http", "https"), (path, url)
                    continue
                assert not parts.scheme and not parts.netloc, (path, url)
                if not parts.path:
                    continue
                target = (path.parent / unquote(parts.path)).resolve()
                assert target.is_relative_to(build_dir.resolve()), (path, url)
                if "notebooks" not in target.parts:
                    assert target.is_file(), (path, url)


def measured(panel) -> list[tuple[str, str]]:
    """Each value a lab panel names: (its name, the value)."""
    return [(text(item).split(": ")[0], text(select(item, ".reading-value")[0])) for item in select(panel, ".readings li")]


# --- lab evidence --------------------------------------------------------------------------------


def test_lab_evidence_shows_numbers_plots_and_the_notebook(sites):
    site = sites["full"] / "site"
    page = parse(site / "concepts" / "parameter-initialization.html")
    lab = select(page.get_element_by_id("q-aggressive-risk"), "details.lab")[0]
    shown = text(lab)
    assert "Check it in the lab" in shown and "Aggressive fine-tuning erases pre-trained knowledge." in shown
    assert measured(lab) == [("Fact recall after aggressive fine-tuning", "0.12"),
                             ("Fact recall after moderate fine-tuning", "0.93")]
    image = select(lab, "img")[0]
    assert image.get("src") == "../labs/initialization/recall_vs_drift.png"
    assert (image.get("width"), image.get("height")) == ("64", "40")
    assert (site / "labs" / "initialization" / "recall_vs_drift.png").is_file()
    assert len(select(lab, "img")) == 1  # the claim's one plot (tests/site/test_site_evidence.py: the panel)
    assert select(lab, ".notebook a")[0].get("href") == "../labs/initialization/initialization.ipynb"
    # a numeric question naming a metric shows that measurement
    drift = select(page.get_element_by_id("q-drift"), "details.lab")[0]
    assert [text(line) for line in select(drift, ".lab-measured")] == ["Drift from θ̂ after moderate fine-tuning: 0.048."]
    # questions without a claim or metric have no lab panel
    assert not select(page.get_element_by_id("q-same-objective"), "details.lab")


def test_claims_without_results_are_named(sites, full_course):
    site = sites["full"] / "site"
    unknown = parse(site / "concepts" / "sft-objective.html").get_element_by_id("q-masked-tokens")
    assert "have no claim named loss-is-nll" in text(select(unknown, "details.lab")[0])
    never_ran = parse(site / "concepts" / "ift-vs-pretraining.html").get_element_by_id("q-what-differs")
    assert "No lab results yet for the claim same-loop" in text(select(never_ran, "details.lab")[0])
    index = text(select(parse(site / "index.html"), ".lab-status")[0])
    assert "2 questions name claims that no lab results back yet" in index
    assert "ift-vs-pretraining#what-differs" in index and "sft-objective#masked-tokens" in index
    results = {"initialization": {"claims": [{"name": "aggressive-forgets"}]}}
    assert missing_claims(full_course, results) == [
        ("ift-vs-pretraining#what-differs", "ift-vs-pretraining", "same-loop"),
        ("sft-objective#masked-tokens", "sft-objective", "loss-is-nll"),
    ]


def test_no_lab_results_at_all_still_builds_and_says_so(sites):
    index = text(select(parse(sites["content"] / "site" / "index.html"), ".lab-status")[0])
    course = site_course(ROOT / "content")
    claimed = sum(1 for _, question in course.questions if question.claim)
    assert f"{claimed} questions name claims that no lab results back yet" in index


# --- determinism and atomicity -------------------------------------------------------------------


def test_rebuilding_gives_byte_identical_files(tmp_path, sites, make_lab_results):
    """Same input, same bytes: in this process (with lab results) and in fresh processes whose string
    hashing differs (sets and dicts must not leak their order into a page)."""
    build(FULL, tmp_path / "again", ["site"], make_lab_results(tmp_path / "elsewhere"))
    assert tree_bytes(tmp_path / "again" / "site") == tree_bytes(sites["full"] / "site")
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed-{seed}"
        subprocess.run([sys.executable, "-m", "quizgen", "build", "--content", str(ROOT / "content"),
                        "--out", str(out), "--format", "site"], check=True, capture_output=True,
                       env=os.environ | {"PYTHONHASHSEED": seed}, cwd=tmp_path)
        trees.append(tree_bytes(out / "site"))
    assert trees[0] == trees[1] == tree_bytes(sites["content"] / "site")


def test_a_failed_build_leaves_the_previous_site_untouched(tmp_path, monkeypatch):
    content = tmp_path / "course"
    shutil.copytree(FULL, content)
    out = tmp_path / "build"
    build(content, out, ["site"], {})
    before = tree_bytes(out / "site")

    # bad content: nothing is written
    broken = content / "sft-objective.md"
    good_text = broken.read_text()
    broken.write_text(good_text.replace("title: ", "titel: ", 1))
    with pytest.raises(ContentError):
        build(content, out, ["site"], {})
    assert tree_bytes(out / "site") == before

    # a failure half-way through writing pages: the old site stays, no staging folder is left
    broken.write_text(good_text.replace("Supervised fine-tuning", "Edited: supervised fine-tuning"))
    calls = []

    def fail_on_second_page(self, page):
        calls.append(page.concept.id)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(self, page)

    original = site_pages.Site.render_concept
    monkeypatch.setattr(site_pages.Site, "render_concept", fail_on_second_page)
    with pytest.raises(OSError):
        build(content, out, ["site"], {})
    assert tree_bytes(out / "site") == before
    assert sorted(p.name for p in out.iterdir()) == ["site"]


# --- what the site shares with the other outputs -------------------------------------------------


def test_options_carry_no_letters_and_the_key_names_each_by_its_text(tmp_path, sites):
    """An option may itself speak of "Run A": letters beside the options would collide with it."""
    page = parse(sites["learner"] / "site" / "concepts" / "comparing-runs.html")
    section = page.get_element_by_id("q-which-run")
    assert not select(section, ".letter")
    assert [text(label) for label in select(section, "form .options label")] == ["Run B", "Run A"]
    assert text(select(section, ".key > li.right .key-verdict")[0]) == "Run B is the answer."
    build(FIXTURES / "courses" / "many-options", tmp_path, ["site"], {})
    section = parse(tmp_path / "site" / "concepts" / "many-options.html").get_element_by_id("q-pick-the-last")
    options = [text(span) for span in select(section, "form .option-text")]
    assert text(select(section, ".key > li.right .option-name")[0]) == options[-1]


def test_the_answer_key_shows_a_claims_evidence_as_the_site_does(tmp_path, sites, make_lab_results):
    build(FULL, tmp_path, ["key"], make_lab_results(tmp_path / "lab-cache"))
    key = (tmp_path / "export" / "key" / "key.md").read_text(encoding="utf-8")
    page = parse(sites["full"] / "site" / "concepts" / "parameter-initialization.html")
    on_site = measured(select(page.get_element_by_id("q-aggressive-risk"), "details.lab")[0])
    assert [value for _, value in on_site] == ["0.12", "0.93"]  # named for learners, to two digits
    assert ("Claim `aggressive-forgets` (lab `initialization`): holds — Aggressive fine-tuning erases pre-trained "
            "knowledge.; measured `aggressive.recall` = 0.1235, `moderate.recall` = 0.93.") in key
    # a claim the results do not name, and a lab that never ran: no evidence, in the key as on the site
    assert "Claim `loss-is-nll` (lab `sft-objective`): no lab results yet (run `quizgen verify`)." in key
    assert "Claim `same-loop` (lab `ift-vs-pretraining`): no lab results yet (run `quizgen verify`)." in key


# --- what a learner finds on the pages (issue 15) --------------------------------------------------


def test_concept_text_headings_have_ids_and_link_to_themselves(sites):
    page = parse(sites["learner"] / "site" / "concepts" / "comparing-runs.html")
    headings = select(page, ".explanation h2")
    assert [h.get("id") for h in headings] == ["why-recall-falls", "why-recall-falls-2"]
    assert [select(h, "a.anchor")[0].get("href") for h in headings] == ["#why-recall-falls", "#why-recall-falls-2"]
    # an explanation links to the part of the concept text it relies on
    links = [a.get("href") for a in select(page.get_element_by_id("q-which-run"), ".feedback a")]
    assert "#why-recall-falls" in links


def test_learning_objectives_show_when_the_front_matter_gives_them(sites):
    page = parse(sites["learner"] / "site" / "concepts" / "comparing-runs.html")
    objectives = select(page, ".objectives li")
    assert [text(li) for li in objectives][0] == "Tell which of two runs forgot more, from their recall."
    assert select(objectives[1], "math")  # Markdown and math, as everywhere
    assert not select(parse(sites["learner"] / "site" / "concepts" / "reading-curves.html"), ".objectives")


def test_sources_link_their_web_addresses_and_pages_have_a_description(sites):
    site = sites["learner"] / "site"
    page = parse(site / "concepts" / "comparing-runs.html")
    sources = select(page, ".sources li")
    assert [a.get("href") for a in select(sources[0], "a")] == ["https://doi.org/10.1073/pnas.1611835114"]
    assert text(sources[0]).endswith("https://doi.org/10.1073/pnas.1611835114.")  # the full stop stays text
    assert not select(sources[1], "a")
    description = page.xpath("//meta[@name='description']")[0].get("content")
    assert description == "Two runs start from the same pre-trained parameters θ^ and differ only in their learning rate."
    for path in sorted(site.rglob("*.html")):
        assert parse(path).xpath("//meta[@name='description']/@content")[0].strip(), path


def test_learn_after_lists_only_what_is_elsewhere(sites):
    page = parse(sites["learner"] / "site" / "concepts" / "comparing-runs.html")
    assert [a.get("href") for a in select(page, ".see-also a")] == ["reading-curves.html"]
    page = parse(sites["content"] / "site" / "concepts" / "ift-vs-pretraining.html")
    hrefs = [a.get("href") for a in select(page, ".see-also a")]
    assert not [href for href in hrefs if href.startswith("#")]


def test_the_search_index_holds_every_concept_and_question(sites):
    import json

    site = sites["learner"] / "site"
    source = (site / "search-index.js").read_text(encoding="utf-8")
    assert source.startswith("window.quizgenSearch = ")
    index = json.loads(source.removeprefix("window.quizgenSearch = ").rstrip().rstrip(";"))
    assert [c[0] for c in index["concepts"]] == ["comparing-runs", "reading-curves"]
    assert index["concepts"][0][3].startswith("Two runs start from the same pre-trained parameters and differ")
    questions = {(index["concepts"][q[0]][0], q[1]): q for q in index["questions"]}
    assert len(questions) == 5
    which = questions[("comparing-runs", "which-run")]
    assert which[2] == "Which run forgot more?" and "zebrafish" in which[3] and which[4] == 1
    search = parse(site / "search.html")
    # the index runs before the page's script, which reads it (both deferred: in document order)
    assert [s.get("src").split("?")[0] for s in select(search, "script[src]")] == ["search-index.js", "assets/site.js"]
    assert select(parse(site / "review.html"), "[data-review]")


def test_a_plot_shown_for_several_questions_prints_once():
    page = ('<figure class="lab-plot"><img src="../labs/a.png" alt="x"></figure>'
            '<figure class="lab-plot"><a href="../labs/b.png"><img src="../labs/b.png" alt="y"></a></figure>'
            '<figure class="lab-plot"><img src="../labs/a.png" alt="z"></figure>')
    marked = site_pages.mark_repeated_figures(page)
    assert marked.count('data-print="repeat"') == 1
    assert marked.index('data-print="repeat"') > marked.index("b.png")  # the third figure, not the first
    css = (site_pages.ASSETS_DIR / "site.css").read_text()
    assert 'figure[data-print="repeat"] { display: none !important; }' in css
