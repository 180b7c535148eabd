"""The print-ready answer key (export/key/key.html) stands on its own: math as MathML (no raw TeX, no
script), and every image its questions show copied to media/ beside it; key.md keeps the TeX as written
and points at the same image files. A real browser renders the math and loads the images, on screen and
when printing."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote

import lxml.html
import pytest

from quizgen.build import build
from quizgen.loader import load_course
from paths import FIXTURES, ROOT

COURSES = {"seed": ROOT / "content", "lms": FIXTURES / "courses" / "lms", "full": FIXTURES / "courses" / "full"}
MATHML = "{http://www.w3.org/1998/Math/MathML}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, tuple]:
    """(export/key/, the course as built: lab-measured answers in, or those questions left out when the labs
    have no cached run) of each course."""
    found = {}
    for name, content in COURSES.items():
        out = tmp_path_factory.mktemp(name)
        report = build(content, out, ["key"])
        found[name] = (out / "export" / "key", report.course)
    return found


@pytest.fixture(scope="module")
def keys(built) -> dict[str, Path]:
    """export/key/ of each course."""
    return {name: folder for name, (folder, _) in built.items()}


def parse(path: Path):
    return lxml.html.parse(str(path)).getroot()


def math_elements(element) -> list:
    return [node for node in element.iter() if isinstance(node.tag, str) and node.tag in ("math", f"{MATHML}math")]


def images(folder: Path) -> dict[str, Path]:
    """{src as key.html writes it: the file it resolves to}."""
    return {img.get("src"): folder / unquote(img.get("src")) for img in parse(folder / "key.html").iter("img")}


# --- math --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COURSES))
def test_key_html_has_no_raw_tex_and_renders_math_as_mathml(keys, built, name):
    text = (keys[name] / "key.html").read_text(encoding="utf-8")
    assert "\\(" not in text and "\\[" not in text and "<script" not in text
    page = parse(keys[name] / "key.html")
    assert math_elements(page), "the course has math, so the key must"
    _, course = built[name]
    for concept, question in course.questions:
        section = page.get_element_by_id(f"{concept.id}--{question.id}")
        shown = " ".join(text for text in (question.stem, question.explanation, *(
            option.text for option in getattr(question, "options", ()))) if text)
        if "$" in shown:
            assert math_elements(section), f"{concept.id}#{question.id} has math, its key section none"
        assert "$" not in " ".join(section.itertext()).replace("$$", "") or "\\$" in shown


def test_every_formula_of_the_seed_key_is_mathml_where_the_tex_key_had_delimiters(keys):
    page = parse(keys["seed"] / "key.html")
    wrappers = page.xpath("//span[contains(@class, 'math')] | //div[contains(@class, 'math')]")
    assert len(wrappers) >= 50  # the seed course's key had 77 \(…\) before
    assert all(math_elements(wrapper) for wrapper in wrappers)


def test_key_md_keeps_the_tex_as_written(keys):
    markdown = (keys["lms"] / "key.md").read_text(encoding="utf-8")
    assert "near $\\hat\\theta$ … as the lab measures" in markdown and "<math" not in markdown


# --- images ------------------------------------------------------------------------------------------


def test_key_html_shows_each_image_from_a_copy_beside_it(keys):
    course = load_course(COURSES["lms"])
    shown = images(keys["lms"])
    assert sorted(shown) == ["media/figures/drift.svg", "media/figures/series%20circuit.png"]
    for src, file in shown.items():
        assert file.read_bytes() == course.local_file(unquote(src).removeprefix("media/")).read_bytes()
    page = parse(keys["lms"] / "key.html")
    circuit = page.get_element_by_id("figures--read-the-circuit").xpath(".//img")[0]
    assert circuit.get("alt") == "A series circuit with two resistors"
    copied = sorted(p.relative_to(keys["lms"]).as_posix() for p in (keys["lms"] / "media").rglob("*") if p.is_file())
    assert copied == ["media/figures/drift.svg", "media/figures/series circuit.png"]


def test_key_md_points_at_the_same_copies(keys):
    markdown = (keys["lms"] / "key.md").read_text(encoding="utf-8")
    assert "![A series circuit with two resistors](media/figures/series%20circuit.png)" in markdown
    assert "![Bar chart: the large learning rate drifts further](media/figures/drift.svg)" in markdown
    assert "](figures/" not in markdown and "](<figures/" not in markdown


def test_a_key_without_images_has_no_media_folder(keys):
    assert not (keys["seed"] / "media").exists()


def concept(concept_id: str, image: str, where: str = "stem") -> str:
    explanation = f"![The explanation's figure]({image})" if where == "explanation" else "Plain text."
    stem = f"![The stem's figure]({image})\n\nIs this the figure?" if where == "stem" else "Is this so?"
    return (f"---\nid: {concept_id}\ntitle: {concept_id}\n---\n{explanation}\n\n## Questions\n\n"
            f"{{#q type=truefalse}}\n### A question\n{stem}\n\n- [x] True\n- [ ] False\n\n"
            "#### Explanation\nBecause.\n")


def test_the_same_src_in_two_folders_shows_each_concepts_own_file(tmp_path):
    content = tmp_path / "course"
    for folder, colour in (("one", b"<svg xmlns='http://www.w3.org/2000/svg'/><!--one-->"),
                           ("two", b"<svg xmlns='http://www.w3.org/2000/svg'/><!--two-->")):
        (content / folder).mkdir(parents=True)
        (content / folder / "figure.svg").write_bytes(colour)
        (content / folder / "concept.md").write_text(concept(f"concept-{folder}", "figure.svg"), encoding="utf-8")
    (content / "three.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (content / "three.md").write_text(concept("concept-three", "three.svg", "explanation"), encoding="utf-8")
    build(content, tmp_path / "out", ["key"])
    key = tmp_path / "out" / "export" / "key"
    page = parse(key / "key.html")
    for folder in ("one", "two"):
        (img,) = page.get_element_by_id(f"concept-{folder}--q").xpath(".//img")
        assert img.get("src") == f"media/{folder}/figure.svg"
        assert (key / img.get("src")).read_bytes() == (content / folder / "figure.svg").read_bytes()
    # only what the questions show: three.svg is in an explanation, which the key leaves out
    assert sorted(p.name for p in (key / "media").iterdir()) == ["one", "two"]


def test_a_critiques_rubric_and_exemplar_get_math_and_images_too(tmp_path):
    """They are rendered by the template the LMS exports share (rubric.html), inside the key's section."""
    content = tmp_path / "course"
    shutil.copytree(COURSES["lms"], content)
    critique = content / "critique.md"
    text = critique.read_text(encoding="utf-8")
    text = text.replace("| Names the risk | 2 | Catastrophic forgetting. |",
                        "| Names the risk | 2 | Catastrophic forgetting, $\\theta$ far from $\\hat\\theta$. |")
    text = text.replace("EXEMPLAR-ONLY-FOR-GRADERS: the updates",
                        "![The drift](figures/drift.svg)\n\nEXEMPLAR-ONLY-FOR-GRADERS: $\\eta = 1$, the updates")
    critique.write_text(text, encoding="utf-8")
    build(content, tmp_path / "out", ["key"])
    key = tmp_path / "out" / "export" / "key"
    section = parse(key / "key.html").get_element_by_id("critique--critique-plan")
    assert len(math_elements(section.xpath(".//table")[0])) == 2
    assert "\\(" not in lxml.html.tostring(section, encoding="unicode")
    (img,) = section.xpath(".//img")
    assert img.get("src") == "media/figures/drift.svg" and (key / img.get("src")).is_file()
    assert "![The drift](media/figures/drift.svg)" in (key / "key.md").read_text(encoding="utf-8")


