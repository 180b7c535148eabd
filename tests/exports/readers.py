"""Read every export back into {question id: correct answers}, with real parsers (lxml, gift-pegjs).

Answers are compared as plain text: option HTML is reduced to its text content, numbers to
(value, margin) pairs. The ids of Canvas items are content hashes, so Canvas is mapped back
through the course's own ids.
"""

from __future__ import annotations

import json
import math
import subprocess
import zipfile
from pathlib import Path

import lxml.html
from lxml import etree

from quizgen.formats.common import full_id, inline_html, stable_id
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
    for concept, question in course.questions:
        key = full_id(concept, question)
        if hasattr(question, "options"):
            answers[key] = tuple(sorted(plain(inline_html(o.text, math)) for o in question.options if o.correct))
        elif question.type == "numeric":
            answers[key] = ("number", question.answer, question.margin)
        elif question.type == "short":
            answers[key] = tuple(sorted(question.accepted))
    return answers


def same(found: dict, wanted: dict) -> list[str]:
    """Differences between two answer maps, as readable lines (empty when they agree)."""
    problems = []
    for key, answer in wanted.items():
        got = found.get(key)
        if answer and answer[0] == "number":
            ok = got is not None and got[0] == "number" and all(math.isclose(a, b, abs_tol=1e-9)
                                                                 for a, b in zip(got[1:], answer[1:]))
        else:
            ok = got == answer
        if not ok:
            problems.append(f"{key}: expected {answer!r}, found {got!r}")
    return problems


def canvas(zip_path: Path, course) -> dict:
    ids = {stable_id("item", full_id(c, q)): full_id(c, q) for c, q in course.questions}
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
        elif kind == "shortanswer":
            found[key] = tuple(sorted(a.findtext("text") for a in right))
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
    keys = [full_id(c, q) for c, q in course.questions]
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
            found[key] = tuple(sorted(c["text"]["text"] for c in question["choices"]))
    return found


def key_html(path: Path, course) -> dict:
    page = lxml.html.parse(str(path)).getroot()
    found = {}
    for concept, question in course.questions:
        section = page.get_element_by_id(f"{concept.id}--{question.id}")
        if hasattr(question, "options"):
            found[full_id(concept, question)] = tuple(sorted(
                " ".join(span.text_content().split()) for span in section.xpath(".//li[@class='correct']/span[@class='option']")))
        elif question.type in ("numeric", "short"):
            text = section.xpath(".//p[@class='answer']")[0].text_content().removeprefix("Answer:").strip()
            if question.type == "short":
                found[full_id(concept, question)] = tuple(sorted(text.split(" · ")))
            else:
                value, margin = text.split(" ± ")
                found[full_id(concept, question)] = ("number", float(value), float(margin.split()[0]))
    return found
