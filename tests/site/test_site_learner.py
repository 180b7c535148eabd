"""What a learner meets on the site (issue 15), in headless Chromium: math without JavaScript, wide equations
on a phone, dark mode, scores that survive a reload, the review of one's mistakes, reset with undo, progress
as a file, search, and the smaller things (focus outline, feedback verdicts, print, anchors).

Most tests use tests/site/courses/learner ("learner" in conftest.py), a small course that has a wide equation,
objectives, headings, options that speak of "Run A" and "Run B", and a question of each auto-graded type.
"""

from __future__ import annotations

import json

import pytest

from site_helpers import AXE, ROOT, needs, site_course

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

LEARNER = "learner/site"
RUNS = f"{LEARNER}/concepts/comparing-runs.html"
CURVES = f"{LEARNER}/concepts/reading-curves.html"
CONTENT = site_course(ROOT / "content")

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
}"""


def stored(page) -> dict:
    key = "quizgen:" + page.locator("body").get_attribute("data-course")
    return json.loads(page.evaluate("key => window.localStorage.getItem(key) || '{}'", key))


def answer(page, question_id: str, value) -> None:
    """Answers a question of the learner course: an option's index (or indices), or text to type."""
    section = page.locator(f"#q-{question_id}")
    if isinstance(value, str):
        section.locator("form.quiz input[type=text]").fill(value)
    else:
        boxes = section.locator(".options input")
        chosen = {value} if isinstance(value, int) else set(value)
        for index in range(boxes.count()):
            if boxes.nth(index).get_attribute("type") == "checkbox" or index in chosen:
                boxes.nth(index).set_checked(index in chosen)
    section.locator("form.quiz .actions button").click()
    expect(section.locator("form.quiz .verdict")).not_to_be_empty()


def fresh(browser, server, **options):
    context = browser.new_context(**({"viewport": {"width": 1100, "height": 900}} | options))
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/{LEARNER}/index.html")
    page.evaluate("window.localStorage.clear()")
    page.errors = errors
    return context, page


# --- math ---------------------------------------------------------------------------------------------


def test_no_raw_tex_with_javascript_off(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    pages = [f"content/site/concepts/{concept.id}.html" for concept in CONTENT.concepts] + [RUNS]
    for path in pages:
        page.goto(f"{server}/{path}")
        shown = page.locator("main").inner_text()
        for tex in ("$", "\\(", "\\[", "\\frac", "\\theta", "\\sum", "\\mathcal"):
            assert tex not in shown, (path, tex)
        assert page.locator("main math").count() > 0, path
        expect(page.locator("main math").first).to_be_visible()
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_wide_display_math_scrolls_in_a_focusable_region_at_390px(browser, server, javascript):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=javascript)
    page = context.new_page()
    pages = [f"content/site/concepts/{concept.id}.html" for concept in CONTENT.concepts] + [RUNS]
    wide = 0
    for path in pages:
        page.goto(f"{server}/{path}")
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        blocks = page.evaluate("""() => [...document.querySelectorAll('.math.block')].filter(b => b.clientWidth > 0)
            .map(b => ({wide: b.scrollWidth > b.clientWidth + 1, tabindex: b.getAttribute('tabindex'),
                        role: b.getAttribute('role'), label: b.getAttribute('aria-label')}))""")
        for block in blocks:
            if block["wide"]:
                wide += 1
                assert (block["tabindex"], block["role"], block["label"]) == ("0", "region", "Equation"), path
            elif javascript:
                assert block["tabindex"] is None and block["role"] is None, path  # no tab stop where it fits
    assert wide >= 1  # the learner course's equation is wider than a phone
    # from the keyboard: focus the wide equation and scroll it
    page.goto(f"{server}/{RUNS}")
    box = page.locator(".explanation .math.block").first
    box.focus()
    expect(box).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    # The browser scrolls a moment later. wait_for_function polls with the page's own script, which does
    # not run when JavaScript is off, so poll from here (evaluate works either way).
    handle = box.element_handle()
    for _ in range(50):
        if page.evaluate("box => box.scrollLeft", handle) > 0:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("box => box.scrollLeft", handle) > 0, "the keyboard did not scroll the equation"
    context.close()


