"""Write a synthetic course of N concepts x 10 questions (every type) for the speed benchmarks.

    python benchmarks/synthetic_course.py OUT_DIR [--concepts 1000]

Each concept is shaped like a real one: a few paragraphs with inline and display math, links to its
neighbours, and ten questions covering every question type, with feedback on every option.
"""

from __future__ import annotations

import argparse
from pathlib import Path

PARAGRAPH = (
    "Fine-tuning starts from the pre-trained parameters $\\hat\\theta$ and moves them only a little, "
    "so that $\\lVert\\theta-\\hat\\theta\\rVert / \\lVert\\hat\\theta\\rVert$ stays small. Concept {n} looks at "
    "one side of this: how the **learning rate**, the number of steps and the size of the data decide how far "
    "the weights drift, and what the model forgets when they drift too far."
)


def concept_file(n: int, total: int) -> str:
    after = [f"concept-{n + 1:04d}"] if n + 1 < total else []
    related = [f"concept-{(n + 7) % total:04d}"] if total > 1 and (n + 7) % total != n else []
    questions = "\n".join(question(n, k) for k in range(10))
    return f"""---
id: concept-{n:04d}
title: Synthetic concept {n}
tags: [Synthetic, Group {n % 20}]
related: [{', '.join(related)}]
learn_after: [{', '.join(after + [f'concept-{n:04d}#q0'])}]
lab: initialization
difficulty: intermediate
sources: ["Synthetic source {n}"]
---
{PARAGRAPH.format(n=n)}

$$
\\mathcal{{L}}(\\theta) = -\\sum_{{(x, y)}} \\log \\Pr_\\theta(y \\mid x)
$$

{PARAGRAPH.format(n=n + 1)}

## Questions

{questions}"""


def question(n: int, k: int) -> str:
    kind = ["choice", "multi", "truefalse", "numeric", "short", "critique", "choice", "multi", "choice", "numeric"][k]
    head = f"### Question {k} of concept {n}\nWhat happens to $\\theta$ in case {n}.{k} when the learning rate is large?\n"
    explanation = f"#### Explanation\nLarge steps move $\\theta$ far from $\\hat\\theta$; see case {n}.{k}.\n"
    if kind in ("choice", "multi"):
        extra_right = "- [x] It memorises the small set.\n  > Also true.\n" if kind == "multi" else ""
        return f"""{{#q{k} type={kind} claim=aggressive-forgets}}
{head}
- [x] It drifts far and forgets (case {n}.{k}).
  > Right: recall falls as drift grows.
{extra_right}- [ ] It trains more slowly. {{misconception=cost-confusion}}
  > No: large steps converge faster on a small set.
- [ ] Nothing changes.
  > The weights do change; the question is how much.

{explanation}"""
    if kind == "truefalse":
        return f"""{{#q{k} type=truefalse}}
### Statement {k} of concept {n}
A small dataset needs a fundamentally different training method (case {n}.{k}).

- [ ] True
  > Only the hyper-parameters change.
- [x] False
  > The objective and the loop stay the same.

{explanation}"""
    if kind == "numeric":
        return f"""{{#q{k} type=numeric answer=0.05 tolerance=0.01 unit=fraction}}
{head}
{explanation}"""
    if kind == "short":
        return f"""{{#q{k} type=short}}
{head}
#### Accepted answers
- catastrophic forgetting
- catastrophic interference

{explanation}"""
    return f"""{{#q{k} type=critique points=4}}
{head}
#### Task
Critique the strategy of case {n}.{k}.

#### Rubric
| Criterion | Points | Full credit | Partial credit | No credit |
|---|---|---|---|---|
| Risk | 2 | Names forgetting. | Names overfitting. | Nothing. |
| Plan | 2 | Lower learning rate and early stopping. | One of them. | — |

#### Exemplar
The strategy risks catastrophic forgetting; use a lower learning rate and stop early.

{explanation}"""


def write_course(out: Path, concepts: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for n in range(concepts):
        (out / f"concept-{n:04d}.md").write_text(concept_file(n, concepts), encoding="utf-8")
    (out / "course.yml").write_text("title: Synthetic course\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--concepts", type=int, default=1000)
    args = parser.parse_args()
    write_course(args.out, args.concepts)


if __name__ == "__main__":
    main()
