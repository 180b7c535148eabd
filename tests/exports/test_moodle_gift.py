"""The Moodle XML and GIFT exports arrive whole in Moodle (issue 12), checked with ports of Moodle's own
readers (tests/exports/readers.py): text that keeps its spaces, units a learner may type, images
embedded as Moodle embeds them, the exemplar only where graders see it, idnumbers and tags in GIFT, and
warnings for what GIFT cannot carry."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from lxml import etree

import readers
from quizgen.build import build
from quizgen.cli import cli
from quizgen.formats.common import full_id, html, inline_html, variant_id
from paths import FIXTURES, ROOT

LMS = FIXTURES / "courses" / "lms"
COURSES = {"lms": LMS, "seed": ROOT / "content", "hostile": FIXTURES / "courses" / "hostile",
           "full": FIXTURES / "courses" / "full"}
EXEMPLAR = "EXEMPLAR-ONLY-FOR-GRADERS"
needs_node = pytest.mark.skipif(not (ROOT / "node_modules" / "gift-pegjs").is_dir() or not shutil.which("node"),
                                reason="gift-pegjs is not installed: run `make test-setup`")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{course name: (course, export folder, build report)}: the Moodle XML and GIFT of each course."""
    out = {}
    for name, content in COURSES.items():
        folder = tmp_path_factory.mktemp(name)
        report = build(content, folder, ["moodle", "gift"])
        out[name] = (report.course, folder / "export", report)  # the course as built: lab-measured answers in
    return out


def moodle_questions(export) -> dict[str, etree._Element]:
    root = etree.parse(str(export / "moodle" / "questions.xml")).getroot()
    return {q.findtext("idnumber"): q for q in root.iter("question") if q.get("type") != "category"}


# --- Moodle XML: text -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COURSES))
def test_no_entity_reference_is_left_for_moodles_xml_parser_to_lose_spaces_around(exported, name):
    """lib/xmlize.php drops white space between two entity references (or one and a non-ASCII character):
    every text that needs one is in CDATA, as Moodle's own export writes it."""
    _, export, _ = exported[name]
    raws = readers.moodle_raw_texts(export / "moodle" / "questions.xml")
    assert raws
    for raw in raws:
        assert "&" not in readers.outside_cdata(raw) and "<" not in readers.outside_cdata(raw), raw[:120]


def test_adjacent_markup_and_math_keep_their_spaces_in_the_cdata(exported):
    _, export, _ = exported["lms"]
    xml = (export / "moodle" / "questions.xml").read_text(encoding="utf-8")
    assert ("<text><![CDATA[<p><strong>Bold</strong> <em>italic</em> and <span class=\"math inline\">\\(a\\)</span> "
            "<span class=\"math inline\">\\(b\\)</span> keep the space between them.</p>]]></text>") in xml
    questions = moodle_questions(export)
    feedback, _ = readers.moodle_field(questions["figures#share"].find("generalfeedback"))
    assert "near <span class=\"math inline\">\\(\\hat\\theta\\)</span> … as" in feedback


@pytest.mark.parametrize("name", sorted(COURSES))
def test_every_text_decodes_to_exactly_the_html_of_the_course(exported, name):
    """What Moodle stores is the course's HTML: stem, explanation, options and their feedback; an image's
    src is the @@PLUGINFILE@@ URL of the file embedded beside that text, holding the course file's bytes."""
    course, export, _ = exported[name]
    questions = moodle_questions(export)
    for concept, question in readers.all_variants(course):
        for field, wanted in fields_and_html(questions[variant_id(concept, question)], question):
            found, files = readers.moodle_field(field)
            assert with_course_srcs(found, files, course, concept) == wanted.strip(), variant_id(concept, question)


