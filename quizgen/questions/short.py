"""Short answer: a response matches an accepted answer written differently (docs/authoring.md, "short").

The rule, defined here once (site.js carries the same rule; the grader and the Otter tests read this one):

- both texts are compared after ``normalize_answer``: Unicode NFKC, lower case, hyphens and dashes,
  brackets and sentence punctuation (. , ; : ! ? and quotes) read as spaces (but a "." or "," between two
  digits is kept: 0.5 is not 0 5), runs of white space as one space, none at either end. So
  "Catastrophic forgetting." matches "catastrophic forgetting" and "next token cross-entropy" matches
  "next-token cross-entropy";
- a response with a bracketed gloss, "X (Y)", also matches when X and every Y are accepted answers on
  their own: "maximum likelihood estimation (MLE)" where both the name and "MLE" are accepted (but not
  "cross-entropy (MSE)").

LMSs that match answers literally get ``literal_forms``: the accepted answers plus the forms of them this
rule accepts that a learner is likely to type (a trailing period, hyphens as spaces, "name (ABBR)").
QTI 2.1 gets ``answer_pattern``, an XML Schema regular expression that is this rule.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import Field

from quizgen.questions.base import (
    MarkdownText, QuestionAttrs, QuestionBody, QuestionSection, QuestionType, body_texts, build_question,
    check_sections, split_options,
)

NAME = "short"
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphen-minus, hyphens, dashes, minus sign
BRACKETS = "()[]{}"
PUNCTUATION = ";:!?\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb"  # with . and , (kept between digits)
_SEPARATORS = re.compile("[" + re.escape(DASHES + BRACKETS + PUNCTUATION) + "]|(?<![0-9])[.,]|[.,](?![0-9])")
_GLOSS = re.compile(r"[(\[]([^()\[\]]*)[)\]]")


def normalize_answer(text: str) -> str:
    """``text`` as the short-answer rule compares it (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_SEPARATORS.sub(" ", text).split())


def answer_matches(response: str, accepted) -> bool:
    """Whether ``response`` is one of the ``accepted`` answers under the short-answer rule."""
    keys = {normalize_answer(answer) for answer in accepted} - {""}
    if normalize_answer(response) in keys:
        return True
    glosses = _GLOSS.findall(response)
    return bool(glosses) and normalize_answer(_GLOSS.sub(" ", response)) in keys and all(
        normalize_answer(gloss) in keys for gloss in glosses)


def literal_forms(accepted) -> list[str]:
    """The accepted answers and the forms of them an LMS that matches literally (ignoring case and the
    ends' white space: Canvas, Moodle) needs to accept what the rule accepts and learners often type: each
    answer with and without a trailing period, with its hyphens and dashes as spaces, and "name (ABBR)" for
    an accepted name whose words' initials are an accepted abbreviation ("maximum likelihood estimation
    (MLE)", "negative log-likelihood (NLL)"). Each form once (ignoring case), the course's own answers
    first."""
    forms: dict[str, str] = {}

    def add(text: str) -> None:
        text = " ".join(text.split())
        if text and text.lower() not in forms:
            forms[text.lower()] = text

    answers = [" ".join(str(answer).split()) for answer in accepted]
    for answer in answers:
        add(answer)
    for answer in answers:
        bare = answer.rstrip(".").rstrip()
        for form in dict.fromkeys([bare, re.sub("[" + re.escape(DASHES) + "]", " ", bare)]):
            add(form)
            add(form + ".")
    abbreviations = [answer for answer in answers if re.fullmatch(r"[A-Z][A-Za-z0-9]{1,7}", answer)]
    for name in answers:
        initials = "".join(word[0] for word in re.split("[\\s" + re.escape(DASHES) + "]+", name.rstrip(".")) if word)
        for abbreviation in abbreviations:
            if len(initials) > 1 and initials.lower() == abbreviation.lower():
                add(f"{name.rstrip('.')} ({abbreviation})")
    return list(forms.values())


