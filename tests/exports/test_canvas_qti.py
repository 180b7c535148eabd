"""The Canvas (QTI 1.2) and QTI 2.1 packages arrive whole (issue 12), read back as Canvas's importer and a
QTI 2.1 delivery engine read them (tests/exports/readers.py): numeric ranges as exact decimals, no
exemplar anywhere a learner is shown, every image in the package and resolvable from the item that shows
it, and the quiz settings of course.yml and front matter in the fields each format has for them."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

import readers
from quizgen.build import build
from quizgen.formats.common import stable_id, variant_id
from quizgen.formats.notation import exact
from quizgen.loader import load_course
from paths import FIXTURES, ROOT

LMS = FIXTURES / "courses" / "lms"
COURSES = {"lms": LMS, "seed": ROOT / "content", "full": FIXTURES / "courses" / "full",
           "hostile": FIXTURES / "courses" / "hostile"}
EXEMPLAR = "EXEMPLAR-ONLY-FOR-GRADERS"
SCHEMAS = ROOT.parent / "shared" / "schemas"
needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason="../shared/schemas is not here (CI has it)")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{course name: (course, export folder)} with the Canvas and QTI 2.1 packages of each course."""
    out = {}
    for name, content in COURSES.items():
        folder = tmp_path_factory.mktemp(name)
        report = build(content, folder, ["canvas", "qti21"])
        out[name] = (report.course, folder / "export")  # the course as built: lab-measured answers in
    return out


def zips(export, kind: str):
    return sorted((export / kind).glob("*.zip"))


# --- numbers as written ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COURSES))
def test_canvas_numeric_ranges_are_exact_decimals(exported, name):
    """Canvas stores margin = BigDecimal(upper) − BigDecimal(exact) (qti_exporter's NumericInteraction):
    with the bounds worked out in decimal it is the tolerance as written, never 0.001000000000000004."""
    course, export = exported[name]
    numeric = {variant_id(c, q): q for c, q in readers.all_variants(course) if q.type == "numeric"}
    for path in zips(export, "canvas"):
        for key, (value, low, high) in readers.canvas_numeric_bounds(path, course).items():
            question = numeric[key]
            assert Decimal(value) == exact(question.answer), (path.name, key, value)
            assert Decimal(high) - Decimal(value) == exact(question.margin), (path.name, key, high)
            assert Decimal(value) - Decimal(low) == exact(question.margin), (path.name, key, low)
            if question.variant is None:  # a number the author wrote (a formula's answer has all its digits)
                assert len(high) < 17 and len(low) < 17, (key, low, high)  # no float noise digits


def test_the_lms_fixture_ranges_read_as_their_authors_wrote_them(exported):
    course, export = exported["lms"]
    bounds = readers.canvas_numeric_bounds(export / "canvas" / "figures.zip", course)
    assert bounds == {"figures#share": ("2", "1.5", "2.5"), "figures#nats": ("1.151", "1.15", "1.152")}


@pytest.mark.parametrize("name", sorted(COURSES))
def test_qti21_numeric_answers_and_tolerances_are_as_written(exported, name):
    course, export = exported[name]
    numeric = {variant_id(c, q): q for c, q in readers.all_variants(course) if q.type == "numeric"}
    for item in readers.qti21_items(export / "qti21" / "all-concepts.zip").values():
        question = numeric.get(item.get("label"))
        if question is None:
            continue
        equal = item.find(f".//{readers.QTI21}equal")
        assert Decimal(equal.findtext(f"{readers.QTI21}baseValue")) == exact(question.answer)
        if question.margin:
            assert [Decimal(t) for t in equal.get("tolerance").split()] == [exact(question.margin)] * 2


