"""Write a synthetic course of N concepts x 10 questions (every type) for the speed benchmarks.

    python benchmarks/synthetic_course.py OUT_DIR [--concepts 1000] [--variants 20]

Each concept is shaped like a real one: a few paragraphs with inline and display math, links to its
neighbours, and ten questions covering every question type, with feedback on every option. With
``variants``, every numeric and choice question is generated (a '#### Parameters' section) with that
many variants: placeholders in its stem, computed options and a formula answer.
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


def concept_file(n: int, total: int, variants: int = 0) -> str:
    after = [f"concept-{n + 1:04d}"] if n + 1 < total else []
    related = [f"concept-{(n + 7) % total:04d}"] if total > 1 and (n + 7) % total != n else []
    questions = "\n".join(question(n, k, variants) for k in range(10))
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


def question(n: int, k: int, variants: int = 0) -> str:
    kind = ["choice", "multi", "truefalse", "numeric", "short", "critique", "choice", "multi", "choice", "numeric"][k]
    head = f"### Question {k} of concept {n}\nWhat happens to $\\theta$ in case {n}.{k} when the learning rate is large?\n"
    explanation = f"#### Explanation\nLarge steps move $\\theta$ far from $\\hat\\theta$; see case {n}.{k}.\n"
    if variants and kind in ("choice", "numeric"):
        return generated(n, k, kind, variants)
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


def generated(n: int, k: int, kind: str, variants: int) -> str:
    """A numeric or choice question with ``variants`` variants: a step count s in its texts and formulas."""
    head = (f"### Question {k} of concept {n}\nA run of case {n}.{k} takes {{s}} steps of size $10^{{-3}}$. "
            "How far can it move a weight, at most?\n")
    explanation = f"#### Explanation\n{{s}} steps of $10^{{-3}}$ move it by at most {{= s / 1000}} (case {n}.{k}).\n"
    parameters = f"#### Parameters\n- s: 1 to {variants}\n"
    if kind == "numeric":
        return f"""{{#q{k} type=numeric answer="= s / 1000" tolerance=0.0001}}
{head}
{explanation}
{parameters}"""
    return f"""{{#q{k} type=choice claim=aggressive-forgets}}
{head}
- [x] {{= s / 1000}}
  > Right: each step moves it by at most the step size.
- [ ] {{= s / 100}} {{misconception=ten-times}}
  > That is ten times the step size per step.
- [ ] {{= s + 1}} {{misconception=counts-steps}}
  > That counts the steps, not their size.

{explanation}
{parameters}"""


def write_course(out: Path, concepts: int, variants: int = 0) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for n in range(concepts):
        (out / f"concept-{n:04d}.md").write_text(concept_file(n, concepts, variants), encoding="utf-8")
    (out / "course.yml").write_text("title: Synthetic course\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--concepts", type=int, default=1000)
    parser.add_argument("--variants", type=int, default=0, help="generate the numeric and choice questions")
    args = parser.parse_args()
    write_course(args.out, args.concepts, args.variants)


if __name__ == "__main__":
    main()
