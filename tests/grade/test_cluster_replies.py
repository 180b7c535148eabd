"""What a Dask worker sends back is read like anything from a sandbox: bounded, rebuilt and checked against
the task the grader sent; and a worker refuses, in a sentence, what it cannot sandbox. (No cluster needed:
the worker's function and the grader's reader are called directly.)"""

from __future__ import annotations

import json

import pytest

from quizgen.grade import cluster, harvest, jail, sandbox, untrusted

TASK = {"cells": [[0, "x = 1"], [2, "ANSWERS = {}"]], "variables": ["ANSWERS"],
        "exercise_inputs": {"relative_drift": [[{"value": 1}], [{"value": 2}]]},
        "limits": {}, "sandbox": harvest.sandbox_version()}
OUTCOME = {"status": "graded", "message": "", "execution_s": 0.5, "total_s": 1.0,
           "cells": [{"index": 0, "status": "ok", "error": None, "seconds": 0.1},
                     {"index": 2, "status": "ok", "error": None, "seconds": 0.2}],
           "variables": {"ANSWERS": {"aggressive-risk": "B"}},
           "exercises": {"relative_drift": {"defined": True, "results": [{"output": 0.5}, {"error": {
               "type": "ValueError", "message": "the unseen input was 2", "line": 3}}]}}}


class Finished:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def reply(**changes) -> bytes:
    outcome = json.loads(json.dumps(OUTCOME)) | changes
    return json.dumps({"worker": "tcp://10.0.0.7:4000", "isolation": {"mode": "namespaces", "extra": "x" * 10},
                       "outcome": outcome, "output_tail": "line\n" * 5}).encode()


def read(data):
    class Job:
        task = TASK

    return cluster._reply(Finished(data), Job())


def test_an_honest_reply_is_rebuilt_field_by_field():
    got = read(reply())
    assert got["worker"] == "tcp://10.0.0.7:4000" and got["output_tail"] == "line\n" * 5
    assert got["isolation"] == {"mode": "namespaces", "detail": None, "cgroups": None, "seccomp": None, "guarantees": None}
    outcome = got["outcome"]
    assert outcome.status == "graded" and [cell["index"] for cell in outcome.cells] == [0, 2]
    # An error's message could quote the unseen input: only its type is kept, as in a local run.
    assert outcome.exercises["relative_drift"]["results"][1] == {"error": {"type": "ValueError", "message": "",
                                                                           "line": None}}


@pytest.mark.parametrize("changes, why", [
    ({"status": "full marks"}, "an unknown status"),
    ({"cells": OUTCOME["cells"] + [{"index": 4, "status": "ok", "error": None, "seconds": 0}]}, "more cell results"),
    ({"cells": OUTCOME["cells"][::-1]}, "out of the notebook's order"),
    ({"exercises": {"steal": {"defined": True, "results": []}}}, "functions that were not asked for"),
    ({"exercises": {"relative_drift": {"defined": True, "results": [{"output": 1}] * 3}}}, "more results than"),
])
def test_a_reply_that_does_not_match_its_task_is_refused(changes, why):
    with pytest.raises(untrusted.Rejected, match=why):
        read(reply(**changes))


def test_a_reply_too_large_or_too_deep_or_not_text_is_refused():
    with pytest.raises(untrusted.Rejected):
        read(b'{"worker": "w", "outcome": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    with pytest.raises(ValueError):
        read({"worker": "w", "outcome": OUTCOME})  # a pickled object, not the JSON text a worker sends
    with pytest.raises(ValueError):
        read(b" " * (harvest.MAX_RESULT_BYTES + 1))


def test_a_worker_refuses_another_sandbox_version_or_none(monkeypatch):
    other = json.loads(cluster.run_task(TASK | {"sandbox": "0123456789abcdef"}))
    assert "runs another quizgen sandbox" in other["refused"] and "0123456789abcdef" in other["refused"]
    monkeypatch.setattr(cluster, "_STATE", None)
    monkeypatch.setattr(sandbox, "probe_isolation",
                        lambda: jail.Isolation("none", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"))
    refused = json.loads(cluster.run_task(TASK))
    assert refused["refused"] == ("this worker cannot build the sandbox: bubblewrap (bwrap) is not installed: "
                                  "apt-get install bubblewrap")
    assert "outcome" not in refused
