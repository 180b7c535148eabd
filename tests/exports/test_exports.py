"""Every export is read back by a real parser or schema, and agrees with the course on every answer."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

import readers
from quizgen.build import build
from quizgen.cli import cli
from quizgen.formats import names
from quizgen.formats.common import stable_id, variant_id, variants
from quizgen.loader import load_course
from paths import FIXTURES, ROOT

SCHEMAS = ROOT.parent / "shared" / "schemas"
COURSES = {
    "seed": ROOT / "content",
    "full": FIXTURES / "courses" / "full",
    "hostile": FIXTURES / "courses" / "hostile",
    "generated": FIXTURES / "courses" / "generated",  # every question generated: each export as pools
}
needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="../shared/schemas is not here (CI has it)")
needs_node = pytest.mark.skipif(not (ROOT / "node_modules" / "gift-pegjs").is_dir() or not shutil.which("node"),
                                reason="gift-pegjs is not installed: run `make test-setup`")


@pytest.fixture(scope="module", params=sorted(COURSES))
def exported(request, tmp_path_factory):
    content = COURSES[request.param]
    out = tmp_path_factory.mktemp(request.param)
    report = build(content, out, names("export"))
    return report.course, out / "export"  # the course as built: the answers its labs measured filled in


# --- schemas and parsers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qti12_schema():
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "qti12-cc" / "domainProfile_4" / "ims_qtiasiv1p2.xsd")))


class CatalogResolver(etree.Resolver):
    """Maps http://www.imsglobal.org/... schema locations to ../shared/schemas/qti21-catalog/; no network."""

    def resolve(self, url, pubid, context):
        for prefix in ("http://", "https://"):
            if url.startswith(prefix):
                return self.resolve_filename(str(SCHEMAS / "qti21-catalog" / url[len(prefix):]), context)
        return None


@pytest.fixture(scope="module")
def qti21_schema():
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(CatalogResolver())
    main = SCHEMAS / "qti21-catalog" / "www.imsglobal.org" / "xsd" / "imsqti_v2p1.xsd"
    return etree.XMLSchema(etree.parse(str(main), parser))


def assert_valid(schema, data: bytes, name: str):
    document = etree.fromstring(data)
    if not schema.validate(document):
        errors = "\n".join(f"  line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        pytest.fail(f"{name} does not validate:\n{errors}")


@needs_schemas
def test_canvas_zips_have_canvas_layout_and_validate_against_qti12(exported, qti12_schema):
    course, export = exported
    zips = sorted((export / "canvas").glob("*.zip"))
    assert [z.stem for z in zips] == sorted([c.id for c in course.concepts if c.questions] + ["all-concepts"])
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            names_in_zip = archive.namelist()
            assert "imsmanifest.xml" in names_in_zip
            folders = {name.split("/")[0] for name in names_in_zip if "/" in name}
            assert len(folders) == 1
            ident = folders.pop()
            assert {f"{ident}/assessment_meta.xml", f"{ident}/{ident}.xml"} <= set(names_in_zip)
            assert_valid(qti12_schema, archive.read(f"{ident}/{ident}.xml"), f"{path.name}:{ident}.xml")
            etree.fromstring(archive.read("imsmanifest.xml"))
            etree.fromstring(archive.read(f"{ident}/assessment_meta.xml"))


@needs_schemas
def test_qti21_items_and_tests_validate_against_the_qti21_catalog(exported, qti21_schema):
    _, export = exported
    checked = 0
    for path in sorted((export / "qti21").glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name == "imsmanifest.xml":
                    etree.fromstring(archive.read(name))
                else:
                    assert_valid(qti21_schema, archive.read(name), f"{path.name}:{name}")
                    checked += 1
    assert checked


@needs_schemas
def test_the_qti21_validator_rejects_a_broken_item(exported, qti21_schema):
    """A control: the schema check above would catch an element QTI does not allow."""
    _, export = exported
    with zipfile.ZipFile(next((export / "qti21").glob("*.zip"))) as archive:
        item = next(n for n in archive.namelist() if n.startswith("items/"))
        data = archive.read(item).replace(b"<itemBody>", b"<itemBody><blink>no</blink>", 1)
    assert not qti21_schema.validate(etree.fromstring(data))


def test_moodle_xml_meets_moodles_rules(exported):
    course, export = exported
    root = etree.parse(str(export / "moodle" / "questions.xml")).getroot()
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    idnumbers = [q.findtext("idnumber") for q in questions if q.get("type") != "category"]
    assert len(idnumbers) == len(set(idnumbers)) == len(readers.all_variants(course))
    for question in questions:
        fractions = [float(a.get("fraction")) for a in question.findall("answer")]
        kind = question.get("type")
        if kind == "multichoice" and question.findtext("single") == "true":
            assert fractions.count(100) == 1, question.findtext("idnumber")
        elif kind == "multichoice":
            assert abs(sum(f for f in fractions if f > 0) - 100) < 1e-3, question.findtext("idnumber")
        elif kind == "truefalse":
            assert sorted(fractions) == [0, 100]
            assert sorted(a.findtext("text") for a in question.findall("answer")) == ["false", "true"]
        elif kind == "numerical":
            assert fractions == [100] and float(question.find("answer").findtext("tolerance")) >= 0
        elif kind == "essay":
            assert "Rubric" in question.findtext("graderinfo/text")
        elif kind == "category":
            assert question.findtext("category/text").startswith("$course$/top/")


@needs_node
def test_gift_parses_with_gift_pegjs(exported):
    course, export = exported
    parsed = readers.parse_gift(export / "gift" / "questions.gift.txt")
    kinds = [q["type"] for q in parsed if q["type"] != "Category"]
    wanted = {"choice": "MC", "multi": "MC", "truefalse": "TF", "numeric": "Numerical", "short": "Short",
              "critique": "Essay"}
    assert kinds == [wanted[q.type] for _, q in readers.all_variants(course)]
    categories = {q["title"] for q in parsed if q["type"] == "Category"}
    concepts = [c for c in course.concepts if c.questions]
    pools = [(c, q) for c, q in course.questions if q.variants]  # a category of its own for each
    assert len(categories) == len(concepts) + len(pools)


# --- one answer everywhere -------------------------------------------------------------------------


@needs_node
def test_every_format_agrees_on_every_correct_answer(exported):
    course, export = exported
    wanted = readers.expected(course)
    found = {
        "canvas": readers.canvas(export / "canvas" / "all-concepts.zip", course),
        "moodle": readers.moodle(export / "moodle" / "questions.xml"),
        "gift": readers.gift(export / "gift" / "questions.gift.txt", course),
    }
    problems = [f"{name}: {line}" for name, answers in found.items() for line in readers.same(answers, wanted)]
    in_mathml = {  # math rendered as MathML
        "qti21": readers.qti21(export / "qti21" / "all-concepts.zip"),
        "key": readers.key_html(export / "key" / "key.html", course),
    }
    problems += [f"{name}: {line}" for name, answers in in_mathml.items()
                 for line in readers.same(answers, readers.expected(course, "mathml"))]
    assert not problems, "\n".join(problems)


def test_csv_has_a_row_per_question_with_its_answer(exported):
    import csv

    from quizgen.formats.common import correct_answers, full_id

    course, export = exported
    with open(export / "csv" / "items.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["id"] for row in rows] == [full_id(c, q) for c, q in readers.all_variants(course)]
    for row, (_, question) in zip(rows, readers.all_variants(course)):
        assert row["answer"] == " | ".join(correct_answers(question))
        assert row["type"] == question.type and row["stem"] == question.stem
        assert row["variant"] == (str(question.variant.index) if question.variant else "")


def test_critique_prompts_carry_the_rubric_and_a_json_schema(exported):
    import json

    import jsonschema

    course, export = exported
    critiques = [(c, q) for c, q in course.questions if q.type == "critique"]
    for concept, question in critiques:
        folder = export / "critique" / concept.id / question.id
        grader = (folder / "grader.md").read_text(encoding="utf-8")
        schema = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        for criterion in question.rubric:
            assert " ".join(criterion.full.split()).replace("|", "\\|") in grader
        assert "{{ANSWER}}" in grader and question.exemplar in grader
        keys = list(schema["properties"]["criteria"]["properties"])
        good = {"question": f"{concept.id}#{question.id}", "total": question.points, "feedback": "ok",
                "criteria": {key: {"level": "full", "score": c.points, "justification": "x"}
                             for key, c in zip(keys, question.rubric)}}
        assert not list(jsonschema.Draft202012Validator(schema).iter_errors(good))
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(good | {"total": question.points + 1}))
        learner = (folder / "learner.md").read_text(encoding="utf-8")
        assert question.exemplar not in learner and "Full credit" not in learner
        for criterion in question.rubric:  # the criteria's names would give part of the answer away
            assert criterion.name not in learner


# --- determinism, hostile content, forms ------------------------------------------------------------


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_exports_are_byte_identical(tmp_path):
    build(COURSES["seed"], tmp_path / "a", names("export"), forms=2, seed=3)
    build(COURSES["seed"], tmp_path / "b", names("export"), forms=2, seed=3)
    first, second = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    assert first and first == second


def test_hostile_text_survives_escaped_in_every_format(tmp_path):
    build(COURSES["hostile"], tmp_path, names("export"))
    export = tmp_path / "export"
    with zipfile.ZipFile(export / "canvas" / "all-concepts.zip") as archive:
        xml = next(archive.read(n) for n in archive.namelist() if n.count("/") == 1 and "meta" not in n)
    root = etree.fromstring(xml)
    texts = [readers.plain(m.text or "") for m in root.iter(f"{readers.QTI12}mattext")]
    assert any("<script>alert('option')</script>" in t for t in texts)  # shown as text …
    assert not any(m.text and "<script>" in m.text for m in root.iter(f"{readers.QTI12}mattext"))  # … never as markup
    assert any("{braces}, ~tilde, =equals, #hash, :colon and \\backslash ✓" in t for t in texts)
    moodle = etree.parse(str(export / "moodle" / "questions.xml")).getroot()
    stems = [readers.plain(q.findtext("questiontext/text") or "") for q in moodle.iter("question")]
    assert any("]]> and {~=#:} intact" in s for s in stems)
    key = (export / "key" / "key.html").read_text(encoding="utf-8")
    assert "<script>" not in key and "&lt;script&gt;" in key
    assert "日本語 🙂 naïve" in key


@needs_node
def test_hostile_gift_round_trips_special_characters(tmp_path):
    build(COURSES["hostile"], tmp_path, ["gift"])
    parsed = [q for q in readers.parse_gift(tmp_path / "export" / "gift" / "questions.gift.txt")
              if q["type"] != "Category"]
    assert parsed[0]["title"] == "Specials ~ = # { } : \\ in the title <i>here</i>"
    assert "{~=#:}" in parsed[0]["stem"]["text"]
    short = next(q for q in parsed if q["type"] == "Short")
    # the answers as written, and each with the trailing period the course's rule also accepts
    assert sorted(c["text"]["text"] for c in short["choices"]) == sorted(
        ["a=b", "café ~ crème", "{x}", "a=b.", "café ~ crème.", "{x}."])


def seed_course_as_built():
    """The seed course with the answers its labs measured (what build() renders)."""
    from quizgen.build import with_measured_answers

    return with_measured_answers(load_course(COURSES["seed"]), None)[0]


def test_forms_shuffle_reproducibly_and_keep_answers(tmp_path):
    from quizgen.forms import make_form

    course = seed_course_as_built()
    first, again, other = make_form(course, 7, 1), make_form(course, 7, 1), make_form(course, 8, 1)
    assert first == again and first != other
    order = lambda c: [(x.id, q.id) for x in c.concepts for q in x.questions]  # noqa: E731
    assert order(first) != order(course) and sorted(order(first)) == sorted(order(course))
    # every question keeps its answer: a generated one's is that of the variant the form drew
    assert readers.expected(first).items() <= readers.expected(course).items()
    for concept in first.concepts:
        original = course.concept(concept.id)
        for question in concept.questions:
            if getattr(question, "shuffle", True) is False or question.type == "truefalse":
                assert question in variants(original.question(question.id))
    build(COURSES["seed"], tmp_path, ["key", "canvas"], forms=2, seed=7)
    for number in (1, 2):
        form = make_form(course, 7, number)
        key = readers.key_html(tmp_path / "export" / "key" / f"form-{number}" / "key.html", form)
        assert not readers.same(key, readers.expected(form, "mathml"))
        assert (tmp_path / "export" / "canvas" / f"form-{number}" / f"all-concepts-form-{number}.zip").is_file()


GENERATED = COURSES["generated"]


def test_each_form_draws_one_variant_of_each_generated_question_and_pools_none(tmp_path):
    """A form is one fixed paper: each generated question is one of its variants, drawn reproducibly from
    the form's generator, with no pool of its own, so every export writes it as one question (no Canvas
    group, no QTI selection, no Moodle category of its own) and the form's key gives that variant."""
    from quizgen.forms import make_form

    course = load_course(GENERATED)
    forms = [make_form(course, 7, number) for number in (1, 2)]
    drawn = [{q.id: q.variant.index for _, q in form.questions} for form in forms]
    assert drawn[0] != drawn[1]  # two forms ask different numbers
    assert drawn[0] == {q.id: q.variant.index for _, q in make_form(course, 7, 1).questions}
    for form in forms:
        for concept, question in form.questions:
            original = course.concept(concept.id).question(question.id)
            assert question.variants == () and question.variant is not None
            pooled = original.variants[[v.variant.index for v in original.variants].index(question.variant.index)]
            assert question.model_copy(update={"options": ()}) == pooled.model_copy(update={"options": ()})
            if hasattr(question, "options"):
                assert sorted(o.text for o in question.options) == sorted(o.text for o in pooled.options)
    build(GENERATED, tmp_path, ["canvas", "qti21", "moodle", "gift", "key"], forms=2, seed=7)
    export = tmp_path / "export"
    for number, form in zip((1, 2), forms):
        canvas = export / "canvas" / f"form-{number}" / f"all-concepts-form-{number}.zip"
        assert readers.canvas_groups(canvas) == []
        assert sorted(readers.canvas_loose_items(canvas)) == sorted(
            stable_id("item", variant_id(c, q)) for c, q in form.questions)
        assert readers.qti21_pools(export / "qti21" / f"form-{number}" / f"all-concepts-form-{number}.zip") == []
        categories = readers.moodle_categories(export / "moodle" / f"form-{number}" / "questions.xml")
        assert list(categories.values()) == [[variant_id(c, q) for c, q in form.questions]]
        gift = readers.gift_categories(export / "gift" / f"form-{number}" / "questions.gift.txt")
        assert list(gift.values()) == [[variant_id(c, q) for c, q in form.questions]]
        key = readers.key_html(export / "key" / f"form-{number}" / "key.html", form)
        assert not readers.same(key, readers.expected(form, "mathml")) and len(key) == len(form.questions)
        page = (export / "key" / f"form-{number}" / "key.html").read_text(encoding="utf-8")
        for _, question in form.questions:
            assert f"variant {question.variant.index} ({question.variant.label})" in page


def test_export_command_reports_unknown_format_plainly(tmp_path):
    result = CliRunner().invoke(cli, ["export", "--format", "pdf", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown format 'pdf'; the formats are:")


def test_a_format_named_twice_is_built_once(tmp_path):
    result = CliRunner().invoke(cli, ["build", "--content", str(COURSES["seed"]), "--out", str(tmp_path),
                                      "--format", "gift", "--format", "gift"])
    assert result.exit_code == 0, result.output
    assert result.output.count("gift: ") == 1


def test_forms_for_formats_without_forms_are_refused_plainly(tmp_path):
    result = CliRunner().invoke(cli, ["export", "--format", "csv", "--forms", "2", "--content", str(COURSES["seed"]),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == "Error: --forms applies to canvas, qti21, moodle, gift, key; csv has no forms\n"
    assert not (tmp_path / "export").exists()


def test_an_unwritable_build_folder_is_a_plain_sentence(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "build"
    result = CliRunner().invoke(cli, ["export", "--format", "gift", "--content", str(COURSES["seed"]), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: cannot build into '{out}': ") and "Traceback" not in result.output


def test_a_failed_export_leaves_the_previous_output(tmp_path, monkeypatch):
    build(COURSES["full"], tmp_path, names("export"))
    before = tree_digest(tmp_path / "export")
    from quizgen.formats import gift

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(gift, "write", broken)
    with pytest.raises(RuntimeError):
        build(COURSES["seed"], tmp_path, names("export"))
    assert tree_digest(tmp_path / "export") == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_every_format_module_is_declared_once_under_its_own_name():
    import importlib
    import pkgutil

    import quizgen.formats
    from quizgen.formats import DECLARED, REGISTRY

    modules = {info.name: importlib.import_module(f"quizgen.formats.{info.name}")
               for info in pkgutil.iter_modules(quizgen.formats.__path__)}
    writers = sorted(name for name, module in modules.items() if hasattr(module, "write"))
    assert sorted(entry.name for entry in DECLARED) == sorted(REGISTRY) == writers
    assert all(modules[name].NAME == name for name in writers)


# --- how options are named -----------------------------------------------------------------------


def test_option_letters_go_on_after_z_as_spreadsheet_columns_do():
    from quizgen.formats.notation import option_letter

    assert [option_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]


def test_the_key_and_the_csv_name_the_28th_option_ab(tmp_path):
    build(FIXTURES / "courses" / "many-options", tmp_path, ["key", "csv"])
    key = (tmp_path / "export" / "key" / "key.md").read_text(encoding="utf-8")
    assert "- Z. Option number 26\n" in key and "- AA. Option number 27\n" in key
    assert "- **AB. Option number 28** ✓" in key and "**Answer:** AB" in key
    assert "<strong>Answer:</strong> AB</p>" in (tmp_path / "export" / "key" / "key.html").read_text(encoding="utf-8")
    csv_text = (tmp_path / "export" / "csv" / "items.csv").read_text(encoding="utf-8")
    assert "Z. Option number 26 | AA. Option number 27 | AB. Option number 28" in csv_text
