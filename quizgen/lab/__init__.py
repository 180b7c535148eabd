"""The lab engine: the in-house base model, its data, one training loop, metrics, claims and a cache.

Nothing outside this package imports torch or transformers; modules here import them inside functions,
so that importing `quizgen.lab.cli` stays cheap.
"""
