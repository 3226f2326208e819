"""Atomic file writes: a temp file in the target folder, renamed into place on success."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def default_home() -> Path:
    """The Podium library folder: ``$PODIUM_HOME``, else the user's data directory (XDG)."""
    env = os.environ.get("PODIUM_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "podium"


def default_mode() -> int:
    """Permissions a normal ``open()`` would give a new file (0666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; published outputs get ordinary permissions.
        os.chmod(tmp_path, default_mode())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def temp_prefix() -> str:
    """Prefix for a render's temporary files in an output folder: ``.podium-<pid>-``, so a
    later render can tell the leftovers of a process that was killed."""
    return f".podium-{os.getpid()}-"


def clean_stale_temps(folder: str | os.PathLike) -> int:
    """Delete ``.podium-<pid>-*`` files in ``folder`` whose process is gone (a render killed
    before it could clean up). Returns how many were deleted."""
    removed = 0
    for path in Path(folder).glob(".podium-*-*"):
        pid = path.name.split("-")[1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: another render's file
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, another user's
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed
