"""The site in real headless Chromium, as a learner uses it: answering every kind of question,
progress that survives a reload, keyboard use, no JavaScript, a phone-width screen, math, no console
errors, no request leaving the machine, and axe-core's accessibility rules.

One browser for the session; each test gets a fresh page with empty progress (see conftest.py).
"""

from __future__ import annotations

import json

import pytest

from site_helpers import AXE, ROOT, needs, site_course

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

SITE = "content/site"
COURSE = site_course(ROOT / "content")


def question(concept_id: str, question_id: str):
    return COURSE.concept(concept_id).question(question_id)


def first_of_type(kind: str):
    """The first question of a type in the real course, with its concept (a generated question's shown variant
    is the one the browser draws: see shown_variant, and test_site_variants.py)."""
    return next((concept, q) for concept, q in COURSE.questions if q.type == kind)


def shown_variant(page, q):
    """The variant of ``q`` the page shows (a question without parameters is itself)."""
    if not q.generated:
        return q
    return q.variants[int(page.locator(f"#q-{q.id}").get_attribute("data-shown")) - 1]


def progress(page) -> dict:
    key = "quizgen:" + page.locator("body").get_attribute("data-course")
    return json.loads(page.evaluate("key => window.localStorage.getItem(key) || '{}'", key)).get("answers", {})


def check_button(section):
    return section.locator("form.quiz .actions button").first


# --- answering each kind of question ---------------------------------------------------------------


def test_choice_wrong_then_right_shows_feedback_and_explanation(watched):
    concept, q = first_of_type("choice")
    right = next(i for i, option in enumerate(q.options) if option.correct)
    wrong = next(i for i, option in enumerate(q.options) if not option.correct)
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{q.id}")
    options = section.locator(".options > li")
    verdict = section.locator("form .verdict")
    answer = section.locator("details.answer")

    options.nth(wrong).locator("input").check()
    check_button(section).click()
    expect(verdict).to_contain_text("Not quite: 0 of 1 point")
    expect(options.nth(wrong)).to_have_class("is-wrong")
    feedback = section.locator(f'.key > li[data-option="{wrong}"] .feedback').inner_text()
    expect(options.nth(wrong).locator(".option-feedback")).to_contain_text(feedback.split("\n")[0][:60])
    expect(answer).not_to_have_attribute("open", "")

    options.nth(right).locator("input").check()
    check_button(section).click()
    expect(verdict).to_contain_text("Correct. 1 of 1 point.")
    expect(options.nth(right)).to_have_class("is-right")
    expect(options.nth(wrong)).not_to_have_class("is-wrong")
    expect(answer).to_have_attribute("open", "")
    expect(answer.locator("h4", has_text="Explanation")).to_be_visible()
    assert progress(page)[f"{concept.id}#{q.id}"]["score"] == q.points
    assert watched.errors == []


def test_multi_gives_the_model_s_partial_credit(watched):
    concept, q = first_of_type("multi")
    right = [i for i, option in enumerate(q.options) if option.correct]
    wrong = [i for i, option in enumerate(q.options) if not option.correct]
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{q.id}")
    boxes = section.locator(".options input")
    verdict = section.locator("form .verdict")
    key = f"{concept.id}#{q.id}"

    for chosen in ({right[0]}, {right[0], wrong[0]}, set(right) | {wrong[0]}, set(right)):
        for index in range(len(q.options)):
            boxes.nth(index).set_checked(index in chosen)
        check_button(section).click()
        expected = q.score(chosen)
        expect(verdict).to_contain_text(f"{round(expected, 2):g} of {q.points:g} point")  # as site.js shows it
        assert progress(page)[key]["score"] == pytest.approx(expected)
        if 0 < expected < q.points:
            expect(verdict).to_have_class("verdict partial")
    expect(verdict).to_contain_text("Correct.")
    for index in right:
        expect(section.locator(".options > li").nth(index)).to_have_class("is-right")


def test_truefalse_and_short_answers(watched):
    concept, q = first_of_type("truefalse")
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{q.id}")
    section.locator(".options label", has_text="True" if q.answer else "False").click()
    check_button(section).click()
    expect(section.locator("form .verdict")).to_contain_text("Correct.")

    concept, q = first_of_type("short")
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{q.id}")
    field = section.get_by_label("Your answer")
    field.fill("certainly not this")
    field.press("Enter")
    expect(section.locator("form .verdict")).to_contain_text("Not one of the accepted answers")
    field.fill("  " + "   ".join(q.accepted[0].upper().split()) + " ")  # case and spacing do not matter
    field.press("Enter")
    expect(section.locator("form .verdict")).to_contain_text("Correct.")


