"""`quizgen lab …` and `quizgen verify`. Importing this module does not import torch.

The commands run under `quizgen.cli`'s group, which turns the QuizgenError that library code raises
into a message and exit status 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from quizgen.lab import cache, runner

THREADS_OPTION = click.option("--threads", type=click.IntRange(min=1), default=runner.DEFAULT_THREADS,
                              show_default=True,
                              help="Arms trained at once, each on one CPU thread; the results are the same for "
                                   "any count.")
DEVICE_OPTION = click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu",
                             show_default=True, help="Where to train; auto picks cuda when available.")
LABS_OPTION = click.option("--labs", "labs_folder", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="A folder of labs (one sub-folder per lab); default: the course labs that come "
                                "with quizgen.")
CACHE_OPTION = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                            default=cache.DEFAULT_CACHE_DIR, show_default=True, help="Where results are kept.")


def model_module_architectures() -> tuple[str, ...]:
    from quizgen.lab.model import ARCHITECTURES  # no torch: model.py imports transformers only when used

    return ARCHITECTURES


@click.group("lab")
def lab() -> None:
    """Run the labs that back the course's claims."""


@lab.command("list")
@LABS_OPTION
def list_labs(labs_folder: Path | None) -> None:
    """List the labs and the claims each one checks."""
    for spec in _discover(labs_folder).values():
        click.echo(f"{spec.id}: {spec.title}")
        for claim in spec.claims:
            click.echo(f"  {claim.name}")


@lab.command("run")
@click.argument("lab_id", metavar="ID")
@click.option("--seed", type=int, default=0, show_default=True, help="Fine-tuning seed.")
@DEVICE_OPTION
@click.option("--model", "model_dir", type=click.Path(path_type=Path), default=None,
              help="A local Hugging Face causal-LM directory to use instead of the shipped checkpoint.")
@THREADS_OPTION
@CACHE_OPTION
@click.option("--refresh", is_flag=True, help="Run again even when cached results exist.")
@click.option("--force", is_flag=True, help="Run on a --model that does not know the lab's world (its claims "
                                            "then say nothing about fine-tuning).")
@LABS_OPTION
def run(lab_id: str, seed: int, device: str, model_dir: Path | None, threads: int, cache_dir: Path,
        refresh: bool, force: bool, labs_folder: Path | None) -> None:
    """Run one lab (cached) and print its claims with the measured values."""
    _discover(labs_folder)  # a broken lab file is reported as a sentence before anything runs
    if model_dir is not None and not model_dir.is_dir():
        raise click.ClickException(f"--model {model_dir}: no such directory.")
    device = runner.resolve_device(device)
    results = runner.run_lab(lab_id, seed=seed, device=device, model_dir=model_dir, threads=threads,
                             cache_dir=cache_dir, refresh=refresh, labs=labs_folder, progress=_progress,
                             force=force, starting=lambda: _announce([(lab_id, seed)], device, threads, cache_dir))
    _print_results(results)
    click.echo(f"results: {results['directory']}")


@lab.command("pretrain")
@click.option("--seed", type=int, default=0, show_default=True)
@DEVICE_OPTION
@THREADS_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to save the model (default: the checkpoint shipped with quizgen).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Override the number of steps.")
@click.option("--arch", type=click.Choice(model_module_architectures()), default="gpt2", show_default=True,
              help="The architecture, at the in-house size (~0.85 M parameters).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Any Hugging Face causal-LM config.json (or a folder holding one) instead of --arch; its "
                   "vocabulary and special tokens become the world tokenizer's.")
