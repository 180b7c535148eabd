"""The one thing pyproject.toml cannot say: the course labs, `labs/` at the top of a checkout, ship inside
the wheel as `quizgen/labs/`, where an installed quizgen finds them (quizgen.lab.runner.shipped_labs)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["quizgen", "quizgen.*"]), "quizgen.labs"],
    package_dir={"quizgen.labs": "labs"},  # its files are listed with the other package data, in pyproject.toml
)
