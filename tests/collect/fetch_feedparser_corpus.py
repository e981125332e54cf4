"""Fetch feedparser's own test documents (from its sdist) for test_feedparser_corpus.py.

Usage: ``.venv/bin/python tests/collect/fetch_feedparser_corpus.py [DEST]``
(default ``~/.cache/syndicator/feedparser-tests``). Needs the package index once;
the test skips when the corpus is absent, so the suite stays offline.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DEFAULT = Path.home() / ".cache" / "syndicator" / "feedparser-tests"


def main() -> int:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    import feedparser

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"feedparser=={feedparser.__version__}",
             "--no-binary", ":all:", "--no-deps", "-d", tmp, "-q"],
            check=True,
        )  # fmt: skip
        [sdist] = Path(tmp).glob("feedparser-*.tar.gz")
        with tarfile.open(sdist) as archive:
            members = [m for m in archive.getmembers() if "/tests/" in m.name and m.isfile()]
            for member in members:
                member.name = member.name.split("/tests/", 1)[1]
            dest.mkdir(parents=True, exist_ok=True)
            archive.extractall(dest, members=members, filter="data")
    print(f"{len(members)} files in {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
