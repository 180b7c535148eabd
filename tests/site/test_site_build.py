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
    # sft-objective sends the learner to ift-vs-pretraining, which sends them to parameter-initialization.
    assert links == ["concepts/sft-objective.html", "concepts/ift-vs-pretraining.html",
                     "concepts/parameter-initialization.html"]
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
            # the controls that need JavaScript are hidden until the script shows them
            assert all(actions.get("hidden") is not None for actions in select(section, ".actions"))


def test_answers_are_embedded_for_the_script(full_course, sites):
    page = parse(sites["full"] / "site" / "concepts" / "parameter-initialization.html")
    forms = {form.get("data-key"): form for form in select(page, "form.quiz")}
    drift = full_course.concept("parameter-initialization").question("drift")
    numeric = forms["parameter-initialization#drift"]
    assert float(numeric.get("data-answer")) == drift.answer
    assert float(numeric.get("data-margin")) == drift.margin
    multi = forms["parameter-initialization#signs-of-forgetting"]
    assert multi.get("data-correct") == "0 1" and multi.get("data-scoring") == "partial"


def test_math_is_left_for_katex_and_katex_is_vendored(sites):
    site = sites["content"] / "site"
    page = parse(site / "concepts" / "sft-objective.html")
    assert select(page, ".explanation .math.inline") and select(page, ".explanation .math.block")
    scripts = [s.get("src") for s in select(page, "script[src]")]
    assert "../assets/vendor/katex/katex.min.js" in scripts
    assert (site / "assets" / "vendor" / "katex" / "katex.min.js").is_file()
    assert list((site / "assets" / "vendor" / "katex" / "fonts").glob("*.woff2"))


def test_navigation_links_related_next_tags_and_neighbours(sites):
    site = sites["content"] / "site"
    page = parse(site / "concepts" / "ift-vs-pretraining.html")
    assert select(page, '.pager a[rel="prev"]')[0].get("href") == "sft-objective.html"
    assert select(page, '.pager a[rel="next"]')[0].get("href") == "parameter-initialization.html"
    see_also = {a.get("href") for a in select(page, ".see-also a")}
    assert "parameter-initialization.html#q-chatbot-strategy" in see_also  # learn_after a question elsewhere
    assert "#q-methodology-must-differ" in see_also  # learn_after one of its own questions
    assert "sft-objective.html" in see_also  # related
    for tag in select(page, ".tags a"):
        assert (site / "concepts" / tag.get("href")).resolve().is_file()


def test_every_link_and_asset_stays_on_the_machine(sites):
    """Relative URLs only; each resolves inside the build folder (the site, or the notebooks beside it)."""
    for name, build_dir in sites.items():
        for path in sorted((build_dir / "site").rglob("*.html")):
            page = parse(path)
            for element, attribute, url, _ in page.iterlinks():
                parts = urlsplit(url)
                assert not parts.scheme and not parts.netloc, (path, url)
                if not parts.path:
                    continue
                target = (path.parent / unquote(parts.path)).resolve()
                assert target.is_relative_to(build_dir.resolve()), (path, url)
                if "notebooks" not in target.parts:
                    assert target.is_file(), (path, url)


def measured(panel) -> list[tuple[str, str]]:
    return [tuple(text(cell) for cell in select(row, "td")) for row in select(panel, "table.values tbody tr")]


# --- lab evidence --------------------------------------------------------------------------------


def test_lab_evidence_shows_numbers_plots_and_the_notebook(sites):
    site = sites["full"] / "site"
    page = parse(site / "concepts" / "parameter-initialization.html")
    lab = select(page.get_element_by_id("q-aggressive-risk"), "details.lab")[0]
    shown = text(lab)
    assert "Check it in the lab" in shown and "Aggressive fine-tuning erases pre-trained knowledge." in shown
    assert measured(lab) == [("aggressive.recall", "0.1235"), ("moderate.recall", "0.93")]
    image = select(lab, "img")[0]
    assert image.get("src") == "../labs/initialization/recall_vs_drift.png"
    assert (image.get("width"), image.get("height")) == ("64", "40")
    assert (site / "labs" / "initialization" / "recall_vs_drift.png").is_file()
    assert len(select(lab, "img")) == 1  # the plot whose file is gone is left out
    assert select(lab, ".notebook a")[0].get("href") == "../../notebooks/initialization.ipynb"
    # a numeric question naming a metric shows that measurement
    drift = select(page.get_element_by_id("q-drift"), "details.lab")[0]
    assert measured(drift) == [("moderate.relative_drift", "0.0481")]
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


def test_options_after_z_are_named_aa_ab(tmp_path):
    build(FIXTURES / "courses" / "many-options", tmp_path, ["site"], {})
    section = parse(tmp_path / "site" / "concepts" / "many-options.html").get_element_by_id("q-pick-the-last")
    letters = [text(span) for span in select(section, "form .letter")]
    assert letters[24:] == ["Y", "Z", "AA", "AB"]
    assert text(select(section, "details.answer .key > li.right .letter")[0]) == "AB"


def test_the_answer_key_shows_a_claims_evidence_as_the_site_does(tmp_path, sites, make_lab_results):
    build(FULL, tmp_path, ["key"], make_lab_results(tmp_path / "lab-cache"))
    key = (tmp_path / "export" / "key" / "key.md").read_text(encoding="utf-8")
    page = parse(sites["full"] / "site" / "concepts" / "parameter-initialization.html")
    on_site = measured(select(page.get_element_by_id("q-aggressive-risk"), "details.lab")[0])
    shown = ", ".join(f"`{name}` = {value}" for name, value in on_site)
    assert ("Claim `aggressive-forgets` (lab `initialization`): holds — Aggressive fine-tuning erases pre-trained "
            f"knowledge.; measured {shown}.") in key
    # a claim the results do not name, and a lab that never ran: no evidence, in the key as on the site
    assert "Claim `loss-is-nll` (lab `sft-objective`): no lab results yet (run `quizgen verify`)." in key
    assert "Claim `same-loop` (lab `ift-vs-pretraining`): no lab results yet (run `quizgen verify`)." in key