def test_a_relative_tolerance_is_exact_too(tmp_path):
    """1.151 ± 0.1 % is 1.149849 … 1.152151 (float arithmetic gives 0.0011510000000000001 as the margin)."""
    content = tmp_path / "course"
    content.mkdir()
    (content / "loss.md").write_text(
        "---\nid: loss\ntitle: Loss\n---\nA loss.\n\n## Questions\n\n"
        "{#nats type=numeric answer=1.151 relative_tolerance=0.001}\n### A loss\nWhat is it?\n\n"
        "#### Explanation\nIt is 1.151.\n", encoding="utf-8")
    build(content, tmp_path / "out", ["canvas", "qti21"])
    course = load_course(content)
    bounds = readers.canvas_numeric_bounds(tmp_path / "out" / "export" / "canvas" / "loss.zip", course)
    assert bounds == {"loss#nats": ("1.151", "1.149849", "1.152151")}
    item = next(iter(readers.qti21_items(tmp_path / "out" / "export" / "qti21" / "loss.zip").values()))
    assert item.find(f".//{readers.QTI21}equal").get("tolerance") == "0.001151 0.001151"


# --- the exemplar stays with graders ---------------------------------------------------------------


def test_no_canvas_package_carries_the_exemplar(exported):
    """Canvas shows an essay's general comments to learners after they submit and keeps no grader-only
    text for a quiz question: the exemplar is in no file of any Canvas zip, the rubric still is."""
    course, export = exported["lms"]
    for path in zips(export, "canvas"):
        for name, data in readers.zip_entries(path).items():
            assert EXEMPLAR.encode() not in data, (path.name, name)
    texts = readers.canvas_learner_texts(export / "canvas" / "critique.zip")
    assert any("Names the risk" in readers.plain(t) and "Catastrophic forgetting." in readers.plain(t) for t in texts)


@pytest.mark.parametrize("name", sorted(COURSES))
def test_no_canvas_package_of_any_course_carries_an_exemplar(exported, name):
    course, export = exported[name]
    exemplars = [readers.plain(q.exemplar)[:60] for _, q in readers.all_variants(course) if q.type == "critique"]
    for path in zips(export, "canvas"):
        shown = " ".join(readers.plain(t) for t in readers.canvas_learner_texts(path))
        assert not [e for e in exemplars if e in shown], path.name


@pytest.mark.parametrize("name", sorted(COURSES))
def test_qti21_keeps_the_exemplar_for_scorers_only(exported, name):
    """QTI's grader-only place is a rubricBlock with view="scorer": the exemplar is there, and in no text a
    candidate can be shown (item body, prompts, modal feedback, titles) of any item or test."""
    course, export = exported[name]
    critiques = {variant_id(c, q): q for c, q in readers.all_variants(course) if q.type == "critique"}
    for path in zips(export, "qti21"):
        for item_path, item in readers.qti21_items(path).items():
            question = critiques.get(item.get("label"))
            learner = readers.qti21_learner_text(item)
            assert EXEMPLAR not in learner, (path.name, item_path)
            if question is not None:
                exemplar = readers.plain(readers.inline_html(question.exemplar.split("\n\n")[0], "mathml"))[:40]
                assert exemplar not in learner, (path.name, item_path)
                assert exemplar in readers.qti21_scorer_text(item), (path.name, item_path)
        assert EXEMPLAR not in readers.qti21_learner_text(readers.qti21_test(path))


# --- images -------------------------------------------------------------------------------------------


def course_file_bytes(course, concept_id: str) -> dict[str, bytes]:
    return {f.name: course.local_file(f.name).read_bytes() for f in course.concept(concept_id).files}


def test_canvas_images_are_in_the_package_and_resolve_from_the_items(exported):
    course, export = exported["lms"]
    wanted = course_file_bytes(course, "figures")
    assert set(wanted) == {"figures/series circuit.png", "figures/drift.svg"}
    assert wanted["figures/series circuit.png"] == (LMS / "figures" / "series circuit.png").read_bytes()
    for quiz in ("figures", "all-concepts"):
        path = export / "canvas" / f"{quiz}.zip"
        entries = readers.zip_entries(path)
        images = readers.canvas_images(path)
        assert {resolved for _, resolved in images} == {f"web_resources/{name}" for name in wanted}
        for src, resolved in images:
            assert " " not in src, src  # a URI: the space is %20
            assert entries[resolved] == wanted[resolved.removeprefix("web_resources/")], resolved


