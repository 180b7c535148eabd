"""The "Check it in the lab" panel as a learner reads it (issue 15): a claim in plain words, each measured
value named with what the claim needs of it (never a metric path), the one plot the lab declares for the
claim with a caption and alt text stating the finding, how to run the notebook; a generated question's
measurement for the variant on screen. In the built files, and in Debian's Chromium with axe-core, at
phone width and without JavaScript.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quizgen.build import build
from quizgen.site.evidence import LabView, distinct, image_size, notebook_pages, setting, shown
from site_helpers import AXE, FULL, ROOT, needs
from test_site_build import parse, select

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

# A stand-in for a plot the lab engine draws (quizgen.lab.plots writes 4 × 3 inch SVGs, in points).
SVG = (b'<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
       b'<svg xmlns="http://www.w3.org/2000/svg" width="288pt" height="216pt" viewBox="0 0 288 216" version="1.1">'
       b'<rect width="288" height="216" fill="#fff"/><rect x="40" y="20" width="60" height="180" fill="#0072B2"/>'
       b'<rect x="140" y="170" width="60" height="30" fill="#E69F00"/></svg>\n')
# Metric paths as they would leak onto a page: two dotted words, such as moderate.recall.
METRIC_PATH = re.compile(r"\b[a-z_]+\.[a-z_]+(?:\.[a-z_0-9]+)*\b")
GRID = [{"lr": lr, "steps": steps, "recall": recall, "heldout_accuracy": heldout, "relative_drift": drift}
        for lr, steps, recall, heldout, drift in (
            (3e-4, 45, 0.98, 0.92, 0.035), (3e-4, 90, 0.975, 0.96, 0.04), (1e-3, 45, 0.91, 0.965, 0.072),
            (1e-3, 90, 0.912, 0.975, 0.075), (3.75e-3, 45, 0.29, 0.5, 0.36), (3.75e-3, 90, 0.145, 0.38, 0.51))]


def initialization_results(folder: Path) -> dict:
    """The initialization lab's results as the engine caches them, with what claims now carry (what was run,
    their plot), the lab's NAMES and METRIC_PLOTS; `drift_per_layer.svg` belongs to a claim no question of
    the fixture names, so the site does not copy it, nor `recall_vs_drift.svg` for a course without a question
    on the grid."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("arms.svg", "drift_per_layer.svg", "recall_vs_drift.svg"):
        (folder / name).write_bytes(SVG)
    metrics = {
        "chance_accuracy": 0.05625,
        "pretrained": {"recall": 1.0, "heldout_accuracy": 0.0175, "perplexity": 24.246},
        "moderate": {"recall": 0.9816666, "heldout_accuracy": 0.9225, "relative_drift": 0.0352407, "lr": 0.0002,
                     "steps": 90},
        "aggressive": {"recall": 0.1454166, "heldout_accuracy": 0.38, "relative_drift": 0.5144162, "lr": 0.005,
                       "steps": 175, "perplexity": 12889025.12},
        "grid": GRID,
    }
    return {
        "lab": "initialization", "seed": 0, "directory": str(folder),
        "settings": {"config": {"GRIDS": {"grid": {"lr": [3e-4, 1e-3, 3.75e-3], "steps": [45, 90]}}, "NAMES": {
            "pretrained": "of the pre-trained model", "moderate": "after moderate fine-tuning",
            "aggressive": "after aggressive fine-tuning",
            "grid": "after fine-tuning at learning rate {lr} for {steps} steps"},
            "METRIC_PLOTS": {"grid": {"file": "recall_vs_drift.svg", "caption": "Find your learning rate.",
                                      "alt": "Recall falls to {aggressive.recall} at learning rate {aggressive.lr}."}}}},
        "metrics": metrics,
        "plots": ["arms.svg", "drift_per_layer.svg", "recall_vs_drift.svg"],
        "claims": [{
            "name": "aggressive-forgets",
            "description": "Aggressive fine-tuning erases pre-trained knowledge.",
            "passed": True,
            "conditions": [{"condition": "aggressive.recall <= 0.4", "holds": True},
                           {"condition": "moderate.recall >= 0.85", "holds": True}],
            "values": {"aggressive.recall": 0.1454166, "moderate.recall": 0.9816666},
            "run": "The model was fine-tuned moderately (learning rate {moderate.lr}, {moderate.steps} steps) and "
                   "aggressively ({aggressive.lr}, {aggressive.steps} steps), then asked every fact.",
            "plot": {"file": "arms.svg", "caption": "Compare the fact recall bars.",
                     "alt": "Fact recall falls from {pretrained.recall} to {aggressive.recall} after aggressive "
                            "fine-tuning; moderate keeps {moderate.recall}."},
        }, {
            "name": "aggressive-drifts-more",
            "description": "Aggressive fine-tuning moves the weights at least five times as far.",
            "passed": True,
            "conditions": [{"condition": "aggressive.relative_drift >= 5 * moderate.relative_drift", "holds": True}],
            "values": {"aggressive.relative_drift": 0.5144162, "moderate.relative_drift": 0.0352407},
            "run": "", "plot": {"file": "drift_per_layer.svg", "caption": "c", "alt": "a"},
        }],
    }