def pretrain(seed: int, device: str, threads: int, out: Path | None, steps: int | None, arch: str,
             config_path: Path | None) -> None:
    """Pre-train a base model from scratch on the labs' world and save it with save_pretrained
    (by default the in-house GPT-2, into the checkpoint that ships with quizgen)."""
    from quizgen.files import writable_folder
    from quizgen.lab.model import CHECKPOINT_DIR, transformers_quiet
    from quizgen.lab.pretrain import pretrain as run_pretraining

    transformers_quiet()
    if out is None and (arch != "gpt2" or config_path is not None):
        raise click.ClickException("pass --out DIR: the shipped checkpoint is the in-house GPT-2 (--arch gpt2).")
    out = out or CHECKPOINT_DIR
    writable_folder(out)  # before minutes of training, not after
    info = run_pretraining(out, seed=seed, threads=threads, device=runner.resolve_device(device), steps=steps,
                           arch=arch, config_path=config_path)
    click.echo(f"saved to {out}: recall {info['recall']:.3f}, perplexity {info['perplexity']:.2f}, "
               f"{info['run']['tokens_seen']:,} tokens in {info['wall_s']:.0f} s")


@click.command("verify")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Run every lab with fine-tuning seeds 0..N-1; every claim must hold on each.")
@click.option("--content", type=click.Path(path_type=Path), default=Path("content"), show_default=True,
              help="The course whose questions name claims and metrics; its course.yml may name its labs.")
@DEVICE_OPTION
@THREADS_OPTION
@CACHE_OPTION
def verify(seeds: int, content: Path, device: str, threads: int, cache_dir: Path) -> None:
    """Run every lab of the course (cached) and check every claim it makes; exit 1 if any fails."""
    from quizgen.lab.references import metric_problems
    from quizgen.loader import load_course
    from quizgen.variants.measured import resolve

    course = load_course(content) if content.exists() else None  # unknown labs or claims: refused before any run
    labs_folder = course.labs if course else None
    labs = _discover(labs_folder)
    failures = 0
    results_by_lab: dict[str, list[dict]] = {}
    device = runner.resolve_device(device)
    pending = [(spec.id, seed) for spec in labs.values() for seed in range(seeds)
               if runner.cached_results(spec.id, seed=seed, device=device, cache_dir=cache_dir,
                                        labs=labs_folder) is None]
    estimates = _announce(pending, device, threads, cache_dir)
    for spec in labs.values():
        results_by_lab[spec.id] = []
        for seed in range(seeds):
            def starting(lab_id=spec.id, seed=seed):
                _progress(f"{lab_id} (seed {seed}): training, {_about(estimates[lab_id])}")

            results = runner.run_lab(spec.id, seed=seed, device=device, threads=threads, cache_dir=cache_dir,
                                     labs=labs_folder, progress=_progress, starting=starting)
            results_by_lab[spec.id].append(results)
            click.echo(f"{spec.id} (seed {seed}, {_how_long(results)})")
            failures += _print_claims(results["claims"])
        if seeds > 1:
            _print_margins(spec, results_by_lab[spec.id])
    problems = metric_problems(course, results_by_lab) if course else []
    for report in resolve(course, results_by_lab)[1] if course else []:
        click.echo(report.summary())  # how many variants of each lab-keyed question are usable
        problems += [report.problem()] if report.problem() else []
    for problem in problems:
        click.echo(str(problem), err=True)
    total = sum(len(spec.claims) for spec in labs.values()) * seeds
    click.echo(f"{total - failures} of {total} claim checks hold on {seeds} seed(s); "
               f"{len(problems)} problem(s) in {content}.")
    if failures or problems:
        raise click.exceptions.Exit(1)


def _progress(line: str) -> None:
    """What is being trained, as it happens: on stderr, so that stdout keeps the results."""
    click.echo(line, err=True)