def test_canvas_manifest_lists_each_file_as_webcontent_the_quiz_depends_on(exported):
    _, export = exported["lms"]
    path = export / "canvas" / "figures.zip"
    resources = readers.manifest_resources(path)
    files = [name for name in readers.zip_entries(path) if name.startswith("web_resources/")]
    webcontent = {r["href"]: identifier for identifier, r in resources.items() if r["type"] == "webcontent"}
    assert sorted(webcontent) == sorted(files)
    assert all(resources[identifier]["files"] == [href] for href, identifier in webcontent.items())
    quiz = next(r for r in resources.values() if r["type"] == "imsqti_xmlv1p2")
    assert set(webcontent.values()) <= set(quiz["dependencies"])


def test_only_the_files_a_quiz_shows_go_into_its_package(exported):
    _, export = exported["lms"]
    for kind in ("canvas", "qti21"):
        entries = readers.zip_entries(export / kind / "critique.zip")
        assert not [name for name in entries if not name.endswith(".xml")], kind


def test_qti21_images_are_in_the_package_relative_to_their_items(exported):
    course, export = exported["lms"]
    wanted = course_file_bytes(course, "figures")
    for quiz in ("figures", "all-concepts"):
        path = export / "qti21" / f"{quiz}.zip"
        entries = readers.zip_entries(path)
        images = readers.qti21_images(path)
        assert {resolved for _, _, resolved in images} == {f"media/{name}" for name in wanted}
        for item_path, src, resolved in images:
            assert " " not in src and not src.startswith("/"), src
            assert entries[resolved] == wanted[resolved.removeprefix("media/")], (item_path, src)


def test_qti21_manifest_lists_each_items_files_and_its_webcontent_dependencies(exported):
    """IMS CP: an item's resource lists every file it uses and depends on the webcontent resource that
    holds each; a webcontent resource has no href (nor does Canvas's importer then skip the file)."""
    _, export = exported["lms"]
    path = export / "qti21" / "all-concepts.zip"
    resources = readers.manifest_resources(path)
    webcontent = {identifier: r for identifier, r in resources.items() if r["type"] == "webcontent"}
    assert all(r["href"] is None and len(r["files"]) == 1 for r in webcontent.values())
    held = {r["files"][0]: identifier for identifier, r in webcontent.items()}
    assert sorted(held) == sorted(n for n in readers.zip_entries(path) if n.startswith("media/"))
    shown: dict[str, set[str]] = {}
    for item_path, _, resolved in readers.qti21_images(path):
        shown.setdefault(item_path, set()).add(resolved)
    for resource in resources.values():
        if resource["type"] != "imsqti_item_xmlv2p1":
            continue
        item_path, *files = resource["files"]
        assert item_path == resource["href"]
        assert set(files) == shown.get(item_path, set()), item_path
        assert set(resource["dependencies"]) == {held[f] for f in files}, item_path
    assert all(d in resources for r in resources.values() for d in r["dependencies"])


@needs_schemas
def test_lms_packages_validate(exported):
    _, export = exported["lms"]
    qti12, qti21 = readers.qti12_schema(), readers.qti21_schema()
    for path in zips(export, "canvas"):
        for name, data in readers.zip_entries(path).items():
            if name.count("/") == 1 and name.split("/")[0] + ".xml" == name.split("/")[1]:
                assert not readers.schema_errors(qti12, data), (path.name, readers.schema_errors(qti12, data)[:3])
    for path in zips(export, "qti21"):
        for name, data in readers.zip_entries(path).items():
            if name.startswith(("items/", "tests/")):
                assert not readers.schema_errors(qti21, data), (path.name, name, readers.schema_errors(qti21, data)[:3])


# --- quiz settings -----------------------------------------------------------------------------------

# Canvas's quiz fields as assessment_meta.xml wrote them before quiz settings existed; a course without
# `quiz:` must still get exactly these.
CANVAS_DEFAULTS = {"scoring_policy": "keep_highest", "quiz_type": "assignment", "show_correct_answers": "true",
                   "allowed_attempts": "-1", "one_question_at_a_time": "false", "cant_go_back": "false",
                   "available": "false"}


