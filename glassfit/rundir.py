"""The run directory as one run: files replaced atomically, and one writer at a time.

:func:`write_text` writes a temporary file beside the target, flushes it to disk and renames it over the
target, so that a full disk or an interrupt leaves the previous file (or none), never a truncated one.
:func:`lock` holds an exclusive ``flock`` on ``<run>/.glassfit.lock`` while a run writes its directory; a
second run into the same directory is refused at once with one line, and the lock vanishes with the
process that held it (no stale locks after ``kill -9``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def write_text(path, text: str) -> Path:
    """Replace ``path`` by ``text`` (UTF-8) atomically; returns the path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def lock(directory):
    """Hold the run directory ``directory`` (created if needed) for one writer; ValueError if another has it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".glassfit.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"{directory} is being written by another glassfit run; wait for it to finish or "
                             "choose another --out") from None
        yield directory

__all__ = ["lock", "write_text"]