@pytest.fixture(scope="module")
def evidence_sites(sites, tmp_path_factory) -> dict[str, Path]:
    """Beside the session's sites (so the test server serves them): the full fixture and the real course,
    each with the stand-in initialization results."""
    base = next(iter(sites.values())).parent
    cache = tmp_path_factory.mktemp("evidence-cache")
    built = {}
    for name, content in (("evidence-full", FULL), ("evidence-course", ROOT / "content")):
        build(content, base / name, ["site"], {"initialization": initialization_results(cache / name)})
        built[name] = base / name
    return built


def panel(site: Path, concept: str, question: str):
    page = parse(site / "site" / "concepts" / f"{concept}.html")
    return select(page.get_element_by_id(f"q-{question}"), "details.lab")[0]


def words(element) -> str:
    return " ".join(element.text_content().split())


# --- the panel as built ---------------------------------------------------------------------------------


def test_a_claim_reads_in_words_with_its_one_plot(evidence_sites):
    site = evidence_sites["evidence-full"]
    lab = panel(site, "parameter-initialization", "aggressive-risk")
    text = words(lab)
    assert "The claim: Aggressive fine-tuning erases pre-trained knowledge." in text
    assert ("What was run: The model was fine-tuned moderately (learning rate 0.0002, 90 steps) and aggressively "
            "(0.005, 175 steps), then asked every fact.") in text
    readings = [words(item) for item in select(lab, ".readings li")]
    assert readings == [
        "Fact recall after aggressive fine-tuning: 0.15 — the claim needs at most 0.4 (met)",
        "Fact recall after moderate fine-tuning: 0.98 — the claim needs at least 0.85 (met)",
    ]
    assert not METRIC_PATH.search(text.replace("quizgen[lab]", "").replace("initialization.ipynb", "")), METRIC_PATH.search(text)
    images = select(lab, "img")
    assert len(images) == 1
    image = images[0]
    assert image.get("src") == "../labs/initialization/arms.svg"
    assert (image.get("width"), image.get("height")) == ("384", "288")
    assert image.get("alt") == "Fact recall falls from 1 to 0.15 after aggressive fine-tuning; moderate keeps 0.98."
    assert words(select(lab, "figcaption")[0]) == "Compare the fact recall bars."
    # only the plots of the claims the course names are in the site
    assert sorted(path.name for path in (site / "site" / "labs" / "initialization").iterdir()) == [
        "arms.svg", "initialization.ipynb"]


def test_the_panel_says_how_to_run_the_notebook(evidence_sites):
    lab = panel(evidence_sites["evidence-full"], "parameter-initialization", "aggressive-risk")
    notebook = words(select(lab, ".notebook")[0])
    assert "pip install 'quizgen[lab]' torch==2.13.0 jupyterlab" in notebook
    assert "jupyter lab initialization.ipynb" in notebook
    link = select(lab, ".notebook a")[0]
    assert link.get("download") is not None and link.text_content() == "initialization.ipynb"
    # the site carries its own copy of the student notebook, so the link works when the site is hosted alone
    assert link.get("href") == "../labs/initialization/initialization.ipynb"
    assert "ask your instructor" not in notebook


