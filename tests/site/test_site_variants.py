"""Generated questions on the site: every variant's texts and key are in the page, the first shows without
JavaScript, each browser shows the variant its id draws (the draw of quizgen.variants.learner_index) and
keeps it, and "New variant" moves to the next one, whose numbers the check then uses.

The fixture tests/fixtures/courses/generated has one generated question of each auto-graded type, and
tests/site/courses/generated-rubric a generated critique and a multi whose points change; their sites are
built once per session (conftest.py: "generated", "generated-rubric").
"""

from __future__ import annotations

import copy
import json

import pytest
from lxml import html as lxml_html

from quizgen.loader import load_course
from quizgen.markdown import render_markdown
from quizgen.variants import learner_index
from site_helpers import AXE, GENERATED, GENERATED_RUBRIC

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SITE = "generated/site"
COURSE = load_course(GENERATED)
CONCEPT = COURSE.concepts[0]
PAGE = f"{SITE}/concepts/{CONCEPT.id}.html"


def question(question_id: str):
    return CONCEPT.question(question_id)


def words(text: str) -> str:
    return " ".join(text.split())


def markdown_text(text: str, inline: bool = False) -> str:
    """What a learner reads of a Markdown text (math as the site's MathML reads)."""
    rendered = render_markdown(text, math="html", inline=inline)
    return words(lxml_html.fragment_fromstring(rendered, create_parent="div").text_content())


def drawn(learner: str, question_id: str) -> int:
    """The variant (1-based) the learner's browser shows of a question."""
    return learner_index(learner, CONCEPT.id, question_id, len(question(question_id).variants)) + 1


def learner_where(predicate, prefix: str = "learner") -> str:
    """The first id of the series prefix-0, prefix-1, … for which predicate(id) holds."""
    return next(f"{prefix}-{n}" for n in range(1000) if predicate(f"{prefix}-{n}"))


# --- the built page ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(sites):
    return lxml_html.fromstring((sites["generated"] / "site" / "concepts" / f"{CONCEPT.id}.html").read_bytes())


RUBRIC_COURSE = load_course(GENERATED_RUBRIC)


def as_variant(section, index: int):
    """The question as the script shows variant ``index``: every other variant's elements removed."""
    shown = copy.deepcopy(section)
    for element in shown.xpath(f".//*[@data-variant and @data-variant != '{index}']"):
        element.drop_tree()
    return shown


def visible(section):
    """The question as a browser without JavaScript shows it: hidden elements removed."""
    shown = copy.deepcopy(section)
    for element in shown.xpath(".//*[@hidden or contains(concat(' ', @class, ' '), ' js-only ')]"):
        element.drop_tree()
    return shown


def form_data(form, index: int) -> dict[str, str]:
    """The form's data attributes as the script sets them for variant ``index``."""
    data = {name.removeprefix("data-"): value for name, value in form.attrib.items() if name.startswith("data-")}
    for name, values in json.loads(data.pop("variants", "{}")).items():
        data[name] = values[index - 1]
    return data


def assert_every_variant_is_on_the_page(concept, page):
    for q in concept.questions:
        section = page.get_element_by_id(f"q-{q.id}")
        assert section.get("data-variant-count") == str(len(q.variants)) and len(q.variants) > 1
        assert section.get("data-key") == f"{concept.id}#{q.id}"
        forms = section.xpath(".//form[contains(@class, 'quiz') and @data-points]")
        for variant in q.variants:
            index = variant.variant.index
            shown = words(as_variant(section, index).text_content())
            for text in (variant.stem, variant.explanation):
                assert markdown_text(text) in shown, (q.id, index)
            assert markdown_text(variant.title, inline=True) in shown
            data = form_data(forms[0], index)
            assert float(data["points"]) == variant.points
            if q.type in ("choice", "multi", "truefalse"):
                for option in variant.options:
                    assert markdown_text(option.text, inline=True) in shown
                    if option.feedback:
                        assert markdown_text(option.feedback) in shown
                right = [str(i) for i, option in enumerate(variant.options) if option.correct]
                assert data["correct"].split() == right
            if q.type == "numeric":
                assert float(data["answer"]) == variant.answer and float(data["margin"]) == variant.margin
                assert f"The answer is {variant.answer:.6g}" in shown
            if q.type == "short":
                assert json.loads(data["accepted"]) == list(variant.accepted)
                assert all(answer in shown for answer in variant.accepted)
            if q.type == "critique":
                for text in (variant.task, variant.exemplar):
                    assert markdown_text(text) in shown
                for criterion in variant.rubric:
                    for text in (criterion.name, criterion.full, criterion.partial, criterion.none):
                        assert text is None or markdown_text(text, inline=True) in shown


