"""Generated questions (issue 14) reach every LMS as pools: a Canvas question group, a QTI 2.1 section with a
selection, a Moodle (and GIFT) category per question, each holding every variant with its own answer; the
key and the item bank list every variant. Read back with tests/exports/readers.py (lxml, gift-pegjs, ports
of what Canvas's and Moodle's importers read). The answers are checked against the fixture's formulas
themselves, not only against the course model: the numeric answer of masked-share is r/(p+r) for each p, r.

test_exports.py runs its schema, parser and agreement checks on the same course (COURSES["generated"]).
"""

from __future__ import annotations

import csv
import math
import shutil
from decimal import Decimal

import pytest
from lxml import etree

import readers
from quizgen.build import build
from quizgen.formats import get_format
from quizgen.formats.common import full_id, stable_id, variant_id
from quizgen.formats.moodle import category_path
from quizgen.loader import load_course
from paths import FIXTURES, ROOT

GENERATED = FIXTURES / "courses" / "generated"
SCHEMAS = ROOT.parent / "shared" / "schemas"
needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="../shared/schemas is not here (CI has it)")
needs_node = pytest.mark.skipif(not (ROOT / "node_modules" / "gift-pegjs").is_dir() or not shutil.which("node"),
                                reason="gift-pegjs is not installed: run `make test-setup`")