def test_a_metric_question_names_what_the_lab_measured(evidence_sites):
    lab = panel(evidence_sites["evidence-full"], "parameter-initialization", "drift")
    assert [words(p) for p in select(lab, ".lab-measured")] == ["Drift from θ̂ after moderate fine-tuning: 0.035."]


def test_a_generated_question_shows_each_variant_s_measurement(evidence_sites):
    """The real course's recall-on-the-grid question takes each variant's key from the lab's grid; its panel
    has one line per variant, shown with the variant (data-variant, the first without JavaScript)."""
    lab = panel(evidence_sites["evidence-course"], "parameter-initialization", "recall-on-the-grid")
    lines = select(lab, ".lab-measured")
    assert [line.get("data-variant") for line in lines] == ["1", "2", "3", "4", "5", "6"]
    assert [line.get("hidden") is not None for line in lines] == [False] + [True] * 5
    assert words(lines[0]) == "Fact recall after fine-tuning at learning rate 0.0003 for 45 steps: 0.98."
    assert words(lines[5]) == "Fact recall after fine-tuning at learning rate 0.00375 for 90 steps: 0.145."
    # the grid's plot, which the lab declares for its metrics (METRIC_PLOTS), the same for every variant
    image = select(lab, "img")[0]
    assert image.get("src") == "../labs/initialization/recall_vs_drift.svg"
    assert image.get("alt") == "Recall falls to 0.15 at learning rate 0.005."
    assert (evidence_sites["evidence-course"] / "site" / "labs" / "initialization" / "recall_vs_drift.svg").is_file()


def test_a_declared_plot_whose_file_is_gone_is_said_plainly(tmp_path):
    results = initialization_results(tmp_path / "lab")
    (tmp_path / "lab" / "arms.svg").unlink()
    build(FULL, tmp_path / "out", ["site"], {"initialization": results})
    lab = panel(tmp_path / "out", "parameter-initialization", "aggressive-risk")
    assert not select(lab, "img")
    assert "The plot of this claim is missing from the lab's results" in words(lab)


# --- numbers and names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (0.9225, "0.92"), (0.0352407, "0.035"), (1.0, "1"), (0.0002, "0.0002"), (0.005, "0.005"), (24.246, "24.2"),
    (-11.66, "−11.7"), (12889025.12, "12.9 million"), (3038400.0, "3,038,400"), (49969.0, "49,969"),
    (30.0, "30"), (0.99875, "0.999"), (120.4, "120.4"), (2.77e-08, "2.8 × 10⁻⁸"), (1e-5, "1 × 10⁻⁵"), (None, "not measured"),
    ("quizgen.lab.train.train", "quizgen.lab.train.train"),
])
def test_measured_numbers_are_written_with_sensible_digits(value, text):
    assert shown(value) == text


def test_a_run_s_settings_read_as_they_were_set_not_rounded(tmp_path):
    assert [setting(v) for v in (0.00375, 3e-4, 175, 0.5)] == ["0.00375", "0.0003", "175", "0.5"]
    assert shown(0.00375) == "0.0037"  # a measurement would be rounded
    view = LabView.read("initialization", initialization_results(tmp_path))
    view.metrics["aggressive"]["lr"] = 0.00375
    assert view.fill("at {aggressive.lr} for {aggressive.steps} steps, recall {aggressive.recall}") == \
        "at 0.00375 for 175 steps, recall 0.15"
    assert view.name("grid.recall", {"lr": 0.00375, "steps": 90}).endswith("at learning rate 0.00375 for 90 steps")


def test_a_value_and_its_bound_never_read_the_same():
    assert distinct(0.846, 0.85) == ("0.846", "0.85")
    assert distinct(0.92, 0.7) == ("0.92", "0.7")