def test_each_form_of_the_key_carries_its_images(tmp_path):
    build(COURSES["lms"], tmp_path, ["key"], forms=2, seed=3)
    for number in (1, 2):
        folder = tmp_path / "export" / "key" / f"form-{number}"
        shown = images(folder)
        assert len(shown) == 2 and all(file.is_file() for file in shown.values())


def test_the_key_is_byte_identical_on_every_build(tmp_path):
    def tree(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    build(COURSES["lms"], tmp_path / "a", ["key"])
    build(COURSES["lms"], tmp_path / "b", ["key"])
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


# --- in a real browser -------------------------------------------------------------------------------


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


LAYOUT = """() => ({
  math: [...document.querySelectorAll('math')].map(m => {
    const box = m.getBoundingClientRect();
    return {mathml: m instanceof MathMLElement, width: box.width, height: box.height};
  }),
  subscripts: [...document.querySelectorAll('msub')].map(s => {
    const [base, script] = [...s.children].map(c => c.getBoundingClientRect());
    return {lower: script.bottom > base.bottom, smaller: script.height < base.height};
  }),
  images: [...document.images].map(i => ({src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0})),
})"""


def test_a_browser_lays_the_math_out_and_loads_the_images_on_screen_and_in_print(keys, page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((keys["lms"] / "key.html").as_uri())
    page.wait_for_load_state("load")
    for media in ("screen", "print"):
        page.emulate_media(media=media)
        layout = page.evaluate(LAYOUT)
        assert layout["math"] and all(m["mathml"] and m["width"] > 0 and m["height"] > 0 for m in layout["math"]), media
        assert layout["subscripts"] and all(s["lower"] and s["smaller"] for s in layout["subscripts"]), media
        assert sorted(i["src"] for i in layout["images"] if i["loaded"]) == \
            ["media/figures/drift.svg", "media/figures/series%20circuit.png"], media
    assert all(url.startswith("file://") for url in requests)  # offline: nothing from a CDN
    assert page.pdf()[:5] == b"%PDF-"  # and it prints
