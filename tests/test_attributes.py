import pytest

from quizgen.attributes import AttributeSyntaxError, parse_attribute_line


def test_bare_values_may_hold_dots_percent_and_signs():
    assert parse_attribute_line("{#drift type=numeric answer=-0.05 metric=moderate.relative_drift unit=%}") == {
        "id": "drift", "type": "numeric", "answer": "-0.05", "metric": "moderate.relative_drift", "unit": "%",
    }


def test_quoted_values_keep_spaces_and_escaped_quotes():
    assert parse_attribute_line(r'{#q unit="tokens per \"step\""}') == {"id": "q", "unit": 'tokens per "step"'}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{#q unit="cm}', "unterminated quote"),
        ("{#q points=1 points=2}", "'points' is given twice"),
        ("{#q .wide}", "cannot read '.wide'"),
        ("#q type=choice", "starts with '{'"),
    ],
)
def test_malformed_lines_say_what_is_wrong(line, message):
    with pytest.raises(AttributeSyntaxError, match=message):
        parse_attribute_line(line)
