"""The real lab files, run end to end with tiny settings on a tiny model of another architecture
(`--model DIR`), and the shipped checkpoint."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")

from quizgen.lab import cli, runner  # noqa: E402
from paths import ROOT  # noqa: E402

REPO_LABS = ROOT / "labs"
# Every step count shrunk, so that each lab runs in seconds; the code paths stay the same.
TINY = {
    "initialization": {r"steps=120": "steps=2", r"steps=300": "steps=4", r"GRID_STEPS = \(120, 300\)": "GRID_STEPS = (2, 4)"},
    "sft-objective": {r"STEPS = 300": "STEPS = 3"},
    "ift-vs-pretraining": {r"steps=120": "steps=3", r"REPLAY_STEPS = 40": "REPLAY_STEPS = 2"},
}


@pytest.fixture
def tiny_labs(tmp_path):
    assert sorted(TINY) == sorted(runner.discover())  # a new lab needs its tiny settings here
    for name, replacements in TINY.items():
        source = (REPO_LABS / name / "lab.py").read_text()
        for pattern, replacement in replacements.items():
            source, count = re.subn(pattern, replacement, source)
            assert count, f"{name}: {pattern} no longer appears; update TINY"
        (tmp_path / "labs" / name).mkdir(parents=True)
        (tmp_path / "labs" / name / "lab.py").write_text(source)
    return tmp_path


@pytest.mark.parametrize("lab_id", sorted(TINY))
def test_each_lab_runs_on_a_local_model_directory(tiny_labs, tiny_llama_dir, lab_id):
    result = CliRunner().invoke(cli.lab, ["run", lab_id, "--model", str(tiny_llama_dir), "--threads", "1",
                                          "--cache-dir", str(tiny_labs / "cache"), "--labs", str(tiny_labs / "labs")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    directory = Path(result.output.strip().splitlines()[-1].removeprefix("results: "))
    results = json.loads((directory / "results.json").read_text())
    assert results["settings"]["model"] == runner.model_fingerprint(tiny_llama_dir)
    assert results["threads"] == 1 and results["seed"] == 0 and results["libraries"]["torch"]
    assert {c["name"] for c in results["claims"]} == {c.name for c in runner.get_lab(lab_id).claims}
    assert results["plots"] and all((directory / name).read_bytes()[:4] == b"\x89PNG" for name in results["plots"])
    for claim in results["claims"]:
        assert f"{'PASS' if claim['passed'] else 'FAIL'} {claim['name']}:" in result.output


def test_a_model_without_a_pretraining_record_cannot_back_the_pretraining_claims(tiny_labs, tiny_llama_dir):
    results = runner.run_lab("ift-vs-pretraining", model_dir=tiny_llama_dir, threads=1, cache_dir=tiny_labs / "cache",
                             labs=tiny_labs / "labs")
    claims = {c["name"]: c for c in results["claims"]}
    assert claims["finetuning-data-tiny"]["values"]["pretraining.tokens_seen"] is None
    assert not claims["finetuning-data-tiny"]["passed"]
    # The live replay still shows both phases running through the same loop.
    assert results["metrics"]["pretraining_replay"]["loop"] == results["metrics"]["finetuning"]["loop"]


def test_lab_results_are_bit_identical_for_the_same_seed_and_threads(tiny_labs, tiny_llama_dir):
    def metrics(cache_dir, seed=0):
        results = runner.run_lab("sft-objective", model_dir=tiny_llama_dir, threads=1, seed=seed, cache_dir=cache_dir,
                                 labs=tiny_labs / "labs")
        return json.dumps(_without_timings(results["metrics"]), sort_keys=True)
    first, second = metrics(tiny_labs / "a"), metrics(tiny_labs / "b")
    assert first == second
    assert metrics(tiny_labs / "a", seed=1) != first


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if not k.endswith("wall_s")}
    return value


def test_the_shipped_checkpoint_loads_offline_and_knows_its_facts(lab_data):
    from quizgen.lab import cache, metrics, model, world
    from quizgen.lab.pretrain import PRETRAIN_CONFIG, REBUILD_COMMAND

    loaded = model.load_model()
    info = model.checkpoint_info()
    assert info["rebuild_command"] == REBUILD_COMMAND == "quizgen lab pretrain"
    # The checkpoint was built by today's recipe and data pipeline; otherwise rebuild it.
    assert info["config"] == PRETRAIN_CONFIG and info["data_pipeline_version"] == world.DATA_PIPELINE_VERSION
    assert info["config_hash"] == cache.settings_hash(
        PRETRAIN_CONFIG | {"model": model.GPT2_SHAPE, "data_pipeline_version": world.DATA_PIPELINE_VERSION})
    assert loaded.tokenizer.get_vocab() == world.build_tokenizer().get_vocab()
    torch.set_num_threads(2)
    scored = metrics.score(loaded.model, lab_data.recall_probes, pad_id=loaded.tokenizer.pad_token_id)
    assert metrics.completion_accuracy(scored, lab_data.recall_probes) >= 0.95


def test_pretrain_command_saves_a_loadable_checkpoint_with_its_record(tmp_path):
    from quizgen.lab import model

    out = tmp_path / "checkpoint"
    umask = os.umask(0o022)  # the usual one: files readable by others, unless a user's umask says otherwise
    try:
        result = CliRunner().invoke(cli.lab, ["pretrain", "--steps", "2", "--out", str(out), "--threads", "1"])
    finally:
        os.umask(umask)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"saved to {out}: recall ")
    info = model.checkpoint_info(out)
    assert info["config"]["steps"] == 2 and info["rebuild_command"] == "quizgen lab pretrain"
    assert info["run"]["loop"] == "quizgen.lab.train.train" and info["run"]["steps"] == 2
    assert info["parameters"] == sum(p.numel() for p in model.load_model(out).model.parameters())
    assert info["recall"] < 0.5  # two steps teach nothing: the recorded recall is measured, not assumed
    # Shared data, readable by other users (safetensors alone writes its file owner-only).
    assert {path.name: path.stat().st_mode & 0o044 for path in out.iterdir()} == {
        path.name: 0o044 for path in out.iterdir()}
