"""Where the files that ship beside the code are found."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from syndicator.errors import OutputError

TEMPLATES_PACKAGE = "syndicator.templates"
"""The shipped templates: the repository's ``templates/`` folder, mapped into the
package at build time (see ``[tool.setuptools.package-dir]`` in pyproject.toml)."""


def default_templates_dir() -> Path:
    """The folder of the shipped templates, wherever this installation keeps them.

    Found through the import system, so a wheel in ``site-packages``, ``pip
    install .`` and an editable install of a checkout (where it is the
    top-level ``templates/`` folder) all work. Jinja2 reads the folder from the
    file system; an installation that keeps its packages in a zip archive has
    no such folder, and the error says what to do instead.
    """
    root = resources.files(TEMPLATES_PACKAGE)
    if not isinstance(root, Path):
        raise OutputError(
            f"the shipped templates ({root}) are not in a folder on disk; "
            "copy them to a folder and set templates_dir in the configuration"
        )
    return root
