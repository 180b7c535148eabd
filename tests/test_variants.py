"""Generated questions: the formula language, parameters, and the variants the loader expands.

The bad-content diagnostics (unknown placeholder, a parameter without values, formulas that do not
parse or fail on a variant, collapsing options and variants) are fixtures in tests/fixtures/bad/variant-*.
"""

import math

import pytest
from hypothesis import given, strategies as st

from quizgen.loader import load_course
from quizgen.variants import display, parse_values
from quizgen.variants.expressions import MAX_DEPTH, MAX_LENGTH, FormulaError, compile_formula
from paths import FIXTURES

GENERATED = FIXTURES / "courses" / "generated"


def value(source, **values):
    return compile_formula(source, values).evaluate(values)


@pytest.mark.parametrize("source, expected", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ^ 3 ^ 2", 512), ("2 ** 3", 8), ("-2 ^ 2", -4), ("2 ^ -1", 0.5),
    ("10 / 4", 2.5), ("- - 3", 3), ("+3", 3), ("1e-3 * 1000", 1), (".5 + 0.5", 1), ("log(exp(2))", 2),
    ("log(8, 2)", 3), ("sqrt(16)", 4), ("abs(-3)", 3), ("round(2.567, 2)", 2.57), ("round(2.5)", 2),
    ("floor(2.7) + ceil(2.1)", 5), ("min(3, 1, 2)", 1), ("max(3, 1, 2)", 3), ("round(pi, 4)", 3.1416),
])
def test_formulas_compute_what_arithmetic_says(source, expected):
    assert value(source) == pytest.approx(expected)


def test_parameters_are_read_by_name():
    assert value("r / (p + r)", p=8, r=2) == pytest.approx(0.2)
    formula = compile_formula("a * b + a", {"a": 1, "b": 2, "unused": 3})
    assert formula.names == {"a", "b"}
    assert formula.evaluate({"a": 2, "b": 5}) == 12


@pytest.mark.parametrize("source, message", [
    ("1 / 0", "division by zero"), ("log(0)", "log of 0"), ("log(-1)", "log of -1"), ("sqrt(-4)", "sqrt of -4"),
    ("exp(1000)", "too large"), ("10 ^ 400", "too large"), ("(-8) ^ 0.5", "no real value"), ("0 ^ -1", "division"),
    ("log(2, 1)", "base"), ("round(1.5, 0.5)", "whole number"),
])
def test_a_formula_that_fails_says_why(source, message):
    with pytest.raises(FormulaError, match=message):
        value(source)


@pytest.mark.parametrize("source, message", [
    ("", "empty"), ("1 +", "ends too early"), ("(1", "ends too early"), ("1 2", "unexpected '2'"),
    ("x + 1", "unknown name 'x'"), ("log", "is a function"), ("foo(1)", "unknown function 'foo'"),
    ("max()", "takes 1 or more"), ("log(1, 2, 3)", "takes 1 to 2"), ("exp(1, 2)", "takes 1 argument"),
    ("1 == 1", "'='"), ("a.b", "'.'"), ("'text'", "'''"), ("[1]", r"'\['"), ("1; 2", "';'"),
])
def test_a_formula_that_does_not_parse_says_why(source, message):
    with pytest.raises(FormulaError, match=message):
        compile_formula(source, {})


@pytest.mark.parametrize("source", [
    "__import__('os').system('true')", "().__class__", "open('/etc/passwd')", "eval('1')", "lambda: 1",
    "exec", "globals()", "p.__class__",
])
def test_python_is_never_evaluated(source):
    with pytest.raises(FormulaError):
        compile_formula(source, {"p": 1})


def test_formulas_are_bounded():
    with pytest.raises(FormulaError, match="characters long"):
        compile_formula("1 + " * MAX_LENGTH + "1", {})
    with pytest.raises(FormulaError, match="nests deeper"):
        compile_formula("(" * (MAX_DEPTH + 2) + "1" + ")" * (MAX_DEPTH + 2), {})
    with pytest.raises(FormulaError, match="nests deeper"):
        compile_formula("-" * (MAX_DEPTH + 2) + "1", {})