def test_math_stays_put_while_the_page_loads(browser, server):
    """No layout shift: the page's layout is final at load (the math needs no script to take its size)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.add_init_script("""window.__shift = 0; new PerformanceObserver(list => { for (const entry of list.getEntries())
        { if (!entry.hadRecentInput) window.__shift += entry.value; } }).observe({type: 'layout-shift', buffered: true});""")
    page.goto(f"{server}/content/site/concepts/parameter-initialization.html")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__shift") < 0.05
    context.close()


# --- dark mode ------------------------------------------------------------------------------------------


def background(page, selector: str = "body") -> str:
    return page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).backgroundColor")


def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(browser, server):
    context, page = fresh(browser, server, color_scheme="dark")
    page.goto(f"{server}/{RUNS}")
    assert background(page) == "rgb(20, 24, 31)"
    toggle = page.get_by_role("button", name="Dark theme")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    assert background(page) == "rgb(255, 255, 255)"
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.goto(f"{server}/{CURVES}")  # remembered on every page
    assert background(page) == "rgb(255, 255, 255)"
    page.get_by_role("button", name="Dark theme").click()
    page.reload()
    assert background(page) == "rgb(20, 24, 31)"
    assert page.errors == []
    context.close()
    context, page = fresh(browser, server, color_scheme="light")
    page.goto(f"{server}/{RUNS}")
    assert background(page) == "rgb(255, 255, 255)"
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_either_scheme_after_answering(browser, server, scheme):
    needs(AXE, "axe-core (npm)")
    context, page = fresh(browser, server, color_scheme=scheme)
    paths = [RUNS, CURVES, "full/site/concepts/parameter-initialization.html"]
    problems = {}
    for path in paths:
        page.goto(f"{server}/{path}")
        if path == RUNS:
            answer(page, "which-run", 1)
            answer(page, "drift-value", "0.05")
            answer(page, "name-the-effect", "overfitting")
            page.get_by_role("button", name="Clear my answer").first.click()
        elif path == CURVES:
            answer(page, "overfit-sign", 0)
            answer(page, "pick-signs", [0, 2])
        else:
            section = page.locator("#q-aggressive-risk")
            section.locator(".options input").nth(1).check()
            section.locator("form .actions button").click()
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_RUN)
        if violations:
            problems[path] = violations
    for path in (f"{LEARNER}/index.html", f"{LEARNER}/review.html", f"{LEARNER}/search.html?q=run"):
        page.goto(f"{server}/{path}")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_RUN)
        if violations:
            problems[path] = violations
    assert problems == {}
    assert page.errors == []
    context.close()


def contrast(first: str, second: str) -> float:
    def luminance(rgb: str) -> float:
        channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_outline_has_3_to_1_contrast(browser, server, scheme):
    context, page = fresh(browser, server, color_scheme=scheme)
    page.goto(f"{server}/{RUNS}")
    for selector, behind in (("#q-which-run .options input", "main"), (".site-header nav a", ".site-header")):
        page.locator(selector).first.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus from the keyboard, so :focus-visible applies
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
        color = background(page, behind)
        if color == "rgba(0, 0, 0, 0)":
            color = background(page)
        assert contrast(outline, color) >= 3, (selector, outline, color)
    context.close()


# --- scores, review, reset --------------------------------------------------------------------------------


def test_scores_appear_and_survive_a_reload(browser, server):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{RUNS}")
    line = page.locator("#q-which-run [data-score-line]")
    expect(line).to_be_hidden()
    answer(page, "which-run", 1)  # wrong first
    answer(page, "which-run", 0)  # then right
    expect(line).to_have_text("Your last check: 1 of 1 point · first try: 0 of 1 point · best: 1 of 1 point · 2 checks")
    answer(page, "which-run", 1)  # wrong again: the best stays
    expect(line).to_have_text("Your last check: 0 of 1 point · first try: 0 of 1 point · best: 1 of 1 point · 3 checks")
    answer(page, "drift-value", "0.05")
    page.reload()
    expect(line).to_have_text("Your last check: 0 of 1 point · first try: 0 of 1 point · best: 1 of 1 point · 3 checks")
    expect(page.locator("[data-page-progress]")).to_have_text(
        "You have answered 2 of 3 questions here, scoring 1 of 3 points. Best scores: 2; first tries: 1.")
    page.goto(f"{server}/{LEARNER}/index.html")
    expect(page.locator('[data-progress-for="comparing-runs"]')).to_have_text("· 2 of 3 answered · best 2 of 3 points")
    expect(page.locator("[data-course-score]")).to_have_text(
        "Course score: best 2 of 5 points (40%); first tries 1 of 5 points. 1 question to review.")
    page.reload()
    expect(page.locator("[data-course-score]")).to_contain_text("Course score: best 2 of 5 points")
    assert page.errors == []
    context.close()


def test_review_lists_exactly_the_wrong_answers(browser, server):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{RUNS}")
    answer(page, "which-run", 1)            # wrong
    answer(page, "drift-value", "0.05")     # right
    answer(page, "name-the-effect", "overfitting")  # wrong
    page.goto(f"{server}/{CURVES}")
    answer(page, "overfit-sign", 0)         # right
    answer(page, "pick-signs", [0, 2])      # partly right: not full points
    page.goto(f"{server}/{LEARNER}/review.html")
    items = page.locator("[data-review-list] > li")
    expect(page.locator("[data-review-summary]")).to_have_text("3 questions to review.")
    assert [items.nth(i).get_attribute("data-key") for i in range(items.count())] == [
        "comparing-runs#which-run", "comparing-runs#name-the-effect", "reading-curves#pick-signs"]
    expect(items.nth(1)).to_contain_text("You answered “overfitting”.")
    items.nth(0).get_by_role("link", name="Which run forgot more?").click()
    expect(page).to_have_url(f"{page.url.split('#')[0].rsplit('/', 1)[0]}/comparing-runs.html#q-which-run")
    answer(page, "which-run", 0)  # put right: it leaves the list
    page.goto(f"{server}/{LEARNER}/review.html")
    assert [items.nth(i).get_attribute("data-key") for i in range(items.count())] == [
        "comparing-runs#name-the-effect", "reading-curves#pick-signs"]
    assert page.errors == []
    context.close()


def test_reset_a_question_or_a_page_and_undo_it(browser, server):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{RUNS}")
    answer(page, "which-run", 0)
    answer(page, "drift-value", "0.05")
    section = page.locator("#q-which-run")
    section.get_by_role("button", name="Clear my answer").click()
    expect(section.locator("form .verdict")).to_be_empty()
    assert set(stored(page)["answers"]) == {"comparing-runs#drift-value"}
    expect(section.locator(".reset-status")).to_contain_text("Your answer to this question is cleared.")
    section.get_by_role("button", name="Undo").click()
    expect(section.locator("form .verdict")).to_contain_text("Correct.")
    expect(section.locator(".options input").nth(0)).to_be_checked()
    assert set(stored(page)["answers"]) == {"comparing-runs#which-run", "comparing-runs#drift-value"}

    page.get_by_role("button", name="Reset the answers on this page").click()
    assert stored(page)["answers"] == {}
    expect(page.locator("#q-drift-value form .verdict")).to_be_empty()
    page.locator(".page-reset").get_by_role("button", name="Undo").click()
    expect(page.locator("#q-drift-value form .verdict")).to_contain_text("Correct.")
    page.reload()
    expect(page.locator("#q-drift-value form .verdict")).to_contain_text("Correct.")
    assert page.errors == []
    context.close()


# --- progress as a file -------------------------------------------------------------------------------------


def test_progress_downloads_and_loads_back(browser, server, tmp_path):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{RUNS}")
    answer(page, "which-run", 1)
    answer(page, "which-run", 0)
    page.goto(f"{server}/{LEARNER}/index.html")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my progress").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    data = json.loads(saved.read_text())
    assert data["format"] == "quizgen-progress" and data["answers"]["comparing-runs#which-run"]["best"] == [1, 1]
    page.get_by_role("button", name="Reset my progress").click()
    assert stored(page)["answers"] == {}
    page.get_by_label("Load progress from a file").set_input_files(str(saved))
    expect(page.locator(".progress-panel .reset-status")).to_contain_text("Loaded 1 answer from")
    assert stored(page)["answers"] == data["answers"]
    expect(page.locator("[data-course-score]")).to_contain_text("best 1 of 5 points")
    assert page.errors == []
    context.close()


def test_a_loaded_file_is_untrusted(browser, server, tmp_path):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{LEARNER}/index.html")
    course = page.locator("body").get_attribute("data-course")
    status = page.locator(".progress-panel .reset-status")
    load = page.get_by_label("Load progress from a file")

    def load_file(name: str, content: str):
        path = tmp_path / name
        path.write_text(content)
        load.set_input_files(str(path))

    load_file("not-json.json", "{ this is not JSON")
    expect(status).to_contain_text("not progress saved from this site")
    load_file("other.json", json.dumps({"format": "quizgen-progress", "course": "0123456789ab", "title": "Other", "answers": {}}))
    expect(status).to_contain_text("another course (Other)")
    hostile = {
        "format": "quizgen-progress", "course": course,
        "answers": {
            "comparing-runs#which-run": {"score": 1, "points": 1, "response": [0], "best": [1, 1], "first": [0, 1],
                                         "checks": 2, "extra": "<img src=x onerror=alert(1)>"},
            "comparing-runs#drift-value": {"score": 50, "points": 1},                   # more than full marks
            "comparing-runs#name-the-effect": {"score": 1, "points": 1, "response": {"a": 1}},  # not a response
            "unknown-concept#q": {"score": 1, "points": 1},                             # not this course's
            "__proto__": {"score": 1, "points": 1},
            "reading-curves#pick-signs": {"score": "1", "points": 1},                    # a string
            "reading-curves#overfit-sign": {"score": 1, "points": 1, "text": "x" * 200_000},  # too long
        },
        "variants": {"comparing-runs#which-run": -3},
        "learner": "<script>",
    }
    load_file("hostile.json", json.dumps(hostile))
    expect(status).to_contain_text("Loaded 1 answer from hostile.json. 7 entries did not fit this course")
    kept = stored(page)
    assert kept["answers"] == {"comparing-runs#which-run": {"score": 1, "points": 1, "response": [0], "first": [0, 1],
                                                            "best": [1, 1], "checks": 2}}
    assert kept["variants"] == {} and kept.get("learner") != "<script>"
    assert page.evaluate("({}).score") is None  # nothing reached Object.prototype
    page.goto(f"{server}/{RUNS}")
    expect(page.locator("#q-which-run form .verdict")).to_contain_text("Correct.")
    assert page.errors == []
    context.close()


# --- search ----------------------------------------------------------------------------------------------


def test_search_finds_a_question_by_a_word_of_its_stem(browser, server):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{LEARNER}/index.html")
    page.get_by_role("link", name="Search").click()
    field = page.get_by_label("Search the concepts and questions")
    expect(field).to_be_focused()
    page.keyboard.type("Zebrafish")  # a word of the stem only, in another case
    results = page.locator("[data-search-results] > li")
    expect(results).to_have_count(1)
    expect(page.locator("#search-status")).to_have_text("1 result for “Zebrafish”.")
    expect(results.first.locator("mark")).to_have_text("zebrafish")
    page.keyboard.press("Tab")  # the search button, then the result
    page.keyboard.press("Tab")
    expect(results.first.get_by_role("link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/{RUNS}#q-which-run")
    # a concept by its title, every word counting, and the query kept in the address
    page.goto(f"{server}/{LEARNER}/search.html?q=training+curves")
    expect(page.locator("[data-search-results] > li").first.get_by_role("link")).to_have_text("Reading training curves")
    page.get_by_label("Search the concepts and questions").fill("no such word anywhere")
    expect(page.locator("#search-status")).to_have_text("Nothing found for “no such word anywhere”.")
    assert page.errors == []
    context.close()


def test_search_works_on_the_real_course(browser, server):
    context, page = fresh(browser, server)
    concept, question = next((c, q) for c, q in CONTENT.questions if q.type == "choice")
    word = max(question.stem.split(), key=len).strip(".,;:()*_\"'")
    page.goto(f"{server}/content/site/search.html?q={word}")
    hrefs = page.locator("[data-search-results] a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert f"concepts/{concept.id}.html#q-{question.id}" in hrefs
    context.close()


# --- the smaller things -------------------------------------------------------------------------------------


def test_right_feedback_reads_once(browser, server):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{RUNS}")
    answer(page, "which-run", 0)
    feedback = page.locator("#q-which-run .option-feedback")
    expect(feedback).to_contain_text("✓ Right: its larger steps")
    assert "Right. Right" not in feedback.inner_text()
    answer(page, "which-run", 1)
    expect(page.locator("#q-which-run .option-feedback")).to_contain_text("✗ Not right. Run A's small steps")
    context.close()


def test_print_opens_every_answer_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/{RUNS}")
    key = page.locator("#q-which-run .key")
    expect(key).to_be_hidden()
    page.emulate_media(media="print")
    expect(key).to_be_visible()
    expect(page.locator("#q-drift-value details.answer .key-verdict")).to_be_visible()
    expect(page.locator(".site-header")).to_be_hidden()
    context.close()


def test_a_heading_anchor_is_reached_from_an_explanation(browser, server):
    context, page = fresh(browser, server)
    page.goto(f"{server}/{RUNS}")
    answer(page, "which-run", 0)
    page.locator("#q-which-run details.answer").get_by_role("link", name="why recall falls").first.click()
    expect(page).to_have_url(f"{server}/{RUNS}#why-recall-falls")
    heading = page.locator("#why-recall-falls")
    page.wait_for_function("h => { const r = h.getBoundingClientRect(); return r.top >= 0 && r.top < 200; }",
                           arg=heading.element_handle())
    expect(page.locator(".objectives")).to_contain_text("Tell which of two runs forgot more")
    context.close()
