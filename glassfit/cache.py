"""Where glassfit keeps what it builds or fetches: ``$GLASSFIT_CACHE_DIR`` if set, else the user cache directory."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$GLASSFIT_CACHE_DIR`` if set, else the platform's user cache directory of glassfit (spectrum tables at
    the top, fetched data files under ``data/``)."""
    env = os.environ.get("GLASSFIT_CACHE_DIR")
    if env:
        return Path(env)
    import pooch  # the platform-appropriate user cache directory

    return Path(pooch.os_cache("glassfit"))


__all__ = ["cache_dir"]
