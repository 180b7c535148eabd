"""The order concepts are listed and paged in, and the slugs of tag pages."""

from __future__ import annotations

import heapq
import re

from quizgen.model import Concept, Course


def learning_order(course: Course) -> list[Concept]:
    """Every concept before the concepts its ``learn_after`` sends the learner to.

    A topological sort; among concepts that are free to come next, the one earliest in file order
    goes first, so a course without links keeps its file order. (`quizgen check` rejects cycles;
    should one slip through, the concepts on it follow in file order.)
    """
    position = {concept.id: index for index, concept in enumerate(course.concepts)}
    successors: dict[str, list[str]] = {concept.id: [] for concept in course.concepts}
    waiting_on = dict.fromkeys(position, 0)
    for concept in course.concepts:
        targets = dict.fromkeys(link.partition("#")[0] for link in concept.learn_after)
        for target in targets:
            if target != concept.id and target in position:
                successors[concept.id].append(target)
                waiting_on[target] += 1
    ready = [(position[cid], cid) for cid, count in waiting_on.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:
        _, cid = heapq.heappop(ready)
        ordered.append(cid)
        for target in successors[cid]:
            waiting_on[target] -= 1
            if waiting_on[target] == 0:
                heapq.heappush(ready, (position[target], target))
    placed = set(ordered)
    ordered += [concept.id for concept in course.concepts if concept.id not in placed]
    by_id = {concept.id: concept for concept in course.concepts}
    return [by_id[cid] for cid in ordered]


def tag_slugs(tags) -> dict[str, str]:
    """Tag -> a file-name slug, unique: free-text tags may differ only in punctuation or case."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for tag in sorted(set(tags), key=lambda t: (t.casefold(), t)):
        base = re.sub(r"[^a-z0-9]+", "-", tag.casefold()).strip("-") or "tag"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs[tag] = slug
    return slugs
