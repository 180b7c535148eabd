"""Export speed: quizgen's Canvas export against text2qti on the same 1,000 questions, and every
export format on the 10,000-question course.

    python benchmarks/export_speed.py [--runs 5]

Targets (issue 4): canvas at least 2x faster than text2qti (median ratio); all formats for
10,000 questions <= 10 s. Both tools run as fresh processes, as a user runs them. text2qti
(PyPI) gets the same questions written in its own syntax; it writes one quiz, quizgen writes a
quiz per concept plus one for the course, so quizgen does more work in this comparison.
quizgen runs "cold" (parse cache off, every file parsed) and "warm" (cache filled by an earlier run,
no file changed): the ratio is given for both; the targets are judged on cold runs. Both tools start
with their bytecode compiled, as pip installs them (record.compile_bytecode).
Writes benchmarks/out/export_speed.json; text2qti is pinned in the `bench` extra (pip install -e '.[bench]').
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import record  # noqa: E402
from synthetic_course import write_course  # noqa: E402

from quizgen.loader import load_course  # noqa: E402


def text2qti_source(course) -> str:
    """The course's questions in text2qti's plain-text syntax."""
    lines = [f"Quiz title: {course.title}", ""]
    for number, (_, question) in enumerate(course.questions, 1):
        lines += [f"Title: {question.title}", f"Points: {question.points:g}", f"{number}.  {question.stem}",
                  f"... {question.explanation.splitlines()[-1]}"]
        if question.type in ("choice", "truefalse"):
            for index, option in enumerate(question.options):
                lines.append(f"{'*' if option.correct else ''}{'abcdefgh'[index]}) {option.text}")
                if option.feedback:
                    lines.append(f"... {option.feedback}")
        elif question.type == "multi":
            for option in question.options:
                lines.append(f"[{'*' if option.correct else ' '}] {option.text}")
                if option.feedback:
                    lines.append(f"... {option.feedback}")
        elif question.type == "numeric":
            lines.append(f"=   {question.answer:g} +- {question.margin:g}")
        elif question.type == "short":
            lines += [f"*   {answer}" for answer in question.accepted]
        else:
            lines.append("____")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text2qti = shutil.which("text2qti")
    if text2qti is None:
        sys.exit("text2qti is not installed: pip install -e '.[bench]'")
    text2qti = str(Path(text2qti).resolve())  # it runs in another folder: a relative PATH entry would not
    header = record.start("export_speed", ["text2qti"])
    figures = {"canvas_1000_questions": {}, "all_formats_10000_questions": {}}
    quizgen = [sys.executable, "-m", "quizgen"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        small, large = work / "course-1000", work / "course-10000"
        write_course(small, 100)
        write_course(large, 1000)
        (work / "t2q").mkdir()
        (work / "t2q" / "quiz.txt").write_text(text2qti_source(load_course(small)), encoding="utf-8")
        # text2qti asks for a LaTeX rendering URL on first run; give it a config so it never prompts.
        home = work / "home"
        home.mkdir()
        (home / ".text2qti.bespon").write_text('latex_render_url = "https://lms.invalid/equation_images/"\n')
        env = os.environ | {"HOME": str(home)}

        cold = os.environ | {"QUIZGEN_NO_CACHE": "1"}
        warm = os.environ | {"XDG_CACHE_HOME": str(work / "cache")}
        canvas = quizgen + ["export", "--format", "canvas", "--content", str(small), "--out", str(work / "o1")]
        record.timed(canvas, env=warm)  # fills the parse cache
        theirs, ours = [], {"cold": [], "warm": []}
        for _ in range(args.runs):
            theirs.append(record.timed([text2qti, "quiz.txt"], env=env, cwd=work / "t2q"))
            for kind, quizgen_env in (("cold", cold), ("warm", warm)):
                ours[kind].append(record.timed(canvas, env=quizgen_env))
        print(f"1,000 questions to Canvas QTI: text2qti median {statistics.median(theirs):.2f} s")
        canvas_figures = figures["canvas_1000_questions"]
        canvas_figures["text2qti_s"] = theirs
        for kind, values in ours.items():
            ratio = statistics.median(t / o for t, o in zip(theirs, values))
            print(f"  quizgen {kind}: median {statistics.median(values):.2f} s, median ratio {ratio:.2f}x "
                  "(target >= 2x)")
            canvas_figures[f"quizgen_{kind}_s"] = values
            canvas_figures[f"median_ratio_{kind}"] = ratio

        everything = quizgen + ["export", "--format", "all", "--content", str(large), "--out", str(work / "o2")]
        record.timed(everything, env=warm)
        for kind, quizgen_env in (("cold", cold), ("warm", warm)):
            values = [record.timed(everything, env=quizgen_env) for _ in range(max(3, args.runs // 2))]
            print(f"10,000 questions, all export formats, {kind}: median {statistics.median(values):.2f} s "
                  f"(min {min(values):.2f}, max {max(values):.2f}; target <= 10 s)")
            figures["all_formats_10000_questions"][f"{kind}_s"] = values
            figures["all_formats_10000_questions"][f"median_{kind}_s"] = statistics.median(values)
    record.write(header, figures)


if __name__ == "__main__":
    main()
