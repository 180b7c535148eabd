"""The lab figures' own promises: a reference line is drawn, named, and inside the axes."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from quizgen.lab import plots  # noqa: E402

VALUES = {"pre-trained": 24.2, "moderate": 25.0, "aggressive": 60.0}


def test_value_bars_draw_a_named_dashed_reference_line():
    plain = plots.value_bars(VALUES, "perplexity", log=True).decode()
    svg = plots.value_bars(VALUES, "perplexity", log=True, reference=("uniform guess", 428)).decode()
    assert "uniform guess" in svg and "uniform guess" not in plain
    assert svg.count("stroke-dasharray") > plain.count("stroke-dasharray")


def test_value_bars_stretch_the_axis_to_a_reference_above_every_bar():
    thousand = plots.short(1000)
    assert f">{thousand}<" not in plots.value_bars(VALUES, "perplexity", log=True).decode()
    assert f">{thousand}<" in plots.value_bars(VALUES, "perplexity", log=True, reference=("uniform guess", 428)).decode()