def fields_and_html(element, question):
    """(Moodle XML field, the course HTML it must hold) for each text field of a question."""
    task = html(question.task) if question.type == "critique" else ""
    yield element.find("questiontext"), html(question.stem) + task
    yield element.find("generalfeedback"), html(question.explanation)
    if question.type in ("choice", "multi"):
        for answer, option in zip(element.findall("answer"), question.options):
            yield answer, inline_html(option.text)
            yield answer.find("feedback"), html(option.feedback or "")
    elif question.type == "truefalse":
        answers = {answer.findtext("text"): answer for answer in element.findall("answer")}
        for option in question.options:
            yield answers[option.text.lower()].find("feedback"), html(option.feedback or "")


def with_course_srcs(text: str, files: dict[str, bytes], course, concept) -> str:
    """``text`` with each @@PLUGINFILE@@ src put back to the src the course writes for the file whose
    bytes are embedded under that name (so that the rest of the text can be compared exactly)."""
    for name, content in files.items():
        sources = [f.src for f in concept.files if course.local_file(f.name).read_bytes() == content]
        assert sources, f"{name}: its bytes are none of {concept.id}'s files"
        text = text.replace(f'src="@@PLUGINFILE@@/{quote(name)}"', f'src="{sources[0]}"')
    assert "@@PLUGINFILE@@" not in text, f"a @@PLUGINFILE@@ URL without its <file> beside it: {text[:200]}"
    return text


def test_a_cdata_end_in_a_text_is_split_across_two_sections(exported):
    course, export, _ = exported["hostile"]
    raws = readers.moodle_raw_texts(export / "moodle" / "questions.xml")
    assert any("]]]]><![CDATA[>" in raw for raw in raws)
    root = etree.parse(str(export / "moodle" / "questions.xml")).getroot()
    categories = [q.findtext("category/text") for q in root.iter("question") if q.get("type") == "category"]
    assert "]]>" in course.concepts[0].title
    assert categories[0] == "$course$/top/hostile/" + course.concepts[0].title.replace("/", "//")
    questions = moodle_questions(export)
    assert any("]]> and {~=#:} intact" in readers.plain(readers.moodle_field(q.find("questiontext"))[0])
               for q in questions.values())


def test_html_like_short_answers_and_text_arrive_as_written(exported):
    _, export, _ = exported["lms"]
    question = moodle_questions(export)["figures#tags"]
    # the two answers as written, and the forms of them the course's rule accepts (with a trailing period)
    assert sorted(a.findtext("text") for a in question.findall("answer")) == ["<em>", "<em>.", "em", "em."]
    stem, _ = readers.moodle_field(question.find("questiontext"))
    assert "<code>&lt;em&gt;</code> &amp; co: a &lt; b &amp;&amp; c &gt; d." in stem


# --- Moodle XML: units ---------------------------------------------------------------------------


def test_a_unit_is_declared_and_optional_so_that_every_way_of_typing_it_scores(exported):
    _, export, _ = exported["lms"]
    questions = moodle_questions(export)
    share, nats = questions["figures#share"], questions["figures#nats"]
    for question, unit in ((share, "%"), (nats, "nats")):
        assert [(u.findtext("unit_name"), u.findtext("multiplier")) for u in question.iter("unit")] == [(unit, "1")]
        assert [question.findtext(name) for name in ("showunits", "unitgradingtype", "unitsleft")] == ["0", "0", "0"]
    for response in ("2", "2 %", "2%", " 2.4 % ", "1.6"):
        assert readers.moodle_numerical_score(share, response) == 1, response
    for response in ("1.151", "1.151 nats", "1.151nats", "1.1515"):
        assert readers.moodle_numerical_score(nats, response) == 1, response
    assert readers.moodle_numerical_score(share, "3 %") == 0
    assert readers.moodle_numerical_score(nats, "1.16 nats") == 0


def test_the_port_refuses_a_unit_where_units_are_not_used_as_moodle_did_before():
    """A control for the port: showunits 3 (what the export wrote before) refuses "2%"."""
    question = etree.fromstring(
        "<question type='numerical'><answer fraction='100'><text>2</text><tolerance>0.5</tolerance></answer>"
        "<units><unit><multiplier>1</multiplier><unit_name>%</unit_name></unit></units><unitgradingtype>0"
        "</unitgradingtype><unitpenalty>0.1</unitpenalty><showunits>3</showunits><unitsleft>0</unitsleft></question>")
    assert readers.moodle_numerical_score(question, "2") == 1
    assert readers.moodle_numerical_score(question, "2%") is None


