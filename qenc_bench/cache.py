"""The user cache: downloaded datasets and compiled programs live under one directory."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "QENC_BENCH_CACHE"


def cache_dir() -> Path:
    """``$QENC_BENCH_CACHE``, else ``$XDG_CACHE_HOME/qenc-bench``, else ``~/.cache/qenc-bench``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qenc-bench"
