"""Atomic file writes: a temp file in the target folder, renamed into place on success."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

from podium.common.errors import UserInputError


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


#: What a temporary file of a render looks like: ``.podium-tmp-<pid>-<mkstemp's 8>.<ext>``.
_TEMP_NAME = re.compile(r"^\.podium-tmp-(\d+)-[a-z0-9_]{8}\.(mp4|wav|srt|vtt)$")


def temp_prefix() -> str:
    """Prefix for a render's temporary files in an output folder: ``.podium-tmp-<pid>-``, so
    a later render can tell the leftovers of a process that was killed."""
    return f".podium-tmp-{os.getpid()}-"


def clean_stale_temps(folder: str | os.PathLike) -> int:
    """Delete the temporary files of renders into ``folder`` whose process is gone (killed
    before it could clean up). Only names Podium itself makes (:func:`temp_prefix` plus
    mkstemp's eight characters and one of its suffixes) are touched. Returns how many."""
    removed = 0
    for path in Path(folder).glob(".podium-tmp-*"):
        match = _TEMP_NAME.match(path.name)
        if match is None or int(match.group(1)) == os.getpid() or not path.is_file():
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue  # still running: another render's file
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError):
            continue  # alive (another user's), or not a pid at all
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    for lock in Path(folder).glob(".podium-lock-*"):
        # A killed render's lock file: nobody holds it, so it can go (as output_lock would).
        try:
            with open(lock, "a+b") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                lock.unlink(missing_ok=True)
                removed += 1
        except (BlockingIOError, OSError):
            continue
    return removed


class OutputBusy(UserInputError):
    """Another render is writing the same output file."""


@contextlib.contextmanager
def output_lock(out: str | os.PathLike) -> Iterator[None]:
    """Hold the output file ``out`` for one render: a second render into the same path, in
    this process or another, is refused at once instead of overwriting it silently.

    The lock is ``flock`` on a hidden file beside ``out`` (released by the kernel when a
    process dies, so a killed render never leaves the path locked).

    Raises
    ------
    OutputBusy
    """
    out = Path(out)
    lock = out.parent / f".podium-lock-{out.name}"
    for _ in range(5):
        fh = open(lock, "a+b")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise OutputBusy(f"another render is writing '{out}' right now; wait for it or give "
                             "another output file") from None
        try:
            same = os.fstat(fh.fileno()).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()  # the holder removed it as we opened it: take the new one
    else:
        raise OutputBusy(f"could not lock '{out}'; try again")
    try:
        yield
    finally:
        # Removed while still held, so nobody can lock the old file after us.
        lock.unlink(missing_ok=True)
        fh.close()


def check_output_free(out: str | os.PathLike) -> None:
    """Raise :class:`OutputBusy` now if a render holds ``out`` (before any slow work)."""
    with output_lock(out):
        pass