POOLED = ["canvas", "qti21", "moodle", "gift", "key", "csv"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    report = build(GENERATED, out, POOLED)
    return report.course, out / "export", report


def generated(course):
    return [(concept, question) for concept, question in course.questions if question.variants]


def share(variant) -> float:
    """masked-share's answer, from the fixture's formula: the response's share of the tokens."""
    values = variant.variant.values
    return values["r"] / (values["p"] + values["r"])


def test_the_fixture_has_a_generated_question_of_every_auto_graded_type(exported):
    course, _, _ = exported
    assert sorted(q.type for _, q in generated(course)) == ["choice", "numeric", "numeric", "short", "truefalse"]
    assert all(len(q.variants) >= 2 for _, q in generated(course))


# --- Canvas: a question group per generated question -------------------------------------------------


def test_canvas_writes_a_question_group_per_generated_question_picking_one(exported):
    course, export, _ = exported
    for path in sorted((export / "canvas").glob("*.zip")):
        groups = readers.canvas_groups(path)
        assert [group["ident"] for group in groups] == [stable_id("group", full_id(c, q)) for c, q in generated(course)]
        for group, (concept, question) in zip(groups, generated(course)):
            assert (group["title"], group["pick"], group["points"]) == (question.title, 1, question.points)
            assert group["items"] == [stable_id("item", variant_id(concept, v)) for v in question.variants]
        assert readers.canvas_loose_items(path) == []  # every question of this course is a pool


def test_canvas_item_idents_are_unique_and_derived_from_each_variant(exported):
    course, export, _ = exported
    assembly = readers.canvas_assessment(export / "canvas" / "all-concepts.zip")
    idents = [item.get("ident") for item in assembly.iter(f"{readers.QTI12}item")]
    assert len(idents) == len(set(idents)) == len(readers.all_variants(course))
    variant_ids = [variant_id(c, q) for c, q in readers.all_variants(course)]
    assert len(set(variant_ids)) == len(variant_ids)
    assert variant_ids[:2] == ["sft-arithmetic#masked-share/v1", "sft-arithmetic#masked-share/v2"]
    banks = [f.findtext(f"{readers.QTI12}fieldentry") for f in assembly.iter(f"{readers.QTI12}qtimetadatafield")
             if f.findtext(f"{readers.QTI12}fieldlabel") == "assessment_question_identifierref"]
    assert len(set(banks)) == len(idents)


def test_each_canvas_variant_keeps_its_own_numeric_answer(exported):
    course, export, _ = exported
    masked = course.concept("sft-arithmetic").question("masked-share")
    bounds = readers.canvas_numeric_bounds(export / "canvas" / "all-concepts.zip", course)
    for variant in masked.variants:
        value, low, high = bounds[variant_id(course.concepts[0], variant)]
        assert math.isclose(float(value), share(variant), rel_tol=1e-9)
        assert Decimal(high) - Decimal(value) == Decimal(value) - Decimal(low) == Decimal("0.001")


# --- QTI 2.1: a section with <selection select="1"/> per generated question --------------------------


def test_qti21_writes_a_selecting_section_per_generated_question(exported):
    course, export, _ = exported
    for path in sorted((export / "qti21").glob("*.zip")):
        pools = readers.qti21_pools(path)
        assert [pool["labels"] for pool in pools] == [
            [variant_id(c, v) for v in q.variants] for c, q in generated(course)]
        assert {(pool["select"], pool["visible"]) for pool in pools} == {(1, "false")}
        assert [pool["title"] for pool in pools] == [q.title for _, q in generated(course)]


def test_qti21_lists_every_variants_item_file_in_the_manifest(exported):
    course, export, _ = exported
    path = export / "qti21" / "all-concepts.zip"
    resources = readers.manifest_resources(path)
    items = {name for name in readers.qti21_items(path)}
    assert len(items) == len(readers.all_variants(course))
    listed = {r["href"] for r in resources.values() if r["type"] == "imsqti_item_xmlv2p1"}
    assert listed == items
    (test,) = [r for r in resources.values() if r["type"] == "imsqti_test_xmlv2p1"]
    assert sorted(test["dependencies"]) == sorted(i for i, r in resources.items() if r["type"] == "imsqti_item_xmlv2p1")
    assert "items/sft-arithmetic/masked-share.v9.xml" in items


def test_each_qti21_variant_keeps_its_own_answer(exported):
    course, export, _ = exported
    found = readers.qti21(export / "qti21" / "all-concepts.zip")
    assert not readers.same(found, readers.expected(course, "mathml"))
    masked = course.concept("sft-arithmetic").question("masked-share")
    for variant in masked.variants:
        kind, value, margin = found[variant_id(course.concepts[0], variant)]
        assert math.isclose(value, share(variant), rel_tol=1e-9) and margin == 0.001


@needs_schemas
def test_qti21_pools_validate_against_the_qti21_schema(exported):
    _, export, _ = exported
    schema = readers.qti21_schema()
    for path in sorted((export / "qti21").glob("*.zip")):
        for name, data in readers.zip_entries(path).items():
            if name != "imsmanifest.xml":
                assert not readers.schema_errors(schema, data), (path.name, name)


# --- Moodle XML and GIFT: a category per generated question -------------------------------------------


def test_moodle_puts_each_generated_questions_variants_in_a_category_of_its_own(exported):
    course, export, _ = exported
    categories = readers.moodle_categories(export / "moodle" / "questions.xml")
    concept = course.concepts[0]
    wanted = {category_path(course.title, concept): []}
    wanted |= {category_path(course.title, c, q): [variant_id(c, v) for v in q.variants] for c, q in generated(course)}
    assert categories == wanted
    assert all(path.endswith(f"/{q.id}") for (_, q), path in zip(generated(course), list(wanted)[1:]))


def test_moodle_variants_have_distinct_names_and_their_own_answers(exported):
    course, export, _ = exported
    root = etree.parse(str(export / "moodle" / "questions.xml")).getroot()
    questions = [q for q in root.iter("question") if q.get("type") != "category"]
    names = [q.findtext("name/text") for q in questions]
    assert len(set(names)) == len(names) and "Tokens that carry the loss (p=8, r=2)" in names
    assert not readers.same(readers.moodle(export / "moodle" / "questions.xml"), readers.expected(course))
    masked = {q.findtext("idnumber"): q for q in questions}
    for variant in course.concept("sft-arithmetic").question("masked-share").variants:
        element = masked[variant_id(course.concepts[0], variant)]
        assert readers.moodle_numerical_score(element, str(share(variant))) == 1
        assert readers.moodle_numerical_score(element, str(share(variant) + 0.01)) == 0


def test_moodle_switches_back_to_the_concepts_category_after_a_pool(tmp_path):
    """A question without parameters after a generated one goes into the concept's category again."""
    content = tmp_path / "course"
    content.mkdir()
    (content / "c.md").write_text(
        "---\nid: c\ntitle: C\n---\nText.\n\n## Questions\n\n"
        "{#pooled type=numeric answer=\"= 2 * n\" tolerance=0}\n### Twice\nWhat is twice {n}?\n\n"
        "#### Explanation\nDouble it.\n\n#### Parameters\n- n: 1, 2, 3\n\n"
        "{#plain type=numeric answer=4 tolerance=0}\n### Four\nWhat is 2 + 2?\n\n#### Explanation\nFour.\n",
        encoding="utf-8")
    report = build(content, tmp_path / "out", ["moodle", "gift"])
    export = tmp_path / "out" / "export"
    moodle = readers.moodle_categories(export / "moodle" / "questions.xml")
    assert moodle == {"$course$/top/course/C": ["c#plain"],
                      "$course$/top/course/C/pooled": ["c#pooled/v1", "c#pooled/v2", "c#pooled/v3"]}
    root = etree.parse(str(export / "moodle" / "questions.xml")).getroot()
    switches = [q.findtext("category/text") for q in root.iter("question") if q.get("type") == "category"]
    assert switches == ["$course$/top/course/C", "$course$/top/course/C/pooled", "$course$/top/course/C"]
    assert not readers.same(readers.moodle(export / "moodle" / "questions.xml"), readers.expected(report.course))
    lines = (export / "gift" / "questions.gift.txt").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.startswith("$CATEGORY:")] == [f"$CATEGORY: {path}" for path in switches]


