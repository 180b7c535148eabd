"""Answers the labs measure: a generated question reading a lab grid (metric=grid.recall, no answer=) is
checked against the grid without running anything, keyed by the median over the seeds' runs, and
loses the variants whose runs disagree by more than its tolerance."""

from __future__ import annotations

import textwrap

import pytest

from quizgen.build import build
from quizgen.errors import ContentError
from quizgen.loader import load_course
from quizgen.variants.measured import resolve

LAB = '''
"""Lab: a grid of learning rates x steps (never run by these tests)."""
from quizgen.lab.claims import Claim

TITLE = "Grid"
LRS = (1e-4, 1e-3)
STEPS = (10, 20)
GRIDS = {"grid": {"lr": LRS, "steps": STEPS}}
CLAIMS = [Claim("exists", "The grid exists.", "grid_size >= 1")]


def run(lab):
    return {"grid_size": 4}
'''

QUESTION = '''
{{#recall-at type=numeric metric={metric} tolerance=0.05{extra}}}
### Recall at a learning rate
After fine-tuning at {{lr}} for {{steps}} steps, what recall is left?

#### Explanation
The lab measures it.

#### Parameters
{parameters}
'''


def course(tmp_path, metric="grid.recall", extra="", parameters="- lr: 1e-4, 1e-3\n- steps: 10, 20"):
    (tmp_path / "labs" / "grid-lab").mkdir(parents=True)
    (tmp_path / "labs" / "grid-lab" / "lab.py").write_text(LAB, encoding="utf-8")
    content = tmp_path / "content"
    content.mkdir()
    (content / "course.yml").write_text("title: Grid course\nlabs: ../labs\n", encoding="utf-8")
    question = QUESTION.format(metric=metric, extra=extra, parameters=parameters)
    (content / "grid.md").write_text(textwrap.dedent(f"""\
        ---
        id: grid
        title: Grid
        lab: grid-lab
        ---
        Fine-tuning at several learning rates.

        ## Questions
        """) + question, encoding="utf-8")
    return content


def errors(content):
    with pytest.raises(ContentError) as raised:
        load_course(content)
    return [diagnostic.message for diagnostic in raised.value.diagnostics]


def test_a_grid_question_loads_without_answers(tmp_path):
    question = load_course(course(tmp_path)).concepts[0].questions[0]
    assert len(question.variants) == 4
    assert all(variant.answer is None and variant.measured for variant in question.variants)


@pytest.mark.parametrize("kwargs, message", [
    ({"parameters": "- lr: 1e-4, 2e-3\n- steps: 10, 20"},
     "lr=0.002 is not a point of lab grid-lab's grid 'grid' (lr: 0.0001, 0.001; steps: 10, 20)"),
    ({"parameters": "- lr: 1e-4, 1e-3\n- steps: 10, 20\n- other: 1, 2"}, None),
    ({"extra": " answer=0.5"}, "which measures each variant's answer: remove answer="),
])
def test_check_holds_a_grid_question_to_the_grid(tmp_path, kwargs, message):
    if message is None:  # a parameter besides the axes is allowed, but here it changes nothing: the same question
        assert any("are the same question" in text for text in errors(course(tmp_path, **kwargs)))
        return
    assert any(message in text for text in errors(course(tmp_path, **kwargs)))


def test_a_grid_question_needs_the_axes_as_parameters(tmp_path):
    content = course(tmp_path, parameters="- lr: 1e-4, 1e-3")
    (content / "grid.md").write_text((content / "grid.md").read_text().replace(" for {steps} steps", ""))
    assert any("has no parameter steps" in text for text in errors(content))


def runs(recalls_by_seed):
    """Cached-run dicts as the lab cache holds them, one per seed: {(lr, steps): recall}."""
    grids = {"GRIDS": {"grid": {"lr": [1e-4, 1e-3], "steps": [10, 20]}}}
    return [{"seed": seed, "settings": {"config": grids},
             "metrics": {"grid": [{"lr": lr, "steps": steps, "recall": value} for (lr, steps), value in recalls.items()]}}
            for seed, recalls in enumerate(recalls_by_seed)]


def test_each_variant_is_keyed_by_the_median_of_the_seeds(tmp_path):
    loaded = load_course(course(tmp_path))
    seeds = [{(1e-4, 10): 0.97, (1e-4, 20): 0.95, (1e-3, 10): 0.80, (1e-3, 20): 0.30},
             {(1e-4, 10): 0.98, (1e-4, 20): 0.96, (1e-3, 10): 0.82, (1e-3, 20): 0.60},
             {(1e-4, 10): 0.99, (1e-4, 20): 0.9312345, (1e-3, 10): 0.81, (1e-3, 20): 0.45}]
    resolved, (report,) = resolve(loaded, {"grid-lab": runs(seeds)})
    question = resolved.concepts[0].questions[0]
    # lr=1e-3, steps=20 spreads from 0.30 to 0.60, wider than ± 0.05: dropped, with the reason.
    assert [v.variant.label for v in question.variants] == ["lr=1e-4, steps=10", "lr=1e-4, steps=20",
                                                           "lr=1e-3, steps=10"]
    assert [v.answer for v in question.variants] == [0.98, 0.95, 0.81]
    assert [(v.variant.index, v.variant.count) for v in question.variants] == [(1, 3), (2, 3), (3, 3)]
    assert question.variants[1].variant.seeds == (0, 1, 2)
    assert question.variants[1].variant.measured == (0.95, 0.96, 0.9312345)
    assert question.answer == 0.98 and question.accepts(0.94) and not question.accepts(0.92)
    (dropped,) = [v for v in report.variants if v.reason]
    assert dropped.label == "lr=1e-3, steps=20" and "0.3 to 0.6" in dropped.reason
    assert report.problem() is None and "3 of 4 variants usable" in report.summary()


def test_a_question_left_with_one_variant_is_a_problem_and_left_out(tmp_path):
    loaded = load_course(course(tmp_path))
    seeds = [{(1e-4, 10): 0.9, (1e-4, 20): 0.5, (1e-3, 10): 0.1, (1e-3, 20): 0.1},
             {(1e-4, 10): 0.9, (1e-4, 20): 0.9, (1e-3, 10): 0.5, (1e-3, 20): 0.6}]
    resolved, (report,) = resolve(loaded, {"grid-lab": runs(seeds)})
    assert resolved.concepts[0].questions == ()
    assert "1 of 4 variants measured stably on seed(s) 0, 1, at least 2 needed" in report.problem().message


def test_without_a_run_the_build_leaves_the_question_out_and_says_why(tmp_path):
    content = course(tmp_path)
    report = build(content, tmp_path / "out", ["key"], results={})
    assert [w.severity for w in report.warnings] == ["warning"]
    assert "has no cached run: run `quizgen verify`; the question is left out" in report.warnings[0].message
    key = (tmp_path / "out" / "export" / "key" / "key.md").read_text(encoding="utf-8")
    assert "recall-at" not in key.lower() and "Recall at a learning rate" not in key


def test_the_build_keys_each_variant_from_the_lab(tmp_path):
    content = course(tmp_path)
    (run,) = runs([{(1e-4, 10): 0.97, (1e-4, 20): 0.95, (1e-3, 10): 0.8, (1e-3, 20): 0.3}])
    report = build(content, tmp_path / "out", ["key"], results={"grid-lab": run})
    assert report.warnings == []
    key = (tmp_path / "out" / "export" / "key" / "key.md").read_text(encoding="utf-8")
    assert "0.97" in key