def test_numeric_uses_the_tolerance_and_the_unit(watched):
    concept, q = next((c, q) for c, q in COURSE.questions if q.type == "numeric" and q.margin and q.unit)
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    q = shown_variant(page, q)
    section = page.locator(f"#q-{q.id}")
    field = section.get_by_label("Your answer")
    verdict = section.locator("form .verdict")
    expect(section.locator(".unit")).to_have_text(q.unit)

    field.fill(f"{q.answer + 3 * q.margin:g}")
    field.press("Enter")
    expect(verdict).to_contain_text("too high")
    field.fill("about a half")
    field.press("Enter")
    expect(verdict).to_contain_text("not a number")
    field.fill(f"{q.answer - 0.9 * q.margin:g} {q.unit}")  # inside the tolerance, with the unit typed
    field.press("Enter")
    expect(verdict).to_contain_text("Correct.")
    expect(section.locator("details.answer")).to_have_attribute("open", "")


def test_critique_reveals_the_rubric_and_scores_the_self_assessment(watched):
    concept, q = first_of_type("critique")
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{q.id}")
    answer = section.locator("details.answer")
    expect(answer).not_to_have_attribute("open", "")
    section.get_by_label("Your critique").fill("The main risk is catastrophic forgetting.")
    section.get_by_role("button", name="Reveal the rubric and exemplar").click()
    expect(answer).to_have_attribute("open", "")
    expect(answer.locator(".exemplar")).to_be_visible()

    criteria = answer.locator(".criterion")
    assert criteria.count() == len(q.rubric)
    score_button = answer.get_by_role("button", name="Score my critique")
    score_button.click()
    expect(answer.locator(".verdict")).to_contain_text("Choose a level for every criterion")
    expected = 0.0
    for index, criterion in enumerate(q.rubric):
        level = ["Full credit", "Partial credit", "No credit"][index % 3]
        if level == "Partial credit" and criterion.partial is None:
            level = "No credit"
        criteria.nth(index).locator("label", has_text=level).click()
        expected += {"Full credit": criterion.points, "Partial credit": criterion.points / 2}.get(level, 0)
    score_button.click()
    expect(answer.locator(".verdict")).to_contain_text(f"You scored your critique {expected:g} of {q.points:g} points")
    saved = progress(page)[f"{concept.id}#{q.id}"]
    assert saved["score"] == expected and saved["text"] == "The main risk is catastrophic forgetting."


# --- progress ----------------------------------------------------------------------------------------


def test_progress_survives_a_reload_and_resets(watched):
    concept, choice = first_of_type("choice")
    _, critique = first_of_type("critique")
    right = next(i for i, option in enumerate(choice.options) if option.correct)
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{choice.id}")
    section.locator(".options input").nth(right).check()
    check_button(section).click()
    page.locator(f"#q-{critique.id}").get_by_label("Your critique").fill("My draft critique.")
    page.locator(f"#q-{critique.id}").get_by_role("button", name="Reveal the rubric and exemplar").click()

    page.reload()
    section = page.locator(f"#q-{choice.id}")
    expect(section.locator("form .verdict")).to_contain_text("Correct.")
    expect(section.locator(".options input").nth(right)).to_be_checked()
    expect(page.locator(f"#q-{critique.id}").get_by_label("Your critique")).to_have_value("My draft critique.")
    expect(page.locator("[data-page-progress]")).to_contain_text(f"answered 1 of {len(concept.questions)} questions")

    index = watched.open(f"{SITE}/index.html")
    total = len(COURSE.questions)
    expect(index.locator("[data-progress-summary]")).to_have_text(f"You have answered 1 of {total} questions.")
    expect(index.locator(f'[data-progress-for="{concept.id}"]')).to_contain_text(f"· 1 of {len(concept.questions)} answered · best 1 of ")
    index.get_by_role("button", name="Reset my progress").click()
    expect(index.locator("[data-progress-summary]")).to_have_text("No questions answered yet.")
    assert progress(index) == {}
    index.get_by_role("button", name="Undo").click()  # a reset can be undone
    expect(index.locator("[data-progress-summary]")).to_have_text(f"You have answered 1 of {total} questions.")
    index.get_by_role("button", name="Reset my progress").click()
    assert progress(index) == {}
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    expect(page.locator(f"#q-{choice.id} form .verdict")).to_be_empty()


def test_keyboard_alone_answers_a_question(watched):
    concept, q = first_of_type("choice")
    page = watched.open(f"{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{q.id}")
    section.locator(".options input").first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(check_button(section)).to_be_focused()
    page.keyboard.press("Enter")
    expect(section.locator("form .verdict")).not_to_be_empty()
    # the answer opens from the keyboard too
    section.locator("details.answer summary").focus()
    page.keyboard.press("Enter")
    expect(section.locator("details.answer")).to_have_attribute("open", "")


# --- reading ---------------------------------------------------------------------------------------------