def test_every_variant_s_texts_and_key_are_on_the_page(page, sites):
    assert_every_variant_is_on_the_page(CONCEPT, page)
    concept = RUBRIC_COURSE.concepts[0]
    rubric_page = lxml_html.fromstring((sites["generated-rubric"] / "site" / "concepts" / f"{concept.id}.html").read_bytes())
    assert_every_variant_is_on_the_page(concept, rubric_page)


def test_without_javascript_the_first_variant_shows_and_is_the_key(page):
    for q in CONCEPT.questions:
        section = page.get_element_by_id(f"q-{q.id}")
        first, shown = q.variants[0], words(visible(section).text_content())
        assert markdown_text(first.stem) in shown and markdown_text(first.explanation) in shown
        for other in q.variants[1:]:
            if other.stem != first.stem:
                assert markdown_text(other.stem) not in shown
        assert "Variant 1 of" in shown
        # the form's own attributes are the first variant's: what the script checks before it runs
        form = section.xpath(".//form[contains(@class, 'quiz')]")[0]
        assert form_data(form, 1) == {name.removeprefix("data-"): value for name, value in form.attrib.items()
                                      if name.startswith("data-") and name != "data-variants"}
        if q.type == "numeric":
            assert f"The answer is {first.answer:.6g}" in shown
        # the controls that need JavaScript show only where it runs (site.css: html:not(.js) .js-only)
        assert all("js-only" in bar.get("class").split() for bar in section.xpath(".//*[contains(@class, 'variant-bar')]"))


def test_what_every_variant_shares_is_written_once(sites):
    source = (sites["generated"] / "site" / "concepts" / f"{CONCEPT.id}.html").read_text(encoding="utf-8")
    truefalse = question("bigger-loss")
    assert source.count("falls as the probability rises") == 1  # an explanation no parameter changes
    assert truefalse.explanation == truefalse.variants[1].explanation
    assert source.count("That is the sum of the two losses") == 1  # a feedback no parameter changes
    assert source.count("Tokens that carry the loss") == 1  # a title


# --- in the browser ------------------------------------------------------------------------------------


def open_as(browser, server, learner: str | None, javascript: bool = True, site: str = SITE, path: str = PAGE):
    """A fresh browser (context) whose stored progress names ``learner`` (none: the page makes its id),
    on the concept page."""
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.errors = errors
    if learner is not None:
        page.goto(f"{server}/{site}/index.html")
        key = "quizgen:" + page.locator("body").get_attribute("data-course")
        page.evaluate("([key, value]) => window.localStorage.setItem(key, value)",
                      [key, json.dumps({"answers": {}, "learner": learner})])
    page.goto(f"{server}/{path}")
    page.wait_for_load_state("load")
    return context, page


def stored(page) -> dict:
    key = "quizgen:" + page.locator("body").get_attribute("data-course")
    return json.loads(page.evaluate("key => window.localStorage.getItem(key) || '{}'", key))


def assert_shows(page, question_id: str, index: int):
    q = question(question_id)
    section = page.locator(f"#q-{question_id}")
    expect(section).to_have_attribute("data-shown", str(index))
    expect(section.locator("[data-variant-label]")).to_have_text(f"Variant {index} of {len(q.variants)}")
    stem = section.locator(".stem")
    assert words(stem.inner_text()).replace(" ", "") == markdown_text(q.variants[index - 1].stem).replace(" ", "")


def test_each_browser_shows_the_variant_its_id_draws_and_keeps_it(browser, server):
    # A short id and a long one (its hashed text spans two SHA-256 blocks), drawing different variants.
    short = learner_where(lambda id_: drawn(id_, "masked-share") != 1, prefix="a")
    long = learner_where(lambda id_: drawn(id_, "masked-share") not in (1, drawn(short, "masked-share")),
                         prefix="a-much-longer-browser-id-than-the-page-makes")
    for learner in (short, long):
        context, page = open_as(browser, server, learner)
        for q in CONCEPT.questions:
            assert_shows(page, q.id, drawn(learner, q.id))
        page.reload()
        for q in CONCEPT.questions:
            assert_shows(page, q.id, drawn(learner, q.id))
        assert page.errors == []
        context.close()

    # A browser with no id makes one, keeps it with the progress, and shows what it draws.
    context, page = open_as(browser, server, None)
    made = stored(page)["learner"]
    assert len(made) >= 16
    page.reload()
    assert stored(page)["learner"] == made
    for q in CONCEPT.questions:
        assert_shows(page, q.id, drawn(made, q.id))
    context.close()


def answer(section, text: str):
    field = section.get_by_label("Your answer")
    field.fill(text)
    field.press("Enter")


