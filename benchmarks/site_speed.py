"""Time the quiz site build against MkDocs + mkdocs-quiz on the same synthetic course, and the
rebuild `quizgen serve` does after one concept file is edited.

    pip install -e '.[bench]'             # the pinned mkdocs and mkdocs-quiz; or pass --mkdocs PATH
    python benchmarks/site_speed.py [--concepts 1000] [--runs 5] [--mkdocs PATH]

Targets (issue 5): quizgen at least 2x faster than MkDocs (median wall time of fresh processes,
measured in the same run), its site at most a quarter of MkDocs' size, and a rebuild after editing
one concept within 1 s. quizgen is timed cold (parse cache off, as MkDocs has none) for the target,
and warm (an unchanged course built again) for information.

The MkDocs project holds the same pages and questions: each concept's explanation, then each
question as a mkdocs-quiz block (choice/multi/truefalse with per-option feedback, numeric and
short as fill-in-the-blank, critiques as their task, rubric table and exemplar), default theme and
plugins (search + mkdocs_quiz), the `tables` extension. Writes benchmarks/out/site_speed.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402
from synthetic_course import write_course  # noqa: E402


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


# --- the same course as a MkDocs project ------------------------------------------------------------


def mkdocs_project(course_dir: Path, project: Path) -> None:
    from quizgen.loader import load_course

    course = load_course(course_dir)
    docs = project / "docs"
    docs.mkdir(parents=True)
    (docs / "index.md").write_text(f"# {course.title}\n\n{course.description}\n", encoding="utf-8")
    for concept in course.concepts:
        parts = [f"# {concept.title}\n", concept.explanation, "\n## Questions\n", "<!-- mkdocs-quiz intro -->\n"]
        parts += [mkdocs_question(question) for question in concept.questions]
        parts.append("<!-- mkdocs-quiz results -->\n")
        (docs / f"{concept.id}.md").write_text("\n".join(parts), encoding="utf-8")
    (project / "mkdocs.yml").write_text(
        f"site_name: {course.title}\nplugins:\n  - search\n  - mkdocs_quiz\nmarkdown_extensions:\n  - tables\n",
        encoding="utf-8",
    )


def mkdocs_question(question) -> str:
    head = f"### {question.title}\n\n"
    if question.type in ("choice", "multi", "truefalse"):
        options = []
        for option in question.options:
            options.append(f"- [{'x' if option.correct else ' '}] {option.text}")
            if option.feedback:
                options += [f"    > {line}" for line in option.feedback.splitlines()]
        return f"{head}<quiz>\n{question.stem}\n\n" + "\n".join(options) + f"\n\n{question.explanation}\n</quiz>\n"
    if question.type == "numeric":
        return f"{head}<quiz>\n{question.stem}\n\nYour answer: [[{question.answer:g}]]\n\n{question.explanation}\n</quiz>\n"
    if question.type == "short":
        return f"{head}<quiz>\n{question.stem}\n\nYour answer: [[{question.accepted[0]}]]\n\n{question.explanation}\n</quiz>\n"
    rows = "\n".join(f"| {c.name} | {c.points:g} | {c.full} | {c.partial or '—'} | {c.none} |" for c in question.rubric)
    return (f"{head}{question.stem}\n\n**Task.** {question.task}\n\n"
            "| Criterion | Points | Full credit | Partial credit | No credit |\n|---|---|---|---|---|\n"
            f"{rows}\n\n**Exemplar.** {question.exemplar}\n\n{question.explanation}\n")


# --- timing -----------------------------------------------------------------------------------------


def timed(command: list[str], cwd: Path | None = None, env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def rebuild_timings(course_dir: Path, out: Path, edits: int) -> list[float]:
    """Seconds from an edited concept file on disk to the site on disk updated, as `serve` does it."""
    from quizgen.site.serve import Preview

    preview = Preview(course_dir, out, results={})
    preview.rebuild()
    files = sorted(course_dir.glob("*.md"))
    timings = []
    for n in range(edits):
        path = files[(n * 37) % len(files)]
        path.write_text(path.read_text(encoding="utf-8").replace("## Questions", f"Edit {n}.\n\n## Questions", 1),
                        encoding="utf-8")
        start = time.perf_counter()
        report = preview.rebuild()
        timings.append(time.perf_counter() - start)
        assert report.pages_written >= 1, report
    return timings


def find_mkdocs(given: str | None) -> str | None:
    if given:
        return given
    beside = Path(sys.executable).with_name("mkdocs")
    return str(beside) if beside.exists() else shutil.which("mkdocs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--edits", type=int, default=7, help="single-concept rebuilds to time")
    parser.add_argument("--mkdocs", help="the mkdocs executable (default: beside this Python, then PATH)")
    args = parser.parse_args()
    mkdocs = find_mkdocs(args.mkdocs)
    header = record.start("site_speed", ["mkdocs", "mkdocs-quiz"])
    if mkdocs:  # --mkdocs may name another environment's: say which one ran
        header["mkdocs"] = subprocess.run([mkdocs, "--version"], capture_output=True, text=True).stdout.strip()
        print(header["mkdocs"])
    figures: dict = {"concepts": args.concepts, "runs": args.runs}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        course = folder / "course"
        write_course(course, args.concepts)
        print(f"synthetic course: {args.concepts} concepts x 10 questions, "
              f"{folder_size(course) / 1e6:.1f} MB of Markdown, {os.cpu_count()} CPUs")
        quizgen_command = [sys.executable, "-m", "quizgen", "build", "--content", str(course),
                           "--out", str(folder / "build"), "--format", "site"]
        # "quizgen" parses every file (MkDocs keeps no cache either); "quizgen-warm" reuses the parse cache,
        # as a second build of an unchanged course does.
        commands = {"quizgen": (quizgen_command, None, os.environ | {"QUIZGEN_NO_CACHE": "1"}),
                    "quizgen-warm": (quizgen_command, None, os.environ | {"XDG_CACHE_HOME": str(folder / "cache")})}
        if mkdocs:
            project = folder / "mkdocs"
            mkdocs_project(course, project)
            commands["mkdocs"] = ([mkdocs, "build", "--quiet", "--site-dir", str(folder / "mkdocs-site")], project,
                                  None)
        else:
            print("mkdocs not found: pip install -e '.[bench]', or pass --mkdocs PATH")
        for command, cwd, env in commands.values():  # warm the file cache, .pyc files and the parse cache
            timed(command, cwd, env)
        timings: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved, so a busy moment on the machine hits both
            for name, (command, cwd, env) in commands.items():
                timings[name].append(timed(command, cwd, env))
        sizes = {"quizgen": folder_size(folder / "build" / "site")}
        sizes["quizgen-warm"] = sizes["quizgen"]
        if mkdocs:
            sizes["mkdocs"] = folder_size(folder / "mkdocs-site")
        for name, values in timings.items():
            print(f"{name:12s} median {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f}, "
                  f"{args.runs} runs)  output {sizes[name] / 1e6:7.1f} MB")
        if mkdocs:
            ratio = statistics.median(timings["mkdocs"]) / statistics.median(timings["quizgen"])
            warm = statistics.median(timings["mkdocs"]) / statistics.median(timings["quizgen-warm"])
            print(f"speed-up: {ratio:.2f}x cold, {warm:.2f}x warm (target >= 2)   size: {sizes['quizgen'] / sizes['mkdocs']:.3f} of MkDocs' "
                  f"(target <= 0.25)")
            figures |= {"speed_up_cold": ratio, "speed_up_warm": warm,
                        "size_ratio": sizes["quizgen"] / sizes["mkdocs"]}
        edits = rebuild_timings(course, folder / "serve", args.edits)
        print(f"serve rebuild after editing one concept: median {statistics.median(edits) * 1000:.0f} ms "
              f"(max {max(edits) * 1000:.0f} ms, {len(edits)} edits; target <= 1000 ms)")
    figures |= {"seconds": timings, "median_s": {name: statistics.median(values) for name, values in timings.items()},
                "output_bytes": sizes, "serve_rebuild_s": edits, "median_serve_rebuild_s": statistics.median(edits)}
    record.write(header, figures)


if __name__ == "__main__":
    main()
