"""Finding labs, running one (or reading its cached results), and what a lab script is handed.

A lab is a folder `<labs>/<id>/` (its name is the id a concept's `lab:` names) holding `lab.py`, which
defines TITLE, its configuration as UPPER_CASE constants, CLAIMS and `run(lab) -> metrics`, and
optionally its notebook's recipe (`notebook.py`, see quizgen.notebooks.recipe) and its exercises
(`exercises.py`, see quizgen.notebooks.exercises). `lab` is a `LabContext`: the pre-trained model, the
data, the one training loop and the metrics, bound to the run's seed and device.

The labs folder is the course's (`labs:` in its course.yml), else the course labs shipped with quizgen.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.util
import itertools
import json
import os
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from quizgen.errors import QuizgenError
from quizgen.lab import cache
from quizgen.lab.claims import Claim
from quizgen.lab.model import checkpoint_info, model_fingerprint

# OpenMP threads that wait for work by sleeping, not spinning: on a laptop busy with other programs,
# libgomp's default active waiting makes the training threads fight for the cores (beside two busy
# processes, a 13 s lab took 38 s by default, 32 s with this). It only takes effect if set before
# torch loads, so it is set here, where every lab run and lab notebook starts; a user's own value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ENGINE_DIR = Path(__file__).parent
# Modules whose code changes what a lab measures; their source is part of every cache key.
ENGINE_MODULES = ("world", "data", "model", "activations", "train", "metrics", "claims", "runner", "plots", "pretrain", "remedies")
# How many arms of a lab train at once on a CPU, each in its own forked process (--threads). Each arm
# trains on TRAINING_THREADS torch threads: at the labs' batch sizes a second thread bought nothing
# (89.7 vs 97.0 ms a step on 2 cores), while two arms side by side take half the time. It also makes a
# lab's numbers the same for any --threads, and a notebook's (which trains in its kernel, on one thread)
# the same as the course's reference run.
DEFAULT_THREADS = 2
TRAINING_THREADS = 1


LAB_FILE = "lab.py"
# A lab's id as a concept's `lab:` may name it: questions.base.SLUG_PATTERN, written out because the
# sandbox's copy of the lab engine (grade/sandbox.py RUNTIME_FILES) has no quizgen.questions.
_LAB_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def shipped_labs() -> Path:
    """The course labs that come with quizgen: `quizgen/labs/` in a wheel, `labs/` in a source checkout."""
    package = ENGINE_DIR.parent
    installed = package / "labs"
    return installed if installed.is_dir() else package.parent / "labs"


def labs_dir(directory: Path | None = None) -> Path:
    return Path(directory) if directory is not None else shipped_labs()


@dataclass(frozen=True)
class LabSpec:
    id: str
    title: str
    folder: Path
    module: ModuleType

    @property
    def path(self) -> Path:
        return self.folder / LAB_FILE

    @functools.cached_property
    def notebook(self) -> ModuleType | None:
        """The lab's notebook recipe (notebook.py), or None: the generic notebook."""
        path = self.folder / "notebook.py"
        return _load_module(path, f"{self.id}.notebook") if path.is_file() else None

    @functools.cached_property
    def exercises(self) -> dict:
        """{name: Exercise} of the lab's exercises.py, in written order; {} without one."""
        path = self.folder / "exercises.py"
        if not path.is_file():
            return {}
        module = _load_module(path, f"{self.id}.exercises")
        exercises = {exercise.name: exercise for exercise in getattr(module, "EXERCISES", ())}
        if not exercises:
            raise QuizgenError("exercises.py defines no EXERCISES", path)
        return exercises

    def validate(self) -> None:
        """Load the notebook recipe and the exercises too, and check the recipe against them: what
        `check` and `build` both refuse."""
        self.exercises  # noqa: B018 - loading it is the check
        if self.notebook is not None:
            from quizgen.notebooks.recipe import check_recipe

            check_recipe(self)

    @property
    def grids(self) -> dict[str, dict[str, list]]:
        """{grid metric: {axis: values}}: the lab's GRIDS, the grids generated questions may read."""
        return self.config.get("GRIDS", {})

    @property
    def claims(self) -> list[Claim]:
        return list(self.module.CLAIMS)

    @property
    def config(self) -> dict:
        """Every UPPER_CASE constant of the lab file that is plain data: its configuration."""
        config = {}
        for name, value in vars(self.module).items():
            if name.isupper() and name not in ("TITLE", "CLAIMS"):
                try:
                    config[name] = json.loads(json.dumps(value))
                except TypeError:
                    continue
        return config


