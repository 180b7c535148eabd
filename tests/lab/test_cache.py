"""The cache key covers every setting; entries are written atomically and damaged ones are ignored."""

from __future__ import annotations

import json

import pytest

from quizgen.errors import QuizgenError
from quizgen.lab import cache, runner

BASE = dict(seed=0, device="cpu", model_dir=None)


@pytest.fixture(scope="module")
def spec():
    return runner.get_lab("initialization")


def key(spec, **changes):
    return cache.cache_key(runner.lab_settings(spec, **(BASE | changes)))


def test_the_same_settings_give_the_same_key(spec):
    assert key(spec) == key(spec)


@pytest.mark.parametrize("change", [dict(seed=1), dict(device="cuda")])
def test_every_run_setting_changes_the_key(spec, change):
    assert key(spec, **change) != key(spec)


def test_the_thread_count_does_not_change_the_key():
    """--threads says how many arms train at once, each on one thread: the results are the same."""
    assert "threads" not in runner.lab_settings(runner.get_lab("sft-objective"), **BASE)


def test_another_model_changes_the_key(spec, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert key(spec, model_dir=tmp_path) != key(spec)
    before = key(spec, model_dir=tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"other weights")
    assert key(spec, model_dir=tmp_path) != before


def test_every_lab_constant_changes_the_key(spec, monkeypatch):
    base = key(spec)
    config = spec.config
    assert {"MODERATE", "AGGRESSIVE", "GRID_LRS", "LORA_RANK", "BATCH_SIZE"} <= set(config)
    for name in config:
        original = getattr(spec.module, name)
        changed = "x" if isinstance(original, str) else [original] if not isinstance(original, list) else original + [0]
        monkeypatch.setattr(spec.module, name, changed)
        assert key(spec) != base, name
        monkeypatch.setattr(spec.module, name, original)
    assert key(spec) == base


def test_a_lab_sharing_another_labs_recipe_changes_key_with_it(tmp_path):
    """keeping-knowledge takes the initialization lab's recipe (runner.sibling): a change there is a change
    of its own configuration, so its cached results are not reused for another recipe."""
    import shutil

    for lab_id in ("initialization", "keeping-knowledge"):
        shutil.copytree(runner.shipped_labs() / lab_id, tmp_path / lab_id, ignore=shutil.ignore_patterns("__pycache__"))

    def shared_key():
        return cache.cache_key(runner.lab_settings(runner.get_lab("keeping-knowledge", tmp_path), **BASE))

    before = shared_key()
    assert runner.get_lab("keeping-knowledge", tmp_path).config["AGGRESSIVE"] == runner.get_lab(
        "initialization", tmp_path).config["AGGRESSIVE"]
    lab_file = tmp_path / "initialization" / "lab.py"
    source = lab_file.read_text()
    assert "AGGRESSIVE = dict(lr=3.75e-3, steps=200)" in source
    lab_file.write_text(source.replace("AGGRESSIVE = dict(lr=3.75e-3, steps=200)", "AGGRESSIVE = dict(lr=3.75e-3, steps=201)"))
    assert shared_key() != before
    shutil.rmtree(tmp_path / "initialization")
    with pytest.raises(QuizgenError, match="takes its recipe from the lab 'initialization', which is not beside it"):
        runner.get_lab("keeping-knowledge", tmp_path)


def test_lab_source_engine_source_data_pipeline_and_libraries_change_the_key(spec, monkeypatch):
    base = key(spec)
    monkeypatch.setattr(cache, "DATA_PIPELINE_VERSION", cache.DATA_PIPELINE_VERSION + 1)
    assert key(spec) != base
    monkeypatch.undo()
    monkeypatch.setattr(cache, "library_versions", lambda: {"torch": "0.0"})
    assert key(spec) != base
    monkeypatch.undo()
    monkeypatch.setattr(runner, "_engine_source_hash", lambda: "edited")
    assert key(spec) != base
    monkeypatch.undo()
    settings = runner.lab_settings(spec, **BASE)
    assert settings["lab_source"] and settings["engine_source"]


def test_key_ignores_the_order_of_settings():
    assert cache.settings_hash({"a": 1, "b": [1, 2]}) == cache.settings_hash({"b": [1, 2], "a": 1})


def test_store_then_load_round_trips_and_replaces(tmp_path):
    cache.store(tmp_path, "lab", "k1", {"metrics": {"x": 1.0}}, {"plot.png": b"png"})
    assert cache.load(tmp_path, "lab", "k1") == {"metrics": {"x": 1.0}}
    assert (tmp_path / "lab" / "k1" / "plot.png").read_bytes() == b"png"
    cache.store(tmp_path, "lab", "k1", {"metrics": {"x": 2.0}}, {})
    assert cache.load(tmp_path, "lab", "k1") == {"metrics": {"x": 2.0}}
    assert not (tmp_path / "lab" / "k1" / "plot.png").exists()
    assert [p.name for p in (tmp_path / "lab").iterdir()] == ["k1"]  # no staging folders left behind


def test_a_damaged_entry_is_a_miss(tmp_path):
    (tmp_path / "lab" / "k").mkdir(parents=True)
    (tmp_path / "lab" / "k" / "results.json").write_text('{"metrics": ')
    assert cache.load(tmp_path, "lab", "k") is None
    assert cache.load(tmp_path, "lab", "absent") is None


def test_library_versions_name_torch_and_transformers():
    versions = cache.library_versions()
    assert {"python", "torch", "transformers", "tokenizers"} <= set(versions)
    json.dumps(versions)


def test_an_unwritable_cache_is_reported_before_any_training(tmp_path, monkeypatch):
    from quizgen.errors import QuizgenError

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache should be")
    monkeypatch.setattr(runner.LabContext, "__init__", lambda *a, **k: pytest.fail("it started training"))
    with pytest.raises(QuizgenError, match="the lab cache .* is not writable"):
        runner.run_lab("ift-vs-pretraining", cache_dir=blocked)
