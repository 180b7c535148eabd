"""Learning objectives with ids, questions tagged with objective=, level= and difficulty=: what check reports,
and what the site, the answer key and the item CSV show."""

import csv
import io

from click.testing import CliRunner

from quizgen.build import build
from quizgen.cli import cli
from quizgen.formats import csv as csv_format
from quizgen.formats import key as key_format
from quizgen.lint import lint
from quizgen.loader import load_course

CONCEPT = """\
---
id: runs
title: Runs
objectives:
  - explain-init: Explain why fine-tuning starts from $\\hat\\theta$.
  - Compute the relative drift of a run.
  - predict-recall: Predict recall from a learning rate.
---
Text.

## Questions

{{#q1 type=truefalse objective=explain-init,2 level=apply difficulty=hard}}
### First
Stem.

- [x] True
- [ ] False

#### Explanation
Because.

{{#q2 type=truefalse {second}}}
### Second
Stem.

- [ ] True
- [x] False

#### Explanation
Because.
"""


def course(tmp_path, second="objective=predict-recall level=remember difficulty=easy"):
    (tmp_path / "runs.md").write_text(CONCEPT.format(second=second), encoding="utf-8")
    return tmp_path


def check(folder, *options):
    return CliRunner().invoke(cli, ["check", *options, str(folder)])


def test_objectives_get_ids_and_lines_and_questions_name_them(tmp_path):
    concept = load_course(course(tmp_path)).concepts[0]
    assert [(o.id, o.line) for o in concept.objectives] == [("explain-init", 5), ("2", 6), ("predict-recall", 7)]
    assert concept.objectives[1].text == "Compute the relative drift of a run."
    first = concept.questions[0]
    assert first.objective == ("explain-init", "2") and first.level == "apply" and first.difficulty == "hard"
    assert lint(load_course(tmp_path)) == []
    assert check(tmp_path, "--strict").exit_code == 0


def test_an_unknown_objective_is_an_error_at_the_attribute_line(tmp_path):
    result = check(course(tmp_path, "objective=predict-recal"))
    assert result.exit_code == 1
    assert (f"{tmp_path / 'runs.md'}:23: question 'q2' names the unknown objective 'predict-recal' "
            "(its objectives are explain-init, 2, predict-recall)") in result.output


def test_unassessed_objectives_and_untagged_questions_are_warnings_strict_fails(tmp_path):
    result = check(course(tmp_path, ""))
    path = tmp_path / "runs.md"
    assert result.exit_code == 0
    assert f"{path}:7: warning: no question assesses the objective 'predict-recall'" in result.output
    assert f"{path}:23: warning: question 'q2' names no objective" in result.output
    assert check(tmp_path, "--strict").exit_code == 1


def test_a_concept_without_objectives_asks_for_no_tags(tmp_path):
    text = CONCEPT.format(second="").replace(" objective=explain-init,2", "")
    text = text.replace(text[text.index("objectives:"):text.index("---\nText")], "")
    (tmp_path / "runs.md").write_text(text, encoding="utf-8")
    assert lint(load_course(tmp_path)) == []


def test_level_and_difficulty_take_only_their_values(tmp_path):
    result = check(course(tmp_path, "objective=2 level=apply-ish difficulty=impossible"))
    assert result.exit_code == 1
    assert "level: 'apply-ish' is not one of 'remember', 'understand', 'apply'" in result.output
    assert "difficulty: 'impossible' is not one of 'easy', 'medium' or 'hard'" in result.output


def test_duplicate_objective_ids_are_an_error(tmp_path):
    (tmp_path / "runs.md").write_text(CONCEPT.format(second="").replace("predict-recall:", "explain-init:"),
                                      encoding="utf-8")
    result = check(tmp_path)
    assert result.exit_code == 1 and "objective id 'explain-init' is given twice" in result.output


def test_item_csv_and_answer_key_carry_objectives_level_and_difficulty(tmp_path):
    loaded = load_course(course(tmp_path))
    out = tmp_path / "csv"
    out.mkdir()
    csv_format.write(loaded, {}, out)
    rows = list(csv.DictReader(io.StringIO((out / "items.csv").read_text(encoding="utf-8"))))
    assert [(r["objectives"], r["level"], r["difficulty"]) for r in rows] == [
        ("explain-init; 2", "apply", "hard"), ("predict-recall", "remember", "easy")]
    out = tmp_path / "key"
    out.mkdir()
    key_format.write(loaded, {}, out)
    markdown = (out / "key.md").read_text(encoding="utf-8")
    assert "`runs#q1` · truefalse · 1 point · level: apply · difficulty: hard" in markdown
    assert "Assesses `explain-init` (Explain why fine-tuning starts from $\\hat\\theta$.); `2` (Compute" in markdown
    assert "- `predict-recall`: Predict recall from a learning rate." in markdown
    assert "level: apply · difficulty: hard" in (out / "key.html").read_text(encoding="utf-8")


def test_the_site_shows_level_and_difficulty_beside_the_points(tmp_path):
    (tmp_path / "content").mkdir()
    content = course(tmp_path / "content")
    build(content, tmp_path / "out", formats=["site"])
    page = (tmp_path / "out" / "site" / "concepts" / "runs.html").read_text(encoding="utf-8")
    assert ('True or false · 1 point · <span class="qlevel">Level: Apply</span> · '
            '<span class="qdifficulty">Difficulty: Hard</span>') in page
    assert "<li>Compute the relative drift of a run.</li>" in page
