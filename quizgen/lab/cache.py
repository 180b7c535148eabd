"""Lab results on disk, keyed by a hash of every setting that can change them.

Computing a key imports neither torch nor transformers, so a site build can reuse cached results
without them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from quizgen import versions
from quizgen.errors import QuizgenError
from quizgen.lab.world import DATA_PIPELINE_VERSION

DEFAULT_CACHE_DIR = Path("build") / "lab-cache"
LIBRARIES = ("torch", "transformers", "tokenizers", "numpy")


def library_versions() -> dict[str, str]:
    return versions.library_versions(LIBRARIES)


def settings_hash(settings: dict) -> str:
    """A stable hash of JSON-able settings (key order does not matter)."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def cache_key(settings: dict) -> str:
    """The settings, plus what else changes a result: the data pipeline and the library versions."""
    return settings_hash(
        settings | {"data_pipeline_version": DATA_PIPELINE_VERSION, "libraries": library_versions()}
    )


def result_dir(cache_dir: Path, lab_id: str, key: str) -> Path:
    return Path(cache_dir) / lab_id / key


def load(cache_dir: Path, lab_id: str, key: str) -> dict | None:
    path = result_dir(cache_dir, lab_id, key) / "results.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a damaged entry is recomputed, not trusted


def earlier_timings(cache_dir: Path, lab_id: str, *, device: str, threads: int) -> list[float]:
    """Seconds that earlier runs of ``lab_id`` kept in the cache took on ``device`` with ``threads``
    (any seed, any version of the lab): what an estimate of the next run goes by."""
    timings = []
    for path in sorted((Path(cache_dir) / lab_id).glob("*/results.json")):
        try:
            results = json.loads(path.read_text())
            if results.get("device") == device and results.get("threads") == threads:
                timings.append(float(results["timings"]["total_s"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged or foreign entry says nothing about how long a run takes
    return timings


def ensure_writable(cache_dir: Path, lab_id: str) -> None:
    """A plain error unless results of ``lab_id`` can be stored in ``cache_dir``."""
    folder = Path(cache_dir) / lab_id
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        raise QuizgenError(
            f"the lab cache '{cache_dir}' is not writable ({error.strerror}): results of {lab_id} with these "
            "settings are not there yet, and quizgen keeps them there once computed. Pass a writable "
            "--cache-dir, or run `quizgen verify` where the cache can be written.") from None


def store(cache_dir: Path, lab_id: str, key: str, results: dict, files: dict[str, bytes]) -> Path:
    """Write results.json and its plots atomically: a half-written entry is never read as a hit."""
    final = result_dir(cache_dir, lab_id, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{key}-"))
    staging.chmod(0o755)  # mkdtemp makes it private; results are for everyone who builds the site
    for name, content in files.items():
        (staging / name).write_bytes(content)
    (staging / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    if final.exists():
        old = final.with_name(f".{key}-old-{os.getpid()}")
        final.rename(old)
        staging.rename(final)
        for path in old.iterdir():
            path.unlink()
        old.rmdir()
    else:
        staging.rename(final)
    return final