def _load_module(path: Path, name: str) -> ModuleType:
    """A lab's file as a module; a file that does not even import is a QuizgenError at its line."""
    spec = importlib.util.spec_from_file_location(f"quizgen_labs.{name}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - whatever a lab file raises, the user fixes it there
        reason = error.msg if isinstance(error, SyntaxError) else str(error)
        raise QuizgenError(f"cannot load the lab: {type(error).__name__}: {reason}", path,
                           _line_in(path, error)) from None
    return module


def _line_in(path: Path, error: Exception) -> int:
    """The line of ``path`` where ``error`` arose: its own syntax error, else its deepest frame there."""
    if isinstance(error, SyntaxError) and error.filename == str(path) and error.lineno:
        return error.lineno
    lines = [line for frame, line in traceback.walk_tb(error.__traceback__) if frame.f_code.co_filename == str(path)]
    return lines[-1] if lines else 1


def discover(directory: Path | None = None) -> dict[str, LabSpec]:
    """Every lab in ``directory`` (default: the shipped labs), read without running it or importing torch."""
    labs = {}
    for path in sorted(labs_dir(directory).glob(f"*/{LAB_FILE}")):
        lab_id = path.parent.name
        if lab_id.startswith(("_", ".")):
            continue
        if not _LAB_ID.match(lab_id):
            raise QuizgenError(f"a lab folder's name is its id, in lower case with hyphens (like 'sft-objective'), "
                               f"not '{lab_id}'", path.parent)
        module = _load_module(path, lab_id)
        if not callable(getattr(module, "run", None)):
            raise QuizgenError("the lab defines no run(lab) function", path)
        labs[lab_id] = LabSpec(lab_id, getattr(module, "TITLE", lab_id), path.parent, module)
    return labs


def sibling(lab_file: str, lab_id: str) -> ModuleType:
    """The lab ``lab_id`` of the same labs folder as ``lab_file``, loaded as a module: for a lab that
    shares another's recipe (``AGGRESSIVE = sibling(__file__, "initialization").AGGRESSIVE``). What it
    takes becomes its own UPPER_CASE constants, so a change there changes its configuration and cache key."""
    path = Path(lab_file).parent.parent / lab_id / LAB_FILE
    if not path.is_file():
        raise QuizgenError(f"this lab takes its recipe from the lab '{lab_id}', which is not beside it", Path(lab_file))
    return _load_module(path, lab_id)


def get_lab(lab_id: str, directory: Path | None = None) -> LabSpec:
    labs = discover(directory)
    if lab_id not in labs:
        known = ", ".join(sorted(labs)) or f"none in {labs_dir(directory)}"
        raise QuizgenError(f"There is no lab named '{lab_id}' (known labs: {known}).")
    return labs[lab_id]


def claim_names(directory: Path | None = None) -> dict[str, list[str]]:
    """{lab id: the names of its claims}: what a course may name."""
    return {lab_id: [claim.name for claim in spec.claims] for lab_id, spec in discover(directory).items()}


def resolve_device(device: str) -> str:
    if device == "cpu":
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise QuizgenError("--device cuda was asked for, but torch sees no CUDA device here.")
    return device


def _engine_source_hash() -> str:
    digest = hashlib.sha256()
    for name in ENGINE_MODULES:
        digest.update((ENGINE_DIR / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


def lab_settings(spec: LabSpec, *, seed: int, device: str, model_dir: str | Path | None) -> dict:
    """Every setting that can change a lab's results (the cache adds data pipeline and libraries); not
    the thread count, which changes how many arms run at once, not what each computes."""
    return {
        "lab": spec.id,
        "lab_source": hashlib.sha256(spec.path.read_bytes()).hexdigest()[:16],
        "config": spec.config,
        "seed": seed,
        "device": device,
        "model": model_fingerprint(model_dir),
        "engine_source": _engine_source_hash(),
    }


def cached_results(lab_id: str, *, seed: int = 0, device: str = "cpu", model_dir: str | Path | None = None,
                   cache_dir: Path = cache.DEFAULT_CACHE_DIR, labs: Path | None = None) -> dict | None:
    """Results of an earlier run with exactly these settings (any thread count gives the same), without
    importing torch; None if none.

    For renderers: `results["directory"]` holds results.json and the PNGs named in `results["plots"]`.
    """
    spec = get_lab(lab_id, labs)
    key = cache.cache_key(lab_settings(spec, seed=seed, device=device, model_dir=model_dir))
    hit = cache.load(cache_dir, lab_id, key)
    return None if hit is None else hit | {"cached": True, "directory": str(cache.result_dir(cache_dir, lab_id, key))}


def run_lab(lab_id: str, *, seed: int = 0, device: str = "cpu", threads: int = DEFAULT_THREADS,
            model_dir: str | Path | None = None, cache_dir: Path = cache.DEFAULT_CACHE_DIR,
            refresh: bool = False, labs: Path | None = None, progress=None, force: bool = False,
            starting=None) -> dict:
    """Run a lab of the folder ``labs`` (or reuse its cached results) and return its results, claims evaluated.

    ``progress(line)``, when given, is told of each training run as it ends (the loop itself draws a
    bar with its ETA on a terminal). A ``model_dir`` that does not know the lab's world is refused
    before any training, unless ``force``; ``starting()`` is called just before training starts (not
    for a cached result, nor for a refused model). ``threads`` arms train at once (LabContext.parallel),
    each on TRAINING_THREADS threads, so the results are the same for any ``threads``."""
    spec = get_lab(lab_id, labs)
    device = resolve_device(device)
    settings = lab_settings(spec, seed=seed, device=device, model_dir=model_dir)
    key = cache.cache_key(settings)
    if not refresh and (hit := cache.load(cache_dir, lab_id, key)) is not None:
        return hit | {"cached": True, "directory": str(cache.result_dir(cache_dir, lab_id, key))}
    cache.ensure_writable(cache_dir, lab_id)  # say so now, not after minutes of training

    import torch

    torch.set_num_threads(TRAINING_THREADS)
    started = time.perf_counter()
    context = LabContext(seed=seed, device=device, model_dir=model_dir, progress=progress, workers=threads)
    if model_dir is not None:
        context.check_knows_the_world(force=force)
    if starting is not None:
        starting()
    metrics = spec.module.run(context)
    claims = [claim.evaluate(metrics).to_json() for claim in spec.claims]
    results = {
        "lab": spec.id,
        "title": spec.title,
        "key": key,
        "config_hash": cache.settings_hash(spec.config),
        "settings": settings,
        "seed": seed,
        "threads": threads,
        "device": device,
        "libraries": cache.library_versions(),
        "data_pipeline_version": cache.DATA_PIPELINE_VERSION,
        "metrics": metrics,
        "claims": claims,
        "plots": sorted(context.figures),
        "timings": {"total_s": time.perf_counter() - started, "load_s": context.load_s},
    }
    directory = cache.store(cache_dir, lab_id, key, results, context.figures)
    return results | {"cached": False, "directory": str(directory)}


_jobs: list | None = None  # what LabContext.parallel's forked workers run: inherited, never pickled
_context: LabContext | None = None  # the lab those workers evaluate for (LabContext.evaluate_later)
_in_worker = False
_later_keys = itertools.count()


@dataclass(frozen=True)
class Later:
    """An evaluation a job of LabContext.parallel asked for (LabContext.evaluate_later): the weights, as
    torch.save bytes, under a key unique in the run. `parallel` puts the metrics in its place."""

    key: tuple[int, int]
    weights: bytes


def _run_job(index: int):
    """In a forked worker: one job of LabContext.parallel, on TRAINING_THREADS threads and without a
    progress bar of its own (the parent draws one for all; each training run still says when it ends)."""
    import torch

    from quizgen.lab import train

    global _in_worker
    torch.set_num_threads(TRAINING_THREADS)
    train.PROGRESS_BARS = False
    _in_worker = True
    return "job", index, _jobs[index]()


def _run_later(later: Later):
    """In a forked worker: an evaluation a job deferred (LabContext.evaluate_later)."""
    import io

    import torch

    torch.set_num_threads(TRAINING_THREADS)
    state = torch.load(io.BytesIO(later.weights), weights_only=True)
    return "later", later.key, _context.evaluate(_context.with_weights(state))


def _laters(value):
    """Every Later inside ``value`` (nested dicts, lists and tuples)."""
    if isinstance(value, Later):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _laters(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _laters(item)


def _resolved(value, evaluated: dict):
    """``value`` with every Later replaced by the metrics its evaluation returned."""
    if isinstance(value, Later):
        return evaluated[value.key]
    if isinstance(value, dict):
        return {key: _resolved(item, evaluated) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_resolved(item, evaluated) for item in value)
    return value


class LabContext:
    """What a lab script works with; every training call uses the run's seed and device."""

    def __init__(self, *, seed: int, device: str, model_dir: str | Path | None, progress=None, workers: int = 1):
        from quizgen.lab.data import build_lab_data
        from quizgen.lab.model import load_model, transformers_quiet

        started = time.perf_counter()
        transformers_quiet()
        self.seed, self.device, self.model_dir, self.progress = seed, device, model_dir, progress
        self.workers = workers
        self.base = load_model(model_dir)
        self.tokenizer = self.base.tokenizer
        self.pad_id = self.tokenizer.pad_token_id
        self.data = build_lab_data(self.tokenizer)
        self.reference = {k: v.detach().clone() for k, v in self.base.model.state_dict().items()}
        self.figures: dict[str, bytes] = {}
        self.load_s = time.perf_counter() - started

    def parallel(self, jobs: list) -> list:
        """[job() for job in jobs], with up to ``workers`` jobs at once in forked processes on a CPU (one
        after the other on a GPU, or with one worker). Jobs are a lab's independent arms: each seeds its
        own randomness from the run's seed and trains on TRAINING_THREADS threads, so the results do not
        depend on how many run at once or in which order. A job's exception is raised here.

        The evaluations a job defers (``evaluate_later``) join the queue as the job ends and run on
        whichever worker is free: five arms on two workers would otherwise leave one idle while the other
        evaluates its third arm."""
        global _jobs, _context
        import multiprocessing
        import queue

        workers = min(self.workers, len(jobs))
        if workers < 2 or self.device != "cpu" or "fork" not in multiprocessing.get_all_start_methods():
            return [job() for job in jobs]
        from tqdm.auto import tqdm

        results: list = [None] * len(jobs)
        evaluated: dict = {}
        arrived = queue.SimpleQueue()
        _jobs, _context = jobs, self
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool, \
                    tqdm(total=len(jobs), desc=f"{workers} arms at a time", unit="arm", leave=False,
                         disable=None) as bar:
                def submit(function, argument):
                    pool.apply_async(function, (argument,), callback=arrived.put, error_callback=arrived.put)

                for index in range(len(jobs)):
                    submit(_run_job, index)
                outstanding = len(jobs)
                while outstanding:
                    item = arrived.get()
                    outstanding -= 1
                    if isinstance(item, BaseException):
                        raise item
                    kind, key, value = item
                    if kind == "later":
                        evaluated[key] = value
                        continue
                    results[key] = value
                    bar.update()
                    for later in _laters(value):
                        submit(_run_later, later)
                        outstanding += 1
        finally:
            _jobs, _context = None, None
        return [_resolved(value, evaluated) for value in results]

    def check_knows_the_world(self, *, force: bool) -> float:
        """The model's recall of the world's facts; a QuizgenError, unless ``force``, when it is below
        MIN_RECALL: fine-tuning a model that never learnt the facts measures nothing the course claims."""
        from quizgen.lab.metrics import completion_accuracy, score
        from quizgen.lab.model import MIN_RECALL

        probes = self.data.recall_probes
        recall = completion_accuracy(score(self.base.model.to(self.device), probes, self.device, self.pad_id), probes)
        if recall < MIN_RECALL:
            said = (f"--model {self.model_dir} recalls {recall:.0%} of the facts of the labs' world; the labs "
                    f"fine-tune a model that knows at least {MIN_RECALL:.0%} of them (the shipped checkpoint "
                    "knows all but a few), and their claims say nothing about one that does not.")
            if not force:
                raise QuizgenError(said + " Pre-train it on the world first: `quizgen lab pretrain --config "
                                   f"{Path(self.model_dir) / 'config.json'} --out DIR`, then pass --model DIR "
                                   "(or pass --force to run anyway).")
            if self.progress is not None:
                self.progress(f"warning: {said} Running anyway (--force).")
        return recall

    def pretrained(self):
        """A fresh copy of the pre-trained model, on the run's device."""
        return copy.deepcopy(self.base.model).to(self.device)

    def random_init(self):
        """The same architecture with freshly initialised weights (seeded by the run's seed)."""
        from quizgen.lab.model import random_model

        return random_model(self.base.model.config, self.seed).to(self.device)

    def with_weights(self, state: dict):
        model = self.pretrained()
        model.load_state_dict(state)
        return model

    def finetune(self, model, *, desc: str, **settings):
        """Fine-tune on the ~200 instruction/response pairs through the one training loop; with
        ``replay_per_step``, that many pre-training sentences join each batch."""
        if settings.get("replay_per_step"):
            settings = settings | {"replay": self.data.pretraining}
        return self._train(model, self.data.finetune_train, desc, settings)

    def pretrain_phase(self, model, *, desc: str, **settings):
        """Train on the pre-training corpus through the same loop."""
        return self._train(model, self.data.pretraining, desc, settings)

    def _train(self, model, sequences, desc: str, settings: dict):
        from quizgen.lab.train import train

        run = train(model, sequences, seed=self.seed, device=self.device, pad_id=self.pad_id, desc=desc, **settings)
        if self.progress is not None and run.steps:
            steps = f"{run.steps} step{'' if run.steps == 1 else 's'}"
            self.progress(f"  {desc}: {steps} in {run.elapsed_s[-1]:.1f} s, last loss {run.losses[-1]:.3g}")
        return run

    def evaluate(self, model) -> dict:
        from quizgen.lab.metrics import evaluate

        started = time.perf_counter()
        metrics = evaluate(model, self.data, self.reference, self.device, self.pad_id)
        return metrics | {"eval_wall_s": time.perf_counter() - started}

    def evaluate_later(self, state: dict):
        """``evaluate(with_weights(state))``; inside a job of ``parallel``, a Later that ``parallel`` replaces
        by those metrics once a free worker has computed them (so a job's evaluations do not hold up its
        worker). Outside ``parallel``'s workers it evaluates at once."""
        if not _in_worker:
            return self.evaluate(self.with_weights(state))
        import io

        import torch

        buffer = io.BytesIO()
        torch.save({name: value.detach().cpu() for name, value in state.items()}, buffer)
        return Later((os.getpid(), next(_later_keys)), buffer.getvalue())

    def validation_nll(self, model) -> float:
        from quizgen.lab.metrics import validation_nll

        return validation_nll(model, self.data, self.device, self.pad_id)

    def pretraining_record(self) -> dict | None:
        """What `quizgen lab pretrain` recorded about the checkpoint in use (None for other models)."""
        return checkpoint_info(Path(self.model_dir)) if self.model_dir else checkpoint_info()

    def figure(self, name: str, png: bytes) -> None:
        self.figures[name] = png
