"""`quizgen grade`: run learners' lab notebooks in sandboxes and score them outside.

jail.py builds the walls (bubblewrap, a system-call filter, cgroups or a memory watchdog); sandbox.py
(and boot.py, its other side) runs one notebook inside them and watches it from outside; untrusted.py
bounds and cleans everything that comes out; the unseen inputs and their expected outputs come from
each exercise's one definition in its lab folder (quizgen.notebooks.exercises); scoring.py turns a sandbox outcome into points and feedback; reports.py writes grades.csv,
results.json and the feedback files; runner.py grades a batch.
"""
