"""quizgen: course material in Markdown -> quiz site, lab notebooks, LMS exports."""

__version__ = "0.1.0"
