"""Read every export back into {question id: correct answers}, with real parsers (lxml, gift-pegjs).

Answers are compared as plain text: option HTML is reduced to its text content, numbers to
(value, margin) pairs. The ids of Canvas items are content hashes, so Canvas is mapped back
through the course's own ids. A generated question is read as its variants, each under its variant's id
(quizgen.formats.common.variant_id: ``concept#question/v<index>``); the pools they sit in (Canvas question
groups, QTI 2.1 sections with a selection, Moodle and GIFT categories) are read by the pool readers below.
"""

from __future__ import annotations

import json
import math
import subprocess
import zipfile
from pathlib import Path

import lxml.html
from lxml import etree

from quizgen.formats.common import inline_html, stable_id, variant_id, variants
from quizgen.questions.short import literal_forms
from paths import ROOT

QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"


def plain(html: str) -> str:
    if not html or not html.strip():
        return ""
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())


def expected(course, math: str = "tex") -> dict[str, tuple]:
    """What each question's answer must read back as, from the course model (math rendered as the
    format renders it: TeX delimiters, or MathML for QTI 2.1)."""
    answers = {}
    for concept, question in all_variants(course):
        key = variant_id(concept, question)
        if hasattr(question, "options"):
            answers[key] = tuple(sorted(plain(inline_html(o.text, math)) for o in question.options if o.correct))
        elif question.type == "numeric":
            answers[key] = ("number", question.answer, question.margin)
        elif question.type == "short":
            answers[key] = tuple(sorted(question.accepted))
    return answers


def all_variants(course) -> list[tuple]:
    """(concept, question) of every question the exports write: each variant of a generated question."""
    return [(concept, variant) for concept, question in course.questions for variant in variants(question)]


def item_ids(course) -> dict[str, str]:
    """{Canvas item ident: variant id} of every question (every variant) of the course."""
    return {stable_id("item", variant_id(c, q)): variant_id(c, q) for c, q in all_variants(course)}


def same(found: dict, wanted: dict) -> list[str]:
    """Differences between two answer maps, as readable lines (empty when they agree)."""
    problems = []
    for key, answer in wanted.items():
        got = found.get(key)
        if answer and answer[0] == "number":
            ok = got is not None and got[0] == "number" and all(math.isclose(a, b, abs_tol=1e-9)
                                                                 for a, b in zip(got[1:], answer[1:]))
        else:
            # A short question in an LMS that matches answers literally (Canvas, Moodle, GIFT) lists the
            # forms of its answers the course's rule accepts (quizgen.questions.short.literal_forms).
            ok = got == answer or got == tuple(sorted(literal_forms(answer)))
        if not ok:
            problems.append(f"{key}: expected {answer!r}, found {got!r}")
    return problems


def canvas(zip_path: Path, course) -> dict:
    ids = item_ids(course)
    with zipfile.ZipFile(zip_path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".xml") and "/" in n and "meta" not in n)
        root = etree.fromstring(archive.read(name))
    found = {}
    for item in root.iter(f"{QTI12}item"):
        key = ids[item.get("ident")]
        kind = next(f.findtext(f"{QTI12}fieldentry") for f in item.iter(f"{QTI12}qtimetadatafield")
                    if f.findtext(f"{QTI12}fieldlabel") == "question_type")
        labels = {label.get("ident"): plain(label.findtext(f".//{QTI12}mattext"))
                  for label in item.iter(f"{QTI12}response_label")}
        scoring = [c for c in item.iter(f"{QTI12}respcondition") if c.findtext(f"{QTI12}setvar") == "100"]
        if kind in ("multiple_choice_question", "true_false_question"):
            found[key] = tuple(sorted(labels[v.text] for c in scoring for v in c.iter(f"{QTI12}varequal")))
        elif kind == "multiple_answers_question":
            chosen = [v.text for v in scoring[0].find(f"{QTI12}conditionvar/{QTI12}and").findall(f"{QTI12}varequal")]
            found[key] = tuple(sorted(labels[i] for i in chosen))
        elif kind == "numerical_question":
            low = float(scoring[0].findtext(f".//{QTI12}vargte"))
            high = float(scoring[0].findtext(f".//{QTI12}varlte"))
            found[key] = ("number", (low + high) / 2, (high - low) / 2)
        elif kind == "short_answer_question":
            found[key] = tuple(sorted(v.text for v in scoring[0].iter(f"{QTI12}varequal")))
    return found