def test_a_question_without_a_unit_uses_none(exported):
    course, export, _ = exported["seed"]
    numeric = [(c, q) for c, q in readers.all_variants(course) if q.type == "numeric" and not q.unit]
    assert numeric
    questions = moodle_questions(export)
    for concept, question in numeric:
        element = questions[variant_id(concept, question)]
        assert element.find("units") is None and element.findtext("showunits") == "3"


# --- Moodle XML: images ---------------------------------------------------------------------------


def test_images_are_embedded_in_the_field_that_shows_them_as_moodle_reads_files(exported):
    course, export, _ = exported["lms"]
    concept = course.concept("figures")
    questions = moodle_questions(export)
    expected = {"figures#read-the-circuit": ("figures/series circuit.png", "figures_series%20circuit.png"),
                "figures#read-the-chart": ("figures/drift.svg", "figures_drift.svg")}
    for key, (name, url_name) in expected.items():
        text, files = readers.moodle_field(questions[key].find("questiontext"))
        assert list(files.values()) == [course.local_file(name).read_bytes()]
        (flat,) = files
        assert readers.param_file(flat) == flat  # Moodle's file storage keeps the name as written
        assert quote(flat) == url_name and f'<img src="@@PLUGINFILE@@/{url_name}"' in text
        assert not readers.moodle_field(questions[key].find("generalfeedback"))[1]  # only where it is shown
    assert (LMS / "figures" / "series circuit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # a PNG and an SVG
    assert {f.name for f in concept.files} == {name for name, _ in expected.values()}


def test_every_embedded_file_name_is_unique_and_no_file_sits_inside_a_text(exported):
    for _, export, _ in exported.values():
        root = etree.parse(str(export / "moodle" / "questions.xml")).getroot()
        for text in root.iter("text"):
            assert not len(text), "a <file> inside <text> is not read by Moodle"
        for field in root.iter():
            names = [f.get("name") for f in field.findall("file")]
            assert len(names) == len(set(names))


# --- the exemplar ----------------------------------------------------------------------------------


def test_the_exemplar_and_rubric_are_only_in_graderinfo(exported):
    _, export, _ = exported["lms"]
    essay = moodle_questions(export)["critique#critique-plan"]
    grader, _ = readers.moodle_field(essay.find("graderinfo"))
    assert EXEMPLAR in grader and "Rubric" in grader and "Catastrophic forgetting." in grader
    learners_see = [element for element in essay.iter("text") if element.getparent().tag != "graderinfo"]
    assert learners_see
    for element in learners_see:
        assert EXEMPLAR not in (element.text or "") and "Catastrophic forgetting." not in (element.text or "")
    assert EXEMPLAR not in (export / "gift" / "questions.gift.txt").read_text(encoding="utf-8")


def test_the_seed_courses_exemplars_stay_out_of_what_learners_see(exported):
    course, export, _ = exported["seed"]
    questions = moodle_questions(export)
    critiques = [(c, q) for c, q in course.questions if q.type == "critique"]
    assert critiques
    gift = (export / "gift" / "questions.gift.txt").read_text(encoding="utf-8")
    for concept, question in critiques:
        essay = questions[full_id(concept, question)]
        exemplar = html(question.exemplar)
        assert exemplar in readers.moodle_field(essay.find("graderinfo"))[0]
        for field in ("questiontext", "generalfeedback", "responsetemplate"):
            assert exemplar not in readers.moodle_field(essay.find(field))[0]
        assert exemplar.replace("=", "\\=") not in gift and " ".join(question.exemplar.split()[:8]) not in gift


# --- tags, ids, settings ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COURSES))
def test_gift_carries_idnumbers_and_tags_as_moodles_reader_takes_them(exported, name):
    course, export, _ = exported[name]
    found = readers.moodle_gift_ids_and_tags(export / "gift" / "questions.gift.txt")
    questions = moodle_questions(export)
    assert [idnumber for idnumber, _ in found] == [variant_id(c, q) for c, q in readers.all_variants(course)]
    for (idnumber, tags), (concept, question) in zip(found, readers.all_variants(course)):
        xml_tags = [t.findtext("text") for t in questions[idnumber].iter("tag")]
        assert tags == xml_tags  # the same tags in both Moodle exports …
        assert tags == [readers.param_tag(tag) for tag in tags]  # … stored by Moodle as written
        # the concept's tags, then the question's level and difficulty, which the question bank filters by
        own = [f"{name}-{value}" for name, value in (("level", question.level), ("difficulty", question.difficulty))
               if value]
        assert tags[len(tags) - len(own):] == own
        assert len(tags) - len(own) == len({readers.param_tag(tag).casefold() for tag in concept.tags} - {""})


def test_tags_are_cleaned_and_shortened_as_moodle_needs_without_merging(exported):
    course, export, _ = exported["seed"]
    found = dict(readers.moodle_gift_ids_and_tags(export / "gift" / "questions.gift.txt"))
    long_tag = next(tag for concept in course.concepts for tag in concept.tags if len(tag) > 50)
    tags = found[variant_id(*readers.all_variants(course)[0])]
    assert long_tag not in tags and all(len(tag) <= 50 for tag in tags)
    assert any(tag.endswith("…") and long_tag.startswith(tag[:-1]) for tag in tags)
    _, hostile_export, _ = exported["hostile"]
    hostile_tags = {tag for _, tags in readers.moodle_gift_ids_and_tags(hostile_export / "gift" / "questions.gift.txt")
                    for tag in tags}
    assert hostile_tags == {"scriptalert('tag')/script", "Ünïcödé ✓ 日本語"}


def test_moodle_xml_carries_the_shuffle_setting_of_course_yml(exported):
    course, export, _ = exported["lms"]
    assert course.quiz.shuffle_answers is False
    choices = [q for q in moodle_questions(export).values() if q.get("type") == "multichoice"]
    assert choices and {q.findtext("shuffleanswers") for q in choices} == {"false"}
    _, seed_export, _ = exported["seed"]
    assert "true" in {q.findtext("shuffleanswers") for q in moodle_questions(seed_export).values()}


@needs_node
def test_gift_pegjs_reads_the_lms_course_with_its_ids(exported):
    course, export, _ = exported["lms"]
    parsed = [q for q in readers.parse_gift(export / "gift" / "questions.gift.txt") if q["type"] != "Category"]
    assert [q["id"] for q in parsed] == [variant_id(c, q) for c, q in readers.all_variants(course)]
    wanted = readers.expected(course)
    assert not readers.same(readers.gift(export / "gift" / "questions.gift.txt", course), wanted)
    assert not readers.same(readers.moodle(export / "moodle" / "questions.xml"), wanted)


# --- what GIFT cannot carry, said ------------------------------------------------------------------


def test_gift_warns_at_each_question_that_loses_its_points_or_an_image(exported):
    course, _, report = exported["lms"]
    critique, figures = course.concept("critique"), course.concept("figures")
    plan, circuit, chart = (critique.question("critique-plan"), figures.question("read-the-circuit"),
                            figures.question("read-the-chart"))
    points = "warning: worth {} points, but GIFT has no syntax for points: Moodle imports this question worth 1 " \
             "(the Moodle XML export keeps its points)"
    files = "warning: GIFT cannot carry files: '{}' is not in the GIFT file, so Moodle shows a broken image " \
            "(the Moodle XML export embeds images)"
    assert [str(w) for w in report.warnings] == [
        f"{critique.path}:{plan.line}: " + points.format(4),
        f"{figures.path}:{circuit.line}: " + files.format("figures/series circuit.png"),
        f"{figures.path}:{chart.line}: " + points.format(2),
        f"{figures.path}:{chart.line}: " + files.format("figures/drift.svg"),
    ]
    assert "### Critique a plan" in (LMS / "critique.md").read_text(encoding="utf-8").splitlines()[plan.line - 1]


def test_the_export_command_prints_gifts_warnings_once_even_with_forms(tmp_path):
    result = CliRunner().invoke(cli, ["export", "--format", "gift,moodle", "--content", str(LMS),
                                      "--out", str(tmp_path), "--forms", "2"])
    assert result.exit_code == 0, result.output
    export = tmp_path / "export"
    assert result.stdout.splitlines() == [f"gift: {export / 'gift'}", f"moodle: {export / 'moodle'}"]
    warnings = result.stderr.splitlines()
    assert len(warnings) == 4 and sum("GIFT has no syntax for points" in line for line in warnings) == 2
    assert sum("GIFT cannot carry files" in line for line in warnings) == 2
    assert all(":" in line and " warning: " in line for line in warnings)


def test_moodle_xml_alone_says_nothing(tmp_path):
    result = CliRunner().invoke(cli, ["export", "--format", "moodle", "--content", str(LMS), "--out", str(tmp_path)])
    assert result.exit_code == 0 and result.stderr == ""


def test_two_tags_that_moodle_would_cut_to_one_stay_two():
    from quizgen.formats.moodle import moodle_tags

    first, second = "Foundations of Large Language Models, chapter one: pre-training", \
                    "Foundations of Large Language Models, chapter one: prompting"
    names = moodle_tags([first, second, "computing sciences", "Computing Sciences", "<>"])
    assert readers.param_tag(first) == readers.param_tag(second)  # what Moodle alone would make of them
    assert len({names[first].casefold(), names[second].casefold()}) == 2
    assert all(readers.param_tag(name) == name and len(name) <= 50 for name in names.values())
    assert names["computing sciences"].casefold() != names["Computing Sciences"].casefold() and "<>" not in names


def test_two_images_whose_flat_names_would_meet_stay_two(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.png").write_bytes(b"first")
    (tmp_path / "a_b.png").write_bytes(b"second")
    (tmp_path / "c.md").write_text("---\nid: c\ntitle: C\n---\nText.\n\n## Questions\n\n{#q type=truefalse}\n### Q\n"
                                   "![one](a/b.png) ![two](a_b.png)\n\n- [x] True\n- [ ] False\n\n#### Explanation\n"
                                   "Both.\n", encoding="utf-8")
    build(tmp_path, tmp_path / "out", ["moodle"])
    question = moodle_questions(tmp_path / "out" / "export")["c#q"]
    text, files = readers.moodle_field(question.find("questiontext"))
    assert sorted(files.values()) == [b"first", b"second"] and len(files) == 2
    for name, content in files.items():
        assert f'src="@@PLUGINFILE@@/{quote(name)}" alt="{"one" if content == b"first" else "two"}"' in text


def test_a_warning_many_questions_share_is_counted_after_the_first_few(tmp_path):
    """GIFT's lost points on a big course: the first places at path:line, then one line for the rest."""
    question = """{{#q{n} type=truefalse points=2}}
### Statement {n}
Fine-tuning starts from randomly initialised weights ({n}).

- [ ] True
- [x] False

#### Explanation
It starts from the pre-trained weights.
"""
    content = tmp_path / "content"
    content.mkdir()
    body = "\n".join(question.format(n=n) for n in range(12))
    (content / "many.md").write_text(f"---\nid: many\ntitle: Many\n---\nAn explanation.\n\n## Questions\n\n{body}")
    result = CliRunner().invoke(cli, ["export", "--format", "gift", "--content", str(content),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    message = ("worth 2 points, but GIFT has no syntax for points: Moodle imports this question worth 1 "
               "(the Moodle XML export keeps its points)")
    written = (content / "many.md").read_text().splitlines()
    headings = [n for n, line in enumerate(written, 1) if line.startswith("### Statement")]
    assert warnings == [f"{content / 'many.md'}:{line}: warning: {message}" for line in headings[:5]] + [
        f"warning: 7 more places with the same warning: {message}"]
