"""A built wheel carries everything a cycle reads: code, vocabulary, templates.

The wheel is built from a copy of the files a source distribution holds, then
run from its unpacked files in a separate Python process started in another
folder, so nothing can be found next to the checkout by accident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SHIPPED_FILES = ("pyproject.toml", "README.md", "LICENSE")
SHIPPED_FOLDERS = ("syndicator", "templates")


def listed_packages() -> set[str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_listed_in_pyproject() -> None:
    """Packages are listed by hand (templates/ is mapped in); a new one must not be forgotten."""
    code = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "syndicator").rglob("__init__.py")
    }
    templates = {"syndicator.templates"} | {
        f"syndicator.templates.{folder.name}"
        for folder in (REPO / "templates").iterdir()
        if folder.is_dir() and folder.name != "__pycache__"
    }
    assert listed_packages() == code | templates


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in SHIPPED_FILES:
        shutil.copy2(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SHIPPED_FOLDERS:
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--wheel-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("syndicator-*.whl")
    return wheel


def test_built_wheel_runs_a_full_cycle_from_another_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        site = tmp_path / "site"
        archive.extractall(site)
    shipped = {
        f"syndicator/templates/{p.relative_to(REPO / 'templates').as_posix()}"
        for p in (REPO / "templates").rglob("*")
        if p.suffix in {".html", ".txt"}
    }
    assert shipped <= names
    assert "syndicator/templates/pages/index.html" in shipped
    assert "syndicator/tagging/default_taxonomy.yaml" in names
    catalogues = {
        f"syndicator/{p.relative_to(REPO / 'syndicator').as_posix()}"
        for p in (REPO / "syndicator" / "locale").rglob("*.mo")
    }
    assert "syndicator/locale/fr/LC_MESSAGES/syndicator.mo" in catalogues
    assert catalogues <= names  # without them every reader would get English

    # The shipped configuration with its sample releases, offline (folder sources only).
    project = tmp_path / "project"
    shutil.copytree(REPO / "samples", project / "samples")
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["sources"] = [s for s in config["sources"] if s["type"] == "folder"]
    (project / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    script = (
        "import sys, syndicator, syndicator.resources as r\n"
        "print(syndicator.__file__, r.default_templates_dir(), sep='\\n')\n"
        "from syndicator.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("SYNDICATOR_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", script, "--config", str(project / "config.yaml"), "run"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    package_file, templates_dir = done.stdout.splitlines()[:2]
    assert Path(package_file).is_relative_to(site)
    assert Path(templates_dir) == site / "syndicator" / "templates"
    feeds = project / "feeds"
    for name in ("index.html", "corruption.html", "corruption.atom", "all.rss"):
        assert (feeds / name).stat().st_size > 0, name
    assert list((project / "var" / "outbox").glob("*.eml"))
    assert list(elsewhere.iterdir()) == []  # nothing lands in the working folder