@pytest.mark.parametrize("name", ["seed", "full", "hostile"])
def test_a_course_without_quiz_settings_keeps_the_canvas_defaults(exported, name):
    course, export = exported[name]
    assert course.quiz == type(course.quiz)()
    for path in zips(export, "canvas"):
        meta = readers.canvas_meta(path)
        assert {k: v for k, v in meta.items() if k in CANVAS_DEFAULTS} == CANVAS_DEFAULTS
        assert set(meta) == set(CANVAS_DEFAULTS) | {"title", "description", "shuffle_answers", "points_possible"}
        assert readers.canvas_assessment_metadata(path) == {"cc_maxattempts": "unlimited"}
        test = readers.qti21_test(export / "qti21" / path.name)
        control = test.find(f".//{readers.QTI21}itemSessionControl")
        assert (control.get("maxAttempts"), control.get("showSolution")) == ("0", "true")
        assert test.find(f"{readers.QTI21}timeLimits") is None


def test_course_quiz_settings_reach_canvas(exported):
    """course.yml: attempts 2, time_limit 30, shuffle_answers false, after_last_attempt (points: see docs,
    Canvas sums its questions' points)."""
    _, export = exported["lms"]
    for quiz in ("figures", "all-concepts"):
        meta = readers.canvas_meta(export / "canvas" / f"{quiz}.zip")
        assert (meta["allowed_attempts"], meta["time_limit"], meta["shuffle_answers"]) == ("2", "30", "false")
        assert (meta["show_correct_answers"], meta["show_correct_answers_last_attempt"]) == ("true", "true")
        assert readers.canvas_assessment_metadata(export / "canvas" / f"{quiz}.zip") == {
            "qmd_timelimit": "30", "cc_maxattempts": "2"}


def test_course_quiz_settings_reach_qti21(exported):
    course, export = exported["lms"]
    path = export / "qti21" / "figures.zip"
    test = readers.qti21_test(path)
    assert test.find(f"{readers.QTI21}timeLimits").get("maxTime") == "1800"  # seconds
    control = test.find(f".//{readers.QTI21}testPart/{readers.QTI21}itemSessionControl")
    assert (control.get("maxAttempts"), control.get("showSolution")) == ("2", "false")
    shuffles = {i.get("label"): c.get("shuffle") for i in readers.qti21_items(path).values()
                for c in i.iter(f"{readers.QTI21}choiceInteraction")}
    assert shuffles and set(shuffles.values()) == {"false"}
    # points: 10 for questions worth 7 in all: SCORE = sum × 10 / 7, exact
    divide = test.find(f"{readers.QTI21}outcomeProcessing/{readers.QTI21}setOutcomeValue/{readers.QTI21}divide")
    product = divide.find(f"{readers.QTI21}product")
    assert product.find(f"{readers.QTI21}sum/{readers.QTI21}testVariables").get("variableIdentifier") == "SCORE"
    assert product.findtext(f"{readers.QTI21}baseValue") == "10"
    assert divide.findtext(f"{readers.QTI21}baseValue") == "7" and sum(q.points for q in course.concept("figures").questions) == 7
    assert test.find(f"{readers.QTI21}outcomeDeclaration").get("normalMaximum") == "10"


def test_a_concepts_own_settings_override_the_courses(exported):
    """critique.md's front matter: attempts 1, show_correct_answers never."""
    _, export = exported["lms"]
    meta = readers.canvas_meta(export / "canvas" / "critique.zip")
    assert (meta["allowed_attempts"], meta["show_correct_answers"]) == ("1", "false")
    assert "show_correct_answers_last_attempt" not in meta
    control = readers.qti21_test(export / "qti21" / "critique.zip").find(f".//{readers.QTI21}itemSessionControl")
    assert (control.get("maxAttempts"), control.get("showSolution")) == ("1", "false")


def test_a_concept_override_keeps_the_course_settings_it_does_not_name(exported):
    _, export = exported["lms"]
    meta = readers.canvas_meta(export / "canvas" / "critique.zip")
    assert (meta.get("time_limit"), meta["shuffle_answers"]) == ("30", "false")
    test = readers.qti21_test(export / "qti21" / "critique.zip")
    assert test.find(f"{readers.QTI21}timeLimits").get("maxTime") == "1800"