def test_new_variant_changes_the_numbers_and_the_check_follows_them(browser, server):
    q = question("masked-share")
    learner = learner_where(lambda id_: drawn(id_, q.id) < len(q.variants))
    first = drawn(learner, q.id)
    old, new = q.variants[first - 1], q.variants[first]  # "New variant" shows the next one
    assert abs(old.answer - new.answer) > 10 * new.margin
    context, page = open_as(browser, server, learner)
    section = page.locator(f"#q-{q.id}")
    verdict = section.locator("form .verdict")
    answer(section, f"{old.answer:.4f}")
    expect(verdict).to_contain_text("Correct.")

    section.get_by_role("button", name="New variant").click()
    assert_shows(page, q.id, first + 1)
    expect(section.locator(".variant-status")).to_have_text(
        f"Now variant {first + 1} of {len(q.variants)}: new numbers. Your score from variant {first} counts "
        "until you check this one.")
    expect(section.get_by_label("Your answer")).to_have_value("")  # an answer belongs to its numbers
    expect(verdict).to_be_empty()
    expect(section.locator("details.answer")).not_to_have_attribute("open", "")
    expect(page.locator("[data-page-progress]")).to_contain_text("answered 1 of 5 questions")  # the score counts
    answer(section, f"{old.answer:.4f}")
    expect(verdict).to_contain_text("Not quite")
    answer(section, f"{new.answer:.4f}")
    expect(verdict).to_contain_text("Correct.")
    expect(section.locator("details.answer .key-verdict").locator("visible=true")).to_contain_text(
        f"The answer is {new.answer:.6g}")
    saved = stored(page)
    assert saved["variants"][f"{CONCEPT.id}#{q.id}"] == first + 1
    assert saved["answers"][f"{CONCEPT.id}#{q.id}"]["variant"] == first + 1

    page.reload()  # the chosen variant and its answer come back
    assert_shows(page, q.id, first + 1)
    expect(section.get_by_label("Your answer")).to_have_value(f"{new.answer:.4f}")
    expect(verdict).to_contain_text("Correct.")

    # the short answer that names the variant's numbers: accepted on its own variant only
    short = question("name-the-mask")
    section = page.locator(f"#q-{short.id}")
    own = drawn(learner, short.id)
    other = short.variants[own % len(short.variants)]
    answer(section, other.accepted[-1])
    expect(section.locator("form .verdict")).to_contain_text("Not one of the accepted answers")
    section.get_by_role("button", name="New variant").click()
    answer(section, other.accepted[-1])
    expect(section.locator("form .verdict")).to_contain_text("Correct.")

    # a choice whose options the parameters compute: the options change, the feedback follows the choice
    choice = question("mean-token-loss")
    section = page.locator(f"#q-{choice.id}")
    section.get_by_role("button", name="New variant").click()
    now = choice.variants[drawn(learner, choice.id) % len(choice.variants)]
    options = section.locator(".options > li")
    for position, option in enumerate(now.options):
        expect(options.nth(position).locator(".option-text")).to_have_text(markdown_text(option.text, inline=True),
                                                                                use_inner_text=True)
    options.nth(1).locator("input").check()
    section.get_by_role("button", name="Check answer").click()
    expect(options.nth(1).locator(".option-feedback")).to_contain_text("That is the sum of the two losses")

    if AXE.exists():  # the page with variants changed and answers checked keeps axe-core's rules
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
            .violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => v.id)""")
        assert violations == []

    # resetting the page's answers brings back the variants this browser draws, with empty forms
    page.get_by_role("button", name="Reset the answers on this page").click()
    for each in CONCEPT.questions:
        assert_shows(page, each.id, drawn(learner, each.id))
    expect(page.locator(f"#q-{q.id}").get_by_label("Your answer")).to_have_value("")
    assert stored(page)["variants"] == {} and stored(page)["answers"] == {}
    assert page.errors == []
    context.close()


def test_a_numeric_generated_question_checks_against_its_own_answer(browser, server):
    q = question("tokens-seen-share")
    first = q.variants[0]
    learner = learner_where(lambda id_: abs(q.variants[drawn(id_, q.id) - 1].answer - first.answer) > first.margin)
    own = q.variants[drawn(learner, q.id) - 1]
    context, page = open_as(browser, server, learner)
    section = page.locator(f"#q-{q.id}")
    verdict = section.locator("form .verdict")
    answer(section, f"{first.answer:g} %")  # the first variant's key, what the page says without JavaScript
    expect(verdict).to_contain_text("too high" if first.answer > own.answer else "too low")
    answer(section, f"{own.answer + 0.9 * own.margin:g} %")
    expect(verdict).to_contain_text("Correct.")
    expect(section.locator("details.answer")).to_have_attribute("open", "")
    expect(section.locator("details.answer .key-verdict").locator("visible=true")).to_have_text(
        f"The answer is {own.answer:g} %; anything from {own.answer - own.margin:g} to "
        f"{own.answer + own.margin:g} is accepted.")
    assert page.errors == []
    context.close()


def test_without_javascript_the_first_variant_is_the_question(browser, server):
    context, page = open_as(browser, server, None, javascript=False)
    q = question("masked-share")
    section = page.locator(f"#q-{q.id}")
    expect(section.get_by_role("button", name="New variant")).to_be_hidden()
    expect(section.locator("[data-variant-label]")).to_have_text(f"Variant 1 of {len(q.variants)}")
    assert words(section.locator(".stem").inner_text()) == markdown_text(q.variants[0].stem)
    section.locator("details.answer summary").click()
    expect(section.locator("details.answer .key-verdict").locator("visible=true")).to_have_text(
        f"The answer is {q.variants[0].answer:g}; anything from 0.199 to 0.201 is accepted.")
    assert section.locator(".key-verdict").locator("visible=true").count() == 1
    context.close()


def test_print_shows_the_learner_s_variant_without_controls(browser, server):
    learner = learner_where(lambda id_: drawn(id_, "masked-share") != 1)
    context, page = open_as(browser, server, learner)
    page.emulate_media(media="print")
    section = page.locator("#q-masked-share")
    expect(section.locator(".variant-bar")).to_be_hidden()
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details:not([open])").count() == 0
    assert section.locator(".key-verdict").locator("visible=true").count() == 1
    variant = question("masked-share").variants[drawn(learner, "masked-share") - 1]
    expect(section.locator(".key-verdict").locator("visible=true")).to_contain_text(f"The answer is {variant.answer:.6g}")
    context.close()


def test_a_generated_critique_and_points_that_change_follow_the_variant(browser, server):
    concept = RUBRIC_COURSE.concepts[0]
    critique, multi = concept.question("critique-lr"), concept.question("signs")
    site = "generated-rubric/site"

    def plain(text):  # the words before the math
        return text.split("$")[0].strip()

    def draw(learner, q):
        return learner_index(learner, concept.id, q.id, len(q.variants)) + 1

    learner = "rubric-learner"
    context, page = open_as(browser, server, learner, site=site, path=f"{site}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{critique.id}")
    first = draw(learner, critique)
    section.get_by_label("Your critique").fill(f"My critique of variant {first}.")
    section.get_by_role("button", name="Reveal the rubric and exemplar").click()
    exemplar = section.locator(".exemplar")
    expect(exemplar).to_contain_text(plain(critique.variants[first - 1].exemplar), use_inner_text=True)
    for criterion in section.locator(".criterion").all():
        criterion.locator("label", has_text="Full credit").click()
    section.get_by_role("button", name="Score my critique").click()
    expect(section.locator(".self-assessment .verdict")).to_contain_text("4 of 4 points")

    section.get_by_role("button", name="New variant").click()
    second = first % len(critique.variants) + 1
    expect(section.get_by_label("Your critique")).to_have_value("")
    expect(section.locator(".variant-status")).to_contain_text(f"Your score from variant {first} counts")
    section.get_by_label("Your critique").fill(f"My critique of variant {second}.")
    section.get_by_role("button", name="Reveal the rubric and exemplar").click()
    expect(exemplar).to_contain_text(plain(critique.variants[second - 1].exemplar), use_inner_text=True)
    expect(section.locator(".criterion").first).to_contain_text(
        critique.variants[second - 1].rubric[0].full, use_inner_text=True)
    saved = stored(page)["answers"][f"{concept.id}#{critique.id}"]
    assert saved["variant"] == second and saved["text"] == f"My critique of variant {second}."
    assert saved["score"] == 4  # the earlier variant's score counts until this one is scored
    page.reload()
    expect(section.get_by_label("Your critique")).to_have_value(f"My critique of variant {second}.")

    # a multi whose points are a formula: the check and the page's total follow the variant shown
    section = page.locator(f"#q-{multi.id}")
    for _ in range(2):
        variant = multi.variants[int(section.get_attribute("data-shown")) - 1]
        for position, option in enumerate(variant.options):
            section.locator(".options input").nth(position).set_checked(option.correct)
        section.get_by_role("button", name="Check answer").click()
        expect(section.locator("form .verdict")).to_contain_text(
            f"Correct. {variant.points:g} of {variant.points:g} points")
        expect(page.locator("[data-page-progress]")).to_contain_text(f"scoring {4 + variant.points:g} of "
                                                                     f"{4 + variant.points:g} points")
        section.get_by_role("button", name="New variant").click()
    assert page.errors == []
    context.close()