@needs_node
def test_gift_puts_each_generated_questions_variants_under_a_category_of_its_own(exported):
    course, export, _ = exported
    path = export / "gift" / "questions.gift.txt"
    assert readers.gift_categories(path) == readers.moodle_categories(export / "moodle" / "questions.xml")
    assert not readers.same(readers.gift(path, course), readers.expected(course))
    ids = [idnumber for idnumber, _ in readers.moodle_gift_ids_and_tags(path)]
    assert ids == [variant_id(c, q) for c, q in readers.all_variants(course)]
    titles = [q["title"] for q in readers.parse_gift(path) if q["type"] != "Category"]
    assert len(set(titles)) == len(titles) and "Mean token loss (a=0.25, b=0.1)" in titles


# --- the answer key and the item bank ----------------------------------------------------------------


def test_the_key_lists_every_variant_with_its_values_and_answer(exported):
    course, export, _ = exported
    found = readers.key_html(export / "key" / "key.html", course)
    assert not readers.same(found, readers.expected(course, "mathml"))
    assert len(found) == len(readers.all_variants(course))
    markdown = (export / "key" / "key.md").read_text(encoding="utf-8")
    for _, question in generated(course):
        assert f"generated: {len(question.variants)} variants" in markdown
        for variant in question.variants:
            assert f"| {variant.variant.index} | {variant.variant.label} | " in markdown
    masked = course.concept("sft-arithmetic").question("masked-share")
    for variant in masked.variants:
        kind, value, margin = found[variant_id(course.concepts[0], variant)]
        assert math.isclose(value, share(variant), rel_tol=1e-9)


def test_the_key_gives_what_the_lab_measured_on_each_seed(tmp_path):
    """A lab-keyed variant (quizgen.variants.measured) shows each seed's measurement beside its answer."""
    course = load_course(GENERATED)
    concept = course.concepts[0]
    question = concept.question("masked-share")
    measured = tuple(v.model_copy(update={"variant": v.variant.model_copy(
        update={"seeds": (0, 1, 2), "measured": (0.5, 0.5125, 0.49)})}) for v in question.variants)
    pooled = measured[0].model_copy(update={"variants": measured})
    course = course.model_copy(update={"concepts": (concept.model_copy(update={"questions": (pooled,)}),)})
    get_format("key").write(course, {}, tmp_path)
    markdown = (tmp_path / "key.md").read_text(encoding="utf-8")
    assert "| Variant | Values | Answer | Seed 0 | Seed 1 | Seed 2 |" in markdown
    assert "| 1 | p=8, r=2 | 0.2 ± 0.001 | 0.5 | 0.5125 | 0.49 |" in markdown
    assert "<th>Seed 2</th>" in (tmp_path / "key.html").read_text(encoding="utf-8")


def test_the_item_bank_has_a_row_per_variant_saying_which(exported):
    course, export, _ = exported
    with open(export / "csv" / "items.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-3:] == ["variant", "variants", "values"]
    assert len(rows) == len(readers.all_variants(course))
    masked = [row for row in rows if row["id"] == "sft-arithmetic#masked-share"]
    assert [(row["variant"], row["variants"]) for row in masked] == [(str(i), "9") for i in range(1, 10)]
    for row, variant in zip(masked, course.concept("sft-arithmetic").question("masked-share").variants):
        assert row["values"] == variant.variant.label
        value, margin = row["answer"].split(" ± ")
        assert math.isclose(float(value), share(variant), rel_tol=1e-9) and margin == "0.001"
        assert f"{variant.variant.values['p']:g} prompt tokens" in row["stem"]


# --- what a pool cannot say ----------------------------------------------------------------------------


def test_variants_worth_different_points_are_a_warning_where_a_pool_gives_one_mark(tmp_path):
    content = tmp_path / "course"
    content.mkdir()
    (content / "c.md").write_text(
        "---\nid: c\ntitle: C\n---\nText.\n\n## Questions\n\n"
        "{#pooled type=numeric answer=\"= 2 * n\" tolerance=0 points=\"= n\"}\n### Twice\nWhat is twice {n}?\n\n"
        "#### Explanation\nDouble it.\n\n#### Parameters\n- n: 1, 2\n", encoding="utf-8")
    report = build(content, tmp_path / "out", ["canvas", "qti21", "moodle"])
    messages = sorted(w.message for w in report.warnings)
    assert messages == [
        "the variants are worth 1, 2 points, but a Canvas question group gives every question it draws from a pool "
        "the same points: each is worth 1 there",
        "the variants are worth 1, 2 points, but a Moodle quiz's random question gives every question it draws "
        "from a pool the same points: each is worth 1 there",
    ]
    (group,) = readers.canvas_groups(tmp_path / "out" / "export" / "canvas" / "c.zip")
    assert group["points"] == 1