def _estimate(lab_id: str, device: str, threads: int, cache_dir: Path) -> float | None:
    """About how many seconds a run of the lab takes here: the median of earlier runs in the cache."""
    timings = sorted(cache.earlier_timings(cache_dir, lab_id, device=device, threads=threads))
    return timings[len(timings) // 2] if timings else None


def _about(seconds: float | None) -> str:
    if seconds is None:
        return "no earlier run here to go by"
    return f"about {seconds:.0f} s" if seconds < 90 else f"about {seconds / 60:.0f} minutes"


def _announce(pending: list[tuple[str, int]], device: str, threads: int, cache_dir: Path) -> dict:
    """Say, before any training, what is about to be trained and about how long it takes (from earlier
    runs in the cache); {lab id: its estimate in seconds, or None}."""
    lab_ids = dict.fromkeys(lab_id for lab_id, _ in pending)  # each lab's earlier runs are read once
    estimates = {lab_id: _estimate(lab_id, device, threads, cache_dir) for lab_id in lab_ids}
    if not pending:
        return estimates
    known = [estimates[lab_id] for lab_id, _ in pending if estimates[lab_id] is not None]
    runs = f"{len(pending)} lab run{'' if len(pending) == 1 else 's'}"
    if len(known) == len(pending):
        how_long = f"{_about(sum(known))} (from earlier runs here)"
    else:
        how_long = (f"{len(pending) - len(known)} of them never ran here; a lab takes about half a minute "
                    "on two quiet cores" + (f", and the others {_about(sum(known))}" if known else ""))
    _progress(f"Training small language models for {runs} on {device} with {threads} thread"
              f"{'' if threads == 1 else 's'}: {how_long}. Results are kept in {cache_dir}, so a run with the "
              "same settings is not repeated.")
    return estimates


def _discover(folder: Path | None) -> dict:
    if folder is not None and not folder.is_dir():
        raise click.ClickException(f"--labs {folder}: no such folder.")
    labs = runner.discover(folder)  # a lab file that does not even import is a QuizgenError at its line
    if not labs:
        raise click.ClickException(f"No labs found in {runner.labs_dir(folder)} (a lab is a folder holding lab.py).")
    return labs


def _print_claims(claims: list[dict]) -> int:
    failed = 0
    for claim in claims:
        failed += not claim["passed"]
        click.echo(f"  {'PASS' if claim['passed'] else 'FAIL'} {claim['name']}: {claim['description']}")
        for condition in claim["conditions"]:
            click.echo(f"       {'✓' if condition['holds'] else '✗'} {condition['condition']}")
        measured = ", ".join(f"{name} = {_shown(value)}" for name, value in claim["values"].items())
        click.echo(f"       measured: {measured}")
    return failed


def _print_margins(spec, runs: list[dict]) -> None:
    """Per claim, each condition at its worst over the seeds: the value, the bound and the margin left."""
    click.echo(f"{spec.id}: each condition at its worst over {len(runs)} seeds")
    for claim in spec.claims:
        values = [{r["name"]: r for r in results["claims"]}[claim.name]["values"] for results in runs]
        click.echo(f"  {claim.name}")
        for condition in claim.conditions:
            margins = [(condition.margin(v), results["seed"], v) for v, results in zip(values, runs)]
            numeric = [m for m in margins if m[0] is not None]
            if not numeric:
                held = all(all(v.get(n) is not None for n in condition.metric_names()) and condition.holds(v)
                           for v in values)
                click.echo(f"       {condition.text}: {'holds on every seed' if held else 'fails on some seed'}")
                continue
            margin, seed, worst = min(numeric, key=lambda m: m[0])
            bound = condition.bound(worst)
            relative = f", {margin / abs(bound):+.0%} of the bound" if bound else ""
            click.echo(f"       {condition.text}: worst {condition.left} = {_shown(worst[condition.left])} "
                       f"(seed {seed}) against {_shown(bound)}: margin {margin:+.4g}{relative}")


def _shown(value) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"  # token counts
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _how_long(results: dict) -> str:
    took = f"ran in {results['timings']['total_s']:.1f} s"
    return f"cached, {took}" if results["cached"] else took


def _print_results(results: dict) -> None:
    click.echo(f"{results['lab']} (seed {results['seed']}, {results['device']}, {results['threads']} threads, "
               f"{_how_long(results)})")
    for arm, values in results["metrics"].items():
        if isinstance(values, dict) and "recall" in values:
            shown = ", ".join(f"{name} {values[name]:.3g}" for name in
                              ("recall", "train_accuracy", "heldout_accuracy", "perplexity", "relative_drift")
                              if name in values)
            click.echo(f"  {arm}: {shown}")
    failed = _print_claims(results["claims"])
    click.echo(f"{len(results['claims']) - failed} of {len(results['claims'])} claims hold.")
