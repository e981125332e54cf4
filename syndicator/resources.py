"""Where the files that ship beside the code are found."""

from __future__ import annotations

from pathlib import Path

import syndicator


def default_templates_dir() -> Path:
    """The ``templates/`` folder next to the ``syndicator`` package in the checkout.

    Syndicator is installed from its repository (``pip install -e .``), so the
    templates stay editable where operators expect them; ``templates_dir`` in
    the configuration points elsewhere for customised copies.
    """
    return Path(syndicator.__file__).resolve().parent.parent / "templates"