@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6).filter(bool))
def test_integer_arithmetic_matches_python(a, b):
    assert value("a + b", a=a, b=b) == a + b
    assert value("a * b", a=a, b=b) == a * b
    assert value("a / b", a=a, b=b) == pytest.approx(a / b)
    assert value("a - b - a", a=a, b=b) == -b


def test_a_text_parameter_cannot_take_part_in_arithmetic():
    with pytest.raises(FormulaError, match="text parameter"):
        value("m + 1", m="GPT-2")


@pytest.mark.parametrize("text, values, shown", [
    ("8, 12, 16", (8, 12, 16), ("8", "12", "16")),
    ("1e-4, 1e-3", (1e-4, 1e-3), ("1e-4", "1e-3")),
    ("2 to 10 step 4", (2, 6, 10), ("2", "6", "10")),
    ("0.1 to 0.3 step 0.1", (0.1, 0.2, 0.3), ("0.1", "0.2", "0.3")),  # decimal steps: no 0.30000000000000004
    ("1 to 3", (1, 2, 3), ("1", "2", "3")),
    ('"GPT-2", "Llama, small"', ("GPT-2", "Llama, small"), ("GPT-2", "Llama, small")),
])
def test_parameter_values_are_lists_or_ranges(text, values, shown):
    assert parse_values(text) == (values, shown)


@pytest.mark.parametrize("text, message", [
    ("", "no values"), ("1, x", "not a number"), ("1, 1", "twice"), ("1 to 5 step 0", "step must be positive"),
    ("1 to 1000", "at most"), ("nan", "finite"), ("1e999", "finite"),
])
def test_bad_parameter_values_say_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_values(text)


def test_display_shows_six_significant_digits_without_exponent():
    assert [display(v) for v in (0.2, 1 / 3, 2.0, 1e-7, 123456789.0, "GPT-2")] == [
        "0.2", "0.333333", "2", "0.0000001", "123457000", "GPT-2"]


def test_the_loader_expands_every_combination_into_a_question_of_its_type():
    course = load_course(GENERATED)
    questions = {question.id: question for question in course.concepts[0].questions}
    share = questions["masked-share"]
    assert len(share.variants) == 9 and share.generated
    assert [v.variant.label for v in share.variants][:4] == ["p=8, r=2", "p=8, r=6", "p=8, r=10", "p=12, r=2"]
    assert all(v.variant.count == 9 and v.variant.index == n for n, v in enumerate(share.variants, 1))
    for variant in share.variants:
        p, r = variant.variant.values["p"], variant.variant.values["r"]
        assert variant.answer == pytest.approx(r / (p + r), rel=1e-9)
        assert len(repr(variant.answer)) <= 13  # ten significant digits, no float noise
        assert f"has {p:g} prompt tokens and {r:g} response tokens" in variant.stem
        assert "{" not in variant.stem
        assert type(variant) is type(share) and not variant.variants
    # The first variant is the question every output sees by default.
    assert share.model_dump(exclude={"variants"}) == share.variants[0].model_dump(exclude={"variants"})


def test_computed_options_keep_their_misconceptions_in_every_variant():
    question = load_course(GENERATED).concepts[0].question("mean-token-loss")
    for variant in question.variants:
        a, b = variant.variant.values["a"], variant.variant.values["b"]
        texts = [option.text for option in variant.options]
        assert texts[0] == display(round(-(math.log(a) + math.log(b)) / 2, 3))
        assert texts[1] == display(round(-math.log(a * b), 3))
        assert [option.misconception for option in variant.options] == [None, "sum-not-mean", "probability-not-log"]
        assert variant.correct_option.text == texts[0]


def test_tex_groups_are_not_placeholders():
    concept = load_course(GENERATED).concepts[0]
    assert r"\frac{1}{|y|}" in concept.explanation
    explanation = concept.question("masked-share").variants[0].explanation
    assert r"$\frac{ 2 }{ 10 } \approx$ 0.2" in explanation


def test_every_text_is_filled_accepted_answers_included():
    question = load_course(GENERATED).concepts[0].question("name-the-mask")
    assert [v.accepted[-1] for v in question.variants] == ["the 5 prompt tokens", "the 9 prompt tokens"]
