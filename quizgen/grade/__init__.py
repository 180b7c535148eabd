"""`quizgen grade`: run learners' lab notebooks in sandboxes and score them outside.

sandbox.py (and boot.py, its other side) runs one notebook; hidden.py makes the unseen inputs and
knows the expected outputs; scoring.py turns a sandbox outcome into points and feedback; reports.py
writes grades.csv, results.json and the feedback files; runner.py grades a batch.
"""