def qti21(zip_path: Path) -> dict:
    found = {}
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            if not name.startswith("items/"):
                continue
            item = etree.fromstring(archive.read(name))
            key = item.get("label")
            declaration = item.find(f"{QTI21}responseDeclaration")
            values = [v.text for v in declaration.iter(f"{QTI21}value")]
            if item.find(f".//{QTI21}choiceInteraction") is not None:
                choices = {c.get("identifier"): " ".join("".join(c.itertext()).split())
                           for c in item.iter(f"{QTI21}simpleChoice")}
                found[key] = tuple(sorted(choices[v] for v in values))
            elif declaration.get("baseType") == "float":
                equal = item.find(f".//{QTI21}equal")
                margin = float(equal.get("tolerance", "0 0").split()[0])
                found[key] = ("number", float(values[0]), margin)
            elif item.find(f".//{QTI21}textEntryInteraction") is not None:
                found[key] = tuple(sorted(e.get("mapKey") for e in item.iter(f"{QTI21}mapEntry")))
    return found


def moodle(xml_path: Path) -> dict:
    found = {}
    for question in etree.parse(str(xml_path)).getroot().iter("question"):
        kind = question.get("type")
        if kind in ("category", "essay"):
            continue
        key = question.findtext("idnumber")
        answers = question.findall("answer")
        right = [a for a in answers if float(a.get("fraction")) > 0]
        if kind == "multichoice":
            found[key] = tuple(sorted(plain(a.findtext("text")) for a in right))
        elif kind == "truefalse":
            found[key] = (right[0].findtext("text").capitalize(),)
        elif kind == "numerical":
            found[key] = ("number", float(right[0].findtext("text")), float(right[0].findtext("tolerance")))
        elif kind == "shortanswer":  # "\*" is a literal "*" (a bare one is Moodle's wildcard)
            found[key] = tuple(sorted(a.findtext("text").replace("\\*", "*") for a in right))
    return found