def test_every_quiz_carries_its_merged_settings(exported):
    """Whatever course.quiz_settings() gives a concept is what its Canvas and QTI 2.1 quizzes say; the
    whole-course quiz, over several concepts, runs with course.yml's."""
    course, export = exported["lms"]
    quizzes = {c.id: course.quiz_settings(c) for c in course.concepts} | {"all-concepts": course.quiz}
    show = {"after_each_attempt": ("true", None), "after_last_attempt": ("true", "true"), "never": ("false", None)}
    assert {s.show_correct_answers: s.attempts for s in quizzes.values()} == {"after_last_attempt": 2, "never": 1}
    for quiz, settings in quizzes.items():
        meta = readers.canvas_meta(export / "canvas" / f"{quiz}.zip")
        assert meta["allowed_attempts"] == str(settings.attempts or -1)
        assert meta.get("time_limit") == (str(settings.time_limit) if settings.time_limit else None)
        assert (meta["show_correct_answers"], meta.get("show_correct_answers_last_attempt")) == show[
            settings.show_correct_answers]
        if not settings.shuffle_answers:
            assert meta["shuffle_answers"] == "false"
        test = readers.qti21_test(export / "qti21" / f"{quiz}.zip")
        control = test.find(f".//{readers.QTI21}itemSessionControl")
        assert control.get("maxAttempts") == str(settings.attempts or 0)
        shown_after_each = settings.show_correct_answers == "after_each_attempt" or (
            settings.show_correct_answers == "after_last_attempt" and settings.attempts == 1)
        assert control.get("showSolution") == ("true" if shown_after_each else "false")


@pytest.mark.parametrize(("attempts", "canvas", "qti21"), [
    (3, ("true", "true"), "false"), (1, ("true", None), "true"), (None, ("false", None), "false")])
def test_after_the_last_attempt_never_shows_answers_early(tmp_path, attempts, canvas, qti21):
    """Canvas keeps show_correct_answers_last_attempt only with 2 or more attempts and would otherwise show
    the answers after every attempt: one attempt is its last, unlimited attempts have none."""
    content = tmp_path / "course"
    shutil.copytree(LMS, content)
    limit = f"  attempts: {attempts}\n" if attempts else ""
    (content / "course.yml").write_text(f"title: Last attempt\nquiz:\n{limit}  show_correct_answers: after_last_attempt\n",
                                        encoding="utf-8")
    build(content, tmp_path / "out", ["canvas", "qti21"])
    meta = readers.canvas_meta(tmp_path / "out" / "export" / "canvas" / "figures.zip")
    assert (meta["show_correct_answers"], meta.get("show_correct_answers_last_attempt")) == canvas
    control = readers.qti21_test(tmp_path / "out" / "export" / "qti21" / "figures.zip").find(
        f".//{readers.QTI21}itemSessionControl")
    assert control.get("showSolution") == qti21


# --- a corrected export imports over the first ------------------------------------------------------


def test_a_corrected_question_keeps_every_identifier(tmp_path):
    """Canvas (with "Overwrite assessment content with matching IDs") finds the quiz by its identifier and
    each question by its item ident: correcting a question's text changes neither, nor any QTI 2.1 id."""
    content = tmp_path / "course"
    shutil.copytree(LMS, content)
    build(content, tmp_path / "first", ["canvas", "qti21"])
    concept = content / "figures.md"
    concept.write_text(concept.read_text(encoding="utf-8").replace("How are the two resistors connected?",
                                                                   "How are the two resistors wired?"), encoding="utf-8")
    build(content, tmp_path / "second", ["canvas", "qti21"])
    for kind in ("canvas", "qti21"):
        first, second = (readers.zip_entries(tmp_path / run / "export" / kind / "figures.zip") for run in ("first", "second"))
        assert sorted(first) == sorted(second)  # the same paths, ids in them
        assert first != second
        for name in first:
            if name.endswith(".xml"):
                assert ids_in(first[name]) == ids_in(second[name]), (kind, name)
    items = readers.canvas_assessment(tmp_path / "second" / "export" / "canvas" / "figures.zip")
    assert stable_id("item", "figures#read-the-circuit") in [i.get("ident") for i in items.iter(f"{readers.QTI12}item")]


def ids_in(data: bytes) -> list[str]:
    from lxml import etree

    return [value for e in etree.fromstring(data).iter() for key, value in e.attrib.items()
            if key in ("ident", "identifier", "identifierref")]
