"""The shipped Jinja2 templates, installed as the package ``syndicator.templates``.

This file only makes the folder importable, so that ``importlib.resources`` finds
the templates in a wheel, a plain ``pip install .`` and an editable install alike
(pyproject.toml maps this folder into the package). To customise the templates,
copy ``pages/`` and ``email/`` elsewhere and set ``templates_dir`` in config.yaml.
"""