def parse_gift(path: Path) -> list[dict]:
    """gift-pegjs's parse of a GIFT file (raises CalledProcessError with its message if it fails)."""
    script = "const {parse}=require('gift-pegjs');const fs=require('fs');" \
             "process.stdout.write(JSON.stringify(parse(fs.readFileSync(process.argv[1],'utf8'))));"
    result = subprocess.run(["node", "-e", script, str(path)], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def gift(path: Path, course) -> dict:
    """GIFT questions come back in file order; their ids are the course's, in the same order."""
    parsed = [q for q in parse_gift(path) if q["type"] != "Category"]
    keys = [variant_id(c, q) for c, q in all_variants(course)]
    assert len(parsed) == len(keys)
    found = {}
    for key, question in zip(keys, parsed):
        kind = question["type"]
        if kind == "MC":
            found[key] = tuple(sorted(plain(c["text"]["text"]) for c in question["choices"]
                                      if c["isCorrect"] or (c["weight"] or 0) > 0))
        elif kind == "TF":
            found[key] = ("True" if question["isTrue"] else "False",)
        elif kind == "Numerical":
            choice = question["choices"]
            choice = choice[0]["text"] if isinstance(choice, list) else choice
            found[key] = ("number", float(choice["number"]), float(choice.get("range", 0)))
        elif kind == "Short":
            found[key] = tuple(sorted(c["text"]["text"].replace("\\*", "*") for c in question["choices"]))
    return found


def key_html(path: Path, course) -> dict:
    """A question's answer from its section (its options marked correct, or its answer line); a generated
    question's variants from its table of variants, a row each."""
    page = lxml.html.parse(str(path)).getroot()
    found = {}
    for concept, question in course.questions:
        section = page.get_element_by_id(f"{concept.id}--{question.id}")
        if question.variants:
            for variant in question.variants:
                row = page.get_element_by_id(f"{concept.id}--{question.id}--v{variant.variant.index}")
                found[variant_id(concept, variant)] = _key_answer(row.xpath(".//td[@class='answer']")[0], variant)
        elif hasattr(question, "options"):
            found[variant_id(concept, question)] = _key_answer(section.xpath(".//ol[@class='options']")[0], question,
                                                               ".//li[@class='correct']/span[@class='option']")
        elif question.type in ("numeric", "short"):
            found[variant_id(concept, question)] = _key_answer(section.xpath(".//p[@class='answer']")[0], question)
    return found


def _key_answer(element, question, options: str = ".//span[@class='option']") -> tuple:
    """The answer the key gives in ``element``: the text of its right options (found by ``options``), or its
    accepted answers, or its number and margin."""
    if hasattr(question, "options"):
        return tuple(sorted(" ".join(span.text_content().split()) for span in element.xpath(options)))
    text = element.text_content().removeprefix("Answer:").strip()
    if question.type == "short":
        return tuple(sorted(text.split(" · ")))
    value, margin = text.split(" ± ")
    return ("number", float(value), float(margin.split()[0]))


# --- pools: where each LMS keeps the variants of a generated question ------------------------------


def canvas_groups(zip_path: Path) -> list[dict]:
    """The question groups of a Canvas package, as Canvas's importer reads them (a <section> inside the root
    section, its <selection_number> the pick count and its points_per_item the points of each question):
    {"ident", "title", "pick", "points", "items": [item idents]}."""
    root = canvas_assessment(zip_path)
    groups = []
    for section in root.iter(f"{QTI12}section"):
        if section.get("ident") == "root_section":
            continue
        groups.append({
            "ident": section.get("ident"), "title": section.get("title"),
            "pick": int(section.findtext(f"{QTI12}selection_ordering/{QTI12}selection/{QTI12}selection_number")),
            "points": float(section.findtext(f".//{QTI12}selection_extension/{QTI12}points_per_item")),
            "items": [item.get("ident") for item in section.findall(f"{QTI12}item")],
        })
    return groups


def canvas_loose_items(zip_path: Path) -> list[str]:
    """The idents of the items directly in the root section (the questions every learner gets)."""
    root = canvas_assessment(zip_path).find(f".//{QTI12}section[@ident='root_section']")
    return [item.get("ident") for item in root.findall(f"{QTI12}item")]


def qti21_pools(zip_path: Path) -> list[dict]:
    """The assessmentSections of a QTI 2.1 test that draw items (<selection select>): {"identifier", "title",
    "visible", "select", "labels": [the label of each item they reference, in order]}."""
    import posixpath

    entries = zip_entries(zip_path)
    test_name = next(name for name in entries if name.startswith("tests/"))
    pools = []
    for section in etree.fromstring(entries[test_name]).iter(f"{QTI21}assessmentSection"):
        selection = section.find(f"{QTI21}selection")
        if selection is None:
            continue
        labels = []
        for ref in section.findall(f"{QTI21}assessmentItemRef"):
            item = etree.fromstring(entries[posixpath.normpath(posixpath.join("tests", ref.get("href")))])
            labels.append(item.get("label"))
        pools.append({"identifier": section.get("identifier"), "title": section.get("title"),
                      "visible": section.get("visible"), "select": int(selection.get("select")), "labels": labels})
    return pools


def moodle_categories(xml_path: Path) -> dict[str, list[str]]:
    """{category path: the idnumbers of the questions Moodle's import puts into it, in order}: a
    <question type="category"> switches the category the questions after it go into (qformat_default's
    importprocess with "Get category from file")."""
    found: dict[str, list[str]] = {}
    current = None
    for question in etree.parse(str(xml_path)).getroot().iter("question"):
        if question.get("type") == "category":
            current = question.findtext("category/text")
            found.setdefault(current, [])
        else:
            found[current].append(question.findtext("idnumber"))
    return found


def gift_categories(path: Path) -> dict[str, list[str]]:
    """The same for a GIFT file, as gift-pegjs reads it: {$CATEGORY path: the ids of its questions}."""
    found: dict[str, list[str]] = {}
    current = None
    for question in parse_gift(path):
        if question["type"] == "Category":
            current = question["title"]
            found.setdefault(current, [])
        else:
            found[current].append(question["id"])
    return found


# --- Moodle's own readers, ported: what its import makes of our Moodle XML and GIFT files ---------


def moodle_raw_texts(xml_path: Path) -> list[str]:
    """The source of every <text> element, as written: what Moodle's lib/xmlize.php parses. Outside CDATA
    it drops white space between two entity references (and between one and a non-ASCII character)."""
    import re

    return re.findall(r"<text>(.*?)</text>", xml_path.read_text(encoding="utf-8"), flags=re.DOTALL)


def outside_cdata(raw: str) -> str:
    """``raw`` without its CDATA sections: the part an XML parser decodes entity references in."""
    import re

    return re.sub(r"<!\[CDATA\[.*?\]\]>", "", raw, flags=re.DOTALL)


def moodle_field(field) -> tuple[str, dict[str, bytes]]:
    """A Moodle XML text field (questiontext, generalfeedback, answer, feedback, graderinfo) as
    qformat_xml::import_text_with_files reads it: its <text>, trimmed, and the <file>s that are its own
    children ({name: decoded bytes}, each at path="/" in base64)."""
    import base64

    files = {}
    for element in field.findall("file"):
        assert element.get("encoding") == "base64" and element.get("path") == "/", etree.tostring(element)[:80]
        files[element.get("name")] = base64.b64decode(element.text or "")
    return (field.findtext("text") or "").strip(), files


def param_file(name: str) -> str:
    """Moodle's clean_param($name, PARAM_FILE): what its file storage keeps of a file name."""
    import re

    name = re.sub(r"[\x00-\x1f\x7f&<>\"`|':\\/]", "", name)
    return "" if name in (".", "..") else name


def param_tag(tag: str) -> str:
    """Moodle's clean_param($tag, PARAM_TAG): what core_tag_tag stores of a tag (TAG_MAX_LENGTH 50)."""
    import re

    tag = re.sub(r"[\x00-\x1f\x7f<>`]", "", tag)
    return re.sub(r"\s+", " ", tag).strip()[:50]


def moodle_numerical_score(question, response: str) -> float | None:
    """The fraction Moodle's qtype_numerical gives ``response`` to a <question type="numerical">, or None
    where it refuses the response as incomplete ("Do not include a unit", not a number). A port of
    qtype_numerical_answer_processor::apply_units and qtype_numerical_question::is_complete_response,
    apply_unit_penalty and grade_response (answers as ``<answer fraction>``, nominal tolerance)."""
    import re

    units = {u.findtext("unit_name"): float(u.findtext("multiplier")) for u in question.iter("unit")}
    showunits = int(question.findtext("showunits"))
    gradingtype = int(question.findtext("unitgradingtype"))
    penalty = float(question.findtext("unitpenalty"))
    text = response.replace(" ", "")
    text = text.replace(",", "") if "." in text or text.count(",") > 1 else text.replace(",", ".")
    match = re.match(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?", text)
    if not match:
        return None
    value, unit = float(match.group(0)), text[match.end():]
    if showunits != 0 and unit:  # UNITINPUT is 0: any other display refuses a unit in the answer box
        return None
    if unit in units:
        value /= units[unit]
    for answer in question.findall("answer"):
        target, tolerance = float(answer.findtext("text")), abs(float(answer.findtext("tolerance") or 0))
        if abs(value - target) <= tolerance + 1e-14 * max(1, abs(target)):  # PHP precision 14
            fraction = float(answer.get("fraction")) / 100
            if unit not in units:
                if gradingtype == 1:
                    fraction -= penalty * fraction
                elif gradingtype == 2:
                    fraction -= penalty
            return max(fraction, 0)
    return 0.0


def moodle_gift_ids_and_tags(path: Path) -> list[tuple[str, list[str]]]:
    """(idnumber, tags) of every question in a GIFT file, as qformat_gift reads them: questions split
    at blank lines (qformat_default::readquestions), `//` lines gathered as the comment, then
    extract_idnumber_and_tags_from_comment's two patterns. Categories are left out."""
    import re

    questions, current = [], []
    for line in path.read_text(encoding="utf-8").split("\n") + [""]:
        line = line.strip()
        if line:
            current.append(line)
        elif current:
            questions.append(current)
            current = []
    found = []
    for lines in questions:
        comment = "".join(line + "\n" for line in lines if line.startswith("//"))
        text = "\n".join(line for line in lines if not line.startswith("//")).strip()
        if not text or text.startswith("$CATEGORY:"):
            continue
        idnumber = re.search(r"\[id:((?:\\]|[^\]\x00-\x1f\x7f])+)\]", comment)
        tags = re.findall(r"\[tag:((?:\\]|[^\]<>`\x00-\x1f\x7f]|)+)\]", comment)
        found.append((idnumber.group(1).strip().replace("\\]", "]") if idnumber else "",
                      [tag.strip().replace("\\]", "]") for tag in tags]))
    return found


# --- Canvas and QTI 2.1 packages: what the LMS resolves, shows learners and keeps as settings -------


def zip_entries(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_resources(zip_path: Path) -> dict[str, dict]:
    """{identifier: {"type", "href", "files", "dependencies"}} of a package's imsmanifest.xml (whatever its
    namespace), hrefs percent-decoded as importers read them."""
    from urllib.parse import unquote

    root = etree.fromstring(zip_entries(zip_path)["imsmanifest.xml"])
    found = {}
    for resource in root.iter("{*}resource"):
        found[resource.get("identifier")] = {
            "type": resource.get("type"),
            "href": unquote(resource.get("href")) if resource.get("href") else None,
            "files": [unquote(f.get("href")) for f in resource.findall("{*}file")],
            "dependencies": [d.get("identifierref") for d in resource.findall("{*}dependency")],
        }
    return found


def canvas_assessment(zip_path: Path):
    """The <questestinterop> of a Canvas package (its <id>/<id>.xml)."""
    entries = zip_entries(zip_path)
    name = next(n for n in entries if n.count("/") == 1 and n.endswith(".xml") and "meta" not in n
                and n.split("/")[0] + ".xml" == n.split("/")[1])
    return etree.fromstring(entries[name])


def canvas_meta(zip_path: Path) -> dict[str, str]:
    """assessment_meta.xml's quiz settings as Canvas's QuizMetadataConverter reads them: {field: text}
    of the <quiz> element's own children (the <assignment> left out)."""
    entries = zip_entries(zip_path)
    root = etree.fromstring(next(data for name, data in entries.items() if name.endswith("/assessment_meta.xml")))
    return {etree.QName(child).localname: (child.text or "") for child in root if etree.QName(child).localname != "assignment"}


def canvas_assessment_metadata(zip_path: Path) -> dict[str, str]:
    """The assessment's own <qtimetadata> fields (cc_maxattempts, qmd_timelimit)."""
    assessment = canvas_assessment(zip_path).find(f"{QTI12}assessment")
    return {f.findtext(f"{QTI12}fieldlabel"): f.findtext(f"{QTI12}fieldentry")
            for f in assessment.find(f"{QTI12}qtimetadata").findall(f"{QTI12}qtimetadatafield")}


def canvas_learner_texts(zip_path: Path) -> list[str]:
    """Everything of a Canvas package a learner can be shown: every <mattext> (stems, options, every
    feedback, general comments included), item and quiz titles, the quiz description."""
    root = canvas_assessment(zip_path)
    texts = [m.text or "" for m in root.iter(f"{QTI12}mattext")]
    texts += [e.get("title") or "" for e in root.iter(f"{QTI12}item", f"{QTI12}assessment")]
    return texts + list(canvas_meta(zip_path).values())


def canvas_images(zip_path: Path) -> list[tuple[str, str]]:
    """(src, the package path it resolves to) of every <img> in the item HTML, resolved as Canvas's link
    migrator resolves `$IMS-CC-FILEBASE$/<path>`: percent-decoded, from the package root."""
    from urllib.parse import unquote

    found = []
    for mattext in canvas_assessment(zip_path).iter(f"{QTI12}mattext"):
        if not (mattext.text or "").strip() or "<img" not in mattext.text:
            continue
        for img in lxml.html.fragment_fromstring(mattext.text, create_parent="div").iter("img"):
            src = img.get("src")
            assert src.startswith("$IMS-CC-FILEBASE$/"), src
            found.append((src, unquote(src.removeprefix("$IMS-CC-FILEBASE$/"))))
    return found


def canvas_numeric_bounds(zip_path: Path, course) -> dict[str, tuple[str, str, str]]:
    """{variant id: (exact, lower, upper)} of each numerical item, as written: Canvas's NumericInteraction
    stores margin = BigDecimal(upper) − BigDecimal(exact)."""
    ids = item_ids(course)
    found = {}
    for item in canvas_assessment(zip_path).iter(f"{QTI12}item"):
        condition = item.find(f".//{QTI12}respcondition/{QTI12}conditionvar/{QTI12}or")
        if condition is not None:
            found[ids[item.get("ident")]] = (condition.findtext(f"{QTI12}varequal"),
                                             condition.findtext(f"{QTI12}and/{QTI12}vargte"),
                                             condition.findtext(f"{QTI12}and/{QTI12}varlte"))
    return found


def qti21_items(zip_path: Path) -> dict[str, etree._Element]:
    """{package path: assessmentItem} of a QTI 2.1 package."""
    return {name: etree.fromstring(data) for name, data in zip_entries(zip_path).items()
            if name.startswith("items/") and name.endswith(".xml")}


def qti21_test(zip_path: Path):
    entries = zip_entries(zip_path)
    return etree.fromstring(next(data for name, data in entries.items() if name.startswith("tests/")))


def qti21_learner_text(document) -> str:
    """The text of a QTI 2.1 item or test a candidate can be shown: all of it (titles, labels and alt texts
    included) but the rubricBlocks whose view leaves the candidate out."""
    import copy

    visible = copy.deepcopy(document)
    for block in list(visible.iter(f"{QTI21}rubricBlock")):
        if "candidate" not in block.get("view", "").split():
            parent, previous = block.getparent(), block.getprevious()
            if previous is not None:  # keep the text after the block, which the candidate does see
                previous.tail = (previous.tail or "") + (block.tail or "")
            else:
                parent.text = (parent.text or "") + (block.tail or "")
            parent.remove(block)
    attributes = [e.get(name) for e in visible.iter() for name in ("title", "label", "alt") if e.get(name)]
    return " ".join(" ".join(list(visible.itertext()) + attributes).split())


def qti21_scorer_text(document) -> str:
    """The text of the rubricBlocks only scorers see."""
    return " ".join(" ".join("".join(block.itertext()) for block in document.iter(f"{QTI21}rubricBlock")
                             if block.get("view", "").split() == ["scorer"]).split())


def qti21_images(zip_path: Path) -> list[tuple[str, str, str]]:
    """(item path, src, the package path it resolves to) of every <img> in every item: a URI relative to
    the item file, percent-decoded."""
    import posixpath
    from urllib.parse import unquote

    return [(name, img.get("src"), posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(img.get("src")))))
            for name, item in qti21_items(zip_path).items() for img in item.iter(f"{QTI21}img")]


def qti12_schema():
    """The full IMS QTI ASI 1.2 schema from ../shared/schemas (Canvas items validate against it)."""
    return etree.XMLSchema(etree.parse(str(ROOT.parent / "shared" / "schemas" / "qti12-cc" / "domainProfile_4" /
                                           "ims_qtiasiv1p2.xsd")))


def qti21_schema():
    """IMS QTI 2.1 from ../shared/schemas/qti21-catalog, its imports resolved there (no network)."""
    catalog = ROOT.parent / "shared" / "schemas" / "qti21-catalog"

    class Catalog(etree.Resolver):
        def resolve(self, url, pubid, context):
            for prefix in ("http://", "https://"):
                if url.startswith(prefix):
                    return self.resolve_filename(str(catalog / url[len(prefix):]), context)
            return None

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(Catalog())
    return etree.XMLSchema(etree.parse(str(catalog / "www.imsglobal.org" / "xsd" / "imsqti_v2p1.xsd"), parser))


def schema_errors(schema, data: bytes) -> list[str]:
    return [] if schema.validate(etree.fromstring(data)) else [f"line {e.line}: {e.message}" for e in schema.error_log]