def test_math_is_typeset_by_the_browser_with_the_site_s_font(watched):
    page = watched.open(f"{SITE}/concepts/sft-objective.html")
    explanation = page.locator(".explanation")
    expect(explanation.locator("math").first).to_be_visible()
    assert explanation.locator("math").count() >= 10
    assert "$" not in explanation.inner_text()
    assert "\\(" not in explanation.inner_text()
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Math\"', 'θ')")
    assert page.evaluate("getComputedStyle(document.querySelector('.explanation math')).fontFamily").startswith('"Noto Sans Math"')
    # a fraction is drawn as a fraction: numerator above denominator
    heights = page.evaluate("""() => { const f = document.querySelector('.explanation mfrac');
        return f ? [f.children[0].getBoundingClientRect().bottom, f.children[1].getBoundingClientRect().top] : null; }""")
    assert heights is None or heights[0] <= heights[1] + 1
    assert watched.errors == []


def test_without_javascript_answers_are_in_details(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    concept, q = first_of_type("choice")
    page.goto(f"{server}/{SITE}/concepts/{concept.id}.html")
    section = page.locator(f"#q-{q.id}")
    expect(check_button(section)).to_be_hidden()
    key = section.locator(".key")
    expect(key).to_be_hidden()
    section.locator("details.answer summary").click()
    expect(key).to_be_visible()
    expect(section.locator(".key > li.right")).to_contain_text("is the answer.")
    context.close()


def test_print_shows_content_without_controls(watched):
    page = watched.open(f"{SITE}/concepts/sft-objective.html")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".pager")).to_be_hidden()
    expect(page.locator("form.quiz .actions").first).to_be_hidden()
    expect(page.locator(".explanation")).to_be_visible()
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details:not([open])").count() == 0  # every answer panel opens for printing
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.locator("details[open]").count() == 0
    page.emulate_media(media="screen")


def test_phone_width_has_no_sideways_scrolling(browser, server, artifacts):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    for concept in COURSE.concepts:
        page.goto(f"{server}/{SITE}/concepts/{concept.id}.html")
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), concept.id
    page.goto(f"{server}/full/site/concepts/parameter-initialization.html")
    page.locator("#q-aggressive-risk details.lab summary").click()
    page.locator("#q-aggressive-risk").screenshot(path=str(artifacts / "question-phone.png"))
    context.close()


def test_lab_evidence_in_the_browser(watched):
    page = watched.open("full/site/concepts/parameter-initialization.html")
    panel = page.locator("#q-aggressive-risk details.lab")
    panel.locator("summary").click()
    image = panel.locator("img")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    expect(panel.locator(".claim-status")).to_contain_text("confirmed")


def test_screenshot_of_a_concept_page(watched, artifacts):
    """For people to look at: a concept page mid-way through, as a learner sees it."""
    page = watched.open("full/site/concepts/parameter-initialization.html")
    section = page.locator("#q-aggressive-risk")
    section.locator(".options input").nth(1).check()
    check_button(section).click()
    multi = page.locator("#q-signs-of-forgetting")
    multi.locator(".options input").nth(0).check()
    check_button(multi).click()
    section.locator("details.lab summary").click()
    page.screenshot(path=str(artifacts / "concept-page.png"), full_page=True)
    assert (artifacts / "concept-page.png").stat().st_size > 10_000


# --- every page: console, network, accessibility ------------------------------------------------------------


def all_pages(sites) -> list[str]:
    return [f"{name}/{path.relative_to(build_dir).as_posix()}"
            for name, build_dir in sites.items() for path in sorted((build_dir / "site").rglob("*.html"))]


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
}"""


def test_every_page_loads_cleanly_locally_and_passes_axe(watched, sites):
    needs(AXE, "axe-core (npm)")
    problems = {}
    for path in all_pages(sites):
        page = watched.open(path)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_RUN)
        if violations:
            problems[path] = violations
    assert problems == {}
    assert watched.errors == []
    assert watched.failed == []
    assert watched.outside() == []
    assert any(url.endswith(".woff2") for url in watched.requests)  # the math font came from the site


def test_answered_page_with_everything_open_passes_axe(watched):
    """Feedback colours, marks and open panels get the same check as the fresh page."""
    needs(AXE, "axe-core (npm)")
    page = watched.open("full/site/concepts/parameter-initialization.html")
    for section_id, option in (("#q-aggressive-risk", 1), ("#q-signs-of-forgetting", 2), ("#q-same-objective", 0)):
        section = page.locator(section_id)
        section.locator(".options input").nth(option).check()
        check_button(section).click()
    page.locator("#q-drift").get_by_label("Your answer").fill("0.05")
    page.locator("#q-drift").get_by_label("Your answer").press("Enter")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(AXE_RUN) == []
    assert watched.errors == []