def _letter(char: str) -> str:
    """One character of an accepted answer as XML Schema regex: a class of its cases, or escaped."""
    cases = dict.fromkeys([char, char.lower(), char.upper()])
    if len(cases) > 1 and all(len(case) == 1 for case in cases):
        return "[" + "".join(cases) + "]"
    return "\\" + char if char in ".\\?*+{}()[]|^-" else char


# What a learner may put where the rule reads a space, before or after an answer: white space and what
# normalize_answer reads as a space (the digits exception aside).
_GAP = "[\\s" + "".join("\\" + c if c in "-[](){}\\" else c for c in DASHES + BRACKETS + PUNCTUATION) + ".,]"


def _answer_regex(key: str) -> str:
    """A normalised answer as XML Schema regex: its words, in any case, separated by gaps."""
    return (_GAP + "+").join("".join(_letter(char) for char in word) for word in key.split(" "))


def answer_pattern(accepted) -> str:
    """The short-answer rule for ``accepted`` as one XML Schema regular expression (QTI 2.1 patternMatch;
    XML Schema patterns match the whole response and have no case flag, so each letter is a class). A
    response matches it when normalize_answer makes it one of the answers, give or take the NFKC
    normalisation; a gloss "X (Y)" matches when X and Y are both accepted, as answer_matches says."""
    keys = list(dict.fromkeys(key for key in (normalize_answer(answer) for answer in accepted) if key))
    words = "|".join(_answer_regex(key) for key in keys)
    gloss = f"({words}){_GAP}*[(\\[]{_GAP}*({words}){_GAP}*[)\\]]"
    return f"{_GAP}*(({words})|{gloss}){_GAP}*"


class ShortAttrs(QuestionAttrs):
    type: Literal["short"]


class ShortQuestion(ShortAttrs, QuestionBody):
    accepted: tuple[MarkdownText, ...] = Field(min_length=1)

    def accepts(self, response: str) -> bool:
        return answer_matches(response, self.accepted)

    def literal_forms(self) -> list[str]:
        """The accepted answers in the forms an LMS that matches literally needs (see literal_forms)."""
        return literal_forms(self.accepted)

    def answer_pattern(self) -> str:
        """The rule as an XML Schema regular expression (QTI 2.1 patternMatch; see answer_pattern)."""
        return answer_pattern(self.accepted)


def parse(section: QuestionSection) -> ShortQuestion | None:
    check_sections(section, ("accepted answers", "explanation"))
    stem_blocks, options = split_options(section)
    if options is not None:
        section.error(options.start + 1, "a short question has no options: list answers under '#### Accepted answers'")
    accepted = []
    sub = section.subsections.get("accepted answers")
    if sub is None:
        section.error(section.heading_line, "missing '#### Accepted answers' section")
    else:
        lists = [block for block in sub.blocks if block.type == "bullet_list"]
        if len(lists) != 1 or len(sub.blocks) != 1:
            section.error(sub.line, "'#### Accepted answers' must hold one bullet list, an answer per item")
        else:
            accepted = [t.content.strip() for t in lists[0].tokens if t.type == "inline"]
            seen = set()
            for token in (t for t in lists[0].tokens if t.type == "inline"):
                # Listed twice: the same but for case and spacing (forms the rule also equates, such as
                # "maximum-likelihood" beside "maximum likelihood", are harmless and stay allowed).
                key = " ".join(token.content.split()).lower()
                if key in seen:
                    section.error(token.map[0] + 1, f"accepted answer {token.content.strip()!r} is listed twice")
                elif not normalize_answer(token.content):
                    section.error(token.map[0] + 1, f"accepted answer {token.content.strip()!r} has nothing but "
                                  "punctuation, which answers are compared without")
                seen.add(key)
    return build_question(section, ShortAttrs, ShortQuestion, stem_blocks, {"accepted": accepted})


TYPE = QuestionType(NAME, ShortAttrs, ShortQuestion, parse, label="Short answer", graded="auto",
                    correct_answers=lambda question: list(question.accepted), texts=body_texts, shuffles_options=False)
