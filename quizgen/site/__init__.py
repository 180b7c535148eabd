"""The quiz site learners use: `quizgen.formats.site` writes it, `quizgen serve` previews it.

- order.py     the learning order (learn-after links) and tag pages' slugs
- evidence.py  lab results -> what "Check it in the lab" shows, degrading when results are missing
- pages.py     the pages: which files the site has, each rendered from jinja templates once compiled
- variants.py  generated questions: every variant's texts and check data on the page, written once if shared
- serve.py     a localhost server that rebuilds only the pages an edit changed
"""
