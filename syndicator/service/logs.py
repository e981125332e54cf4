"""Logging set-up: one ``key=value`` line per event, easy to grep and to ship.

Stages log through :func:`event`, which keeps the message machine-readable
(``event=collected source=osce status=ok new=3``) without pulling in a
structured-logging library.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

LOG = logging.getLogger("syndicator")


def _quote(value: Any) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event as ``event=NAME k=v ...`` (None values are left out)."""
    parts = [f"event={name}"]
    parts += [f"{k}={_quote(v)}" for k, v in fields.items() if v is not None]
    LOG.log(level, " ".join(parts))


def configure(level: str = "INFO") -> None:
    """Send Syndicator's log lines to stderr; stdout stays for command output."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    root = logging.getLogger("syndicator")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # APScheduler's own messages are useful in the worker, at warning level and up.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