def test_values_are_named_from_the_metric_and_the_lab_s_words(tmp_path):
    view = LabView.read("initialization", initialization_results(tmp_path))
    assert view.name("moderate.heldout_accuracy") == "held-out accuracy after moderate fine-tuning"
    assert view.name("aggressive.relative_drift") == "drift from θ̂ after aggressive fine-tuning"
    assert view.name("lora.recall") == "fact recall (lora)"  # a run the lab does not name
    assert view.name("grid.recall", {"lr": 0.001, "steps": 175}) == \
        "fact recall after fine-tuning at learning rate 0.001 for 175 steps"


def test_plot_sizes_are_read_from_svg_and_png(tmp_path):
    (tmp_path / "plot.svg").write_bytes(SVG)
    assert image_size(tmp_path / "plot.svg") == (384, 288)
    from site_helpers import png

    (tmp_path / "plot.png").write_bytes(png(64, 40))
    assert image_size(tmp_path / "plot.png") == (64, 40)


def test_the_student_notebook_can_be_served_from_the_site():
    """notebook_pages gives the site what `quizgen build` writes to notebooks/, for a site that carries it."""
    from quizgen.loader import load_course
    from quizgen.notebooks import lab_plans, notebook_json, student_notebook

    course = load_course(FULL)
    pages = {path: render() for path, _, render in notebook_pages(course)}
    expected = {f"labs/{plan.lab_id}/{plan.lab_id}.ipynb": notebook_json(student_notebook(plan)).encode()
                for plan in lab_plans(course)}
    assert pages == expected and len(pages) == 3


# --- in the browser -------------------------------------------------------------------------------------

PAGE = "evidence-full/site/concepts/parameter-initialization.html"


def open_panel(page):
    lab = page.locator("#q-aggressive-risk details.lab")
    lab.locator("summary").click()
    return lab


def test_the_panel_in_the_browser_shows_the_plot_and_named_values(watched, evidence_sites):
    page = watched.open(PAGE)
    lab = open_panel(page)
    image = lab.locator("img")
    expect(image).to_have_count(1)
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    expect(lab.locator(".readings li").first).to_have_text(
        "Fact recall after aggressive fine-tuning: 0.15 — the claim needs at most 0.4 (met)")
    shown_text = lab.inner_text()
    assert "confirmed" in shown_text and not METRIC_PATH.search(shown_text.replace("quizgen[lab]", "").replace("initialization.ipynb", "").replace("initialization.ipynb", ""))
    assert watched.errors == [] and watched.failed == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_open_panel_passes_axe(browser, server, evidence_sites, scheme):
    needs(AXE, "axe-core (npm)")
    from test_site_browser import AXE_RUN

    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{server}/{PAGE}")
    open_panel(page)
    page.locator("#q-drift details.lab summary").click()
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(AXE_RUN) == []
    context.close()


def test_the_plot_fits_a_phone(browser, server, evidence_sites, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(f"{server}/{PAGE}")
    lab = open_panel(page)
    image = lab.locator("img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    box = image.bounding_box()
    assert 250 <= box["width"] <= 390 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    lab.screenshot(path=str(artifacts / "lab-panel-phone.png"))
    context.close()


def test_the_panel_works_without_javascript(browser, server, evidence_sites):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/{PAGE}")
    lab = open_panel(page)
    expect(lab.locator("img")).to_be_visible()
    expect(lab.locator(".readings li")).to_have_count(2)
    context.close()


def test_the_variant_on_screen_shows_its_own_measurement(watched, evidence_sites):
    """With JavaScript the page shows the variant this browser draws, and the panel its measurement."""
    page = watched.open("evidence-course/site/concepts/parameter-initialization.html")
    section = page.locator("#q-recall-on-the-grid")
    section.locator("details.lab summary").click()
    index = section.get_attribute("data-shown")
    visible = section.locator(".lab-measured:visible")
    expect(visible).to_have_count(1)
    assert visible.get_attribute("data-variant") == index
    stem = section.locator(".stem [data-variant]:visible").inner_text()
    learning_rate = re.search(r"learning rate of (\S+)", stem).group(1)
    assert f"learning rate {setting(float(learning_rate))} for" in visible.inner_text()

