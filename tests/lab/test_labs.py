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

from quizgen.cli import cli as quizgen_cli  # noqa: E402
from quizgen.lab import cli, runner  # noqa: E402
from paths import ROOT  # noqa: E402

REPO_LABS = ROOT / "labs"
# Every step count shrunk, so that each lab runs in seconds; the code paths stay the same.
TINY = {
    # keeping-knowledge takes the initialization lab's (shrunk) recipe from beside it (runner.sibling)
    "initialization": {r"steps=90": "steps=2", r"steps=200": "steps=4", r"GRID_STEPS = \(45, 90\)": "GRID_STEPS = (1, 2)"},
    "keeping-knowledge": {r"EARLY_STOPPING_EVERY = 10": "EARLY_STOPPING_EVERY = 2"},
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
    # The tiny model is random, so it does not know the world: --force runs it anyway, and says so.
    result = CliRunner().invoke(cli.lab, ["run", lab_id, "--model", str(tiny_llama_dir), "--threads", "1", "--force",
                                          "--cache-dir", str(tiny_labs / "cache"), "--labs", str(tiny_labs / "labs")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    assert f"warning: --model {tiny_llama_dir} recalls 0% of the facts" in result.stderr
    directory = Path(result.stdout.strip().splitlines()[-1].removeprefix("results: "))
    results = json.loads((directory / "results.json").read_text())
    assert results["settings"]["model"] == runner.model_fingerprint(tiny_llama_dir)
    assert results["threads"] == 1 and results["seed"] == 0 and results["libraries"]["torch"]
    assert {c["name"] for c in results["claims"]} == {c.name for c in runner.get_lab(lab_id).claims}
    assert results["plots"] and all((directory / name).read_bytes().startswith(b"<?xml") for name in results["plots"])
    for claim in results["claims"]:
        assert f"{'PASS' if claim['passed'] else 'FAIL'} {claim['name']}:" in result.output


def test_a_run_says_what_it_trains_before_and_each_arm_as_it_ends(tiny_labs, tiny_llama_dir):
    def run(*extra):
        result = CliRunner().invoke(cli.lab, ["run", "sft-objective", "--model", str(tiny_llama_dir), "--threads", "1",
                                              "--force", "--cache-dir", str(tiny_labs / "cache"),
                                              "--labs", str(tiny_labs / "labs"), *extra])
        assert result.exit_code == 0, result.output
        return result.stderr.splitlines()

    first = run()
    notice = [line for line in first if line.startswith("Training small language models")]
    assert notice == [f"Training small language models for 1 lab run on cpu with 1 thread: 1 of them never ran "
                      f"here; a lab takes about half a minute on two quiet cores. Results are kept in "
                      f"{tiny_labs / 'cache'}, so a run with the same settings is not repeated."]
    arms = [line for line in first if line.startswith("  ")]
    assert [line.split(":")[0] for line in arms] == ["  response_only", "  all_tokens", "  loss probe", "  loss probe"]
    assert re.fullmatch(r"  response_only: 3 steps in \d+\.\d s, last loss \S+", arms[0])
    assert run() == []  # cached: nothing to train, nothing said
    again = run("--refresh")  # an earlier run now gives the estimate
    assert re.match(r"Training small language models for 1 lab run on cpu with 1 thread: about \d+ s \(from earlier "
                    r"runs here\)\.", again[1])


def test_a_model_without_a_pretraining_record_cannot_back_the_pretraining_claims(tiny_labs, tiny_llama_dir):
    results = runner.run_lab("ift-vs-pretraining", model_dir=tiny_llama_dir, threads=1, cache_dir=tiny_labs / "cache",
                             labs=tiny_labs / "labs", force=True)
    claims = {c["name"]: c for c in results["claims"]}
    assert claims["finetuning-data-tiny"]["values"]["pretraining.tokens_seen"] is None
    assert not claims["finetuning-data-tiny"]["passed"]
    # The live replay still shows both phases running through the same loop.
    assert results["metrics"]["pretraining_replay"]["loop"] == results["metrics"]["finetuning"]["loop"]


def test_lab_results_are_bit_identical_for_the_same_seed_and_threads(tiny_labs, tiny_llama_dir):
    def metrics(cache_dir, seed=0):
        results = runner.run_lab("sft-objective", model_dir=tiny_llama_dir, threads=1, seed=seed, cache_dir=cache_dir,
                                 labs=tiny_labs / "labs", force=True)
        return json.dumps(_without_timings(results["metrics"]), sort_keys=True)
    first, second = metrics(tiny_labs / "a"), metrics(tiny_labs / "b")
    assert first == second
    assert metrics(tiny_labs / "a", seed=1) != first


@pytest.mark.parametrize("arch", ["llama", "gpt-neox"])
def test_a_model_that_does_not_know_the_world_is_refused_before_training(tmp_path, tiny_labs, arch):
    """`lab pretrain --arch` builds other architectures on the world; two steps teach them nothing, so a
    lab run on one is refused with a plain sentence that says what to run (and nothing is trained)."""
    model_dir = tmp_path / arch
    result = CliRunner().invoke(cli.lab, ["pretrain", "--arch", arch, "--steps", "2", "--out", str(model_dir),
                                          "--threads", "1"])
    assert result.exit_code == 0, result.output
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == arch.replace("-", "_") and config["vocab_size"] == 428
    result = CliRunner().invoke(quizgen_cli, ["lab", "run", "sft-objective", "--model", str(model_dir), "--threads",
                                              "1", "--cache-dir", str(tmp_path / "cache"),
                                              "--labs", str(tiny_labs / "labs")])
    assert result.exit_code == 1
    recall = re.search(r"recalls (\d+)% of the facts", result.stderr)
    assert recall and int(recall.group(1)) < 10
    assert result.stderr.splitlines() == [(
        f"Error: --model {model_dir} recalls {recall.group(1)}% of the facts of the labs' world; the labs fine-tune a model "
        "that knows at least 90% of them (the shipped checkpoint knows all but a few), and their claims say "
        "nothing about one that does not. Pre-train it on the world first: `quizgen lab pretrain --config "
        f"{model_dir / 'config.json'} --out DIR`, then pass --model DIR (or pass --force to run anyway).")]
    assert not list((tmp_path / "cache").glob("*/*/results.json"))


def test_pretrain_takes_any_causal_lm_config_and_refuses_what_is_not_one(tmp_path):
    from transformers import GPTNeoXConfig, T5Config

    GPTNeoXConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                  max_position_embeddings=128).save_pretrained(tmp_path / "neox")
    result = CliRunner().invoke(cli.lab, ["pretrain", "--config", str(tmp_path / "neox" / "config.json"),
                                          "--steps", "1", "--out", str(tmp_path / "out"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert saved["hidden_size"] == 32 and saved["vocab_size"] == 428 and saved["eos_token_id"] == 3
    T5Config().save_pretrained(tmp_path / "t5")
    GPTNeoXConfig(max_position_embeddings=16).save_pretrained(tmp_path / "short")
    for folder, says in (("t5", "a t5 config has no causal language model in transformers"),
                         ("short", "16 positions; the labs need at least 64"), ("missing", "no such file")):
        result = CliRunner().invoke(quizgen_cli, ["lab", "pretrain", "--config", str(tmp_path / folder), "--steps",
                                                  "1", "--out", str(tmp_path / "never")])
        assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output, result.output
    result = CliRunner().invoke(cli.lab, ["pretrain", "--arch", "llama", "--steps", "1"])
    assert result.exit_code == 1 and "pass --out DIR" in result.output


def test_a_tokenizer_without_an_end_of_sequence_token_is_a_plain_sentence(tmp_path, tiny_llama_dir):
    config = json.loads((tiny_llama_dir / "tokenizer_config.json").read_text())
    config.pop("eos_token")
    (tiny_llama_dir / "tokenizer_config.json").write_text(json.dumps(config))
    result = CliRunner().invoke(quizgen_cli, ["lab", "run", "sft-objective", "--model", str(tiny_llama_dir),
                                              "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-1].startswith(
        f"Error: The tokenizer in {tiny_llama_dir} has no end-of-sequence token: the labs end every answer with one")


@pytest.mark.parametrize("lab_id", sorted(TINY))
def test_lab_results_are_the_same_for_any_thread_count(tiny_labs, tiny_llama_dir, lab_id):
    """--threads is how many arms train at once (forked workers), not how each computes."""
    def metrics(threads):
        results = runner.run_lab(lab_id, model_dir=tiny_llama_dir, threads=threads, cache_dir=tiny_labs / f"t{threads}",
                                 labs=tiny_labs / "labs", force=True)
        assert results["threads"] == threads and not results["cached"]
        return json.dumps(_without_timings(results["metrics"]), sort_keys=True)
    assert metrics(1) == metrics(2)


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if not k.endswith("wall_s")}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
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
