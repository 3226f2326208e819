"""The on-disk avatar library: one folder per avatar, written atomically.

Layout of an avatar folder::

    NAME/
      avatar.json           versioned manifest (consent, source, quality, parts)
      parts/base_loop.mp4   real (or synthetic) frames the video is built on
      parts/base_tracks.npz per-frame landmarks and canonical transforms of the loop
      parts/mouth_model.npz the person's lip poses and PCA
      parts/mouth_bank.npz  mouth crops with landmarks, and the paste mask
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from podium.avatars.manifest import FORMAT_VERSION, AvatarManifest
from podium.common.errors import AvatarDamaged, AvatarError
from podium.common.files import default_home

__all__ = ["FORMAT_VERSION", "MANIFEST", "AvatarLibrary", "AvatarRecord", "check_name",
           "default_home", "write_manifest"]

MANIFEST = "avatar.json"
#: Largest avatar.json read (a real one is a few KB).
MAX_MANIFEST_BYTES = 1 << 20
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_name(name: str) -> str:
    """Return ``name`` if it is a safe avatar name, else raise AvatarError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AvatarError(
            f"invalid avatar name {name!r}: use 1-64 letters, digits, '-' or '_', starting "
            "with a letter or digit (no paths)")
    return name


@dataclass(frozen=True)
class AvatarRecord:
    """A stored avatar: its folder and parsed manifest."""

    name: str
    path: Path
    manifest: AvatarManifest

    def part(self, key: str) -> Path:
        """Absolute path of a part named in the manifest's ``parts`` table (inside the folder)."""
        try:
            rel = self.manifest.parts[key]
        except KeyError:
            raise AvatarDamaged(f"avatar '{self.name}' has no '{key}' part; re-create it") from None
        return self.path / rel

    def __repr__(self) -> str:
        return f"AvatarRecord(name={self.name!r}, path='{self.path}', manifest={self.manifest!r})"


class AvatarLibrary:
    """Avatars stored under ``home/avatars``.

    Parameters
    ----------
    home : Path, optional
        Library root; defaults to :func:`default_home`.
    """

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home).expanduser() if home else default_home()
        self.root = self.home / "avatars"

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file())

    def exists(self, name: str) -> bool:
        return (self.root / check_name(name) / MANIFEST).is_file()

    def get(self, name: str) -> AvatarRecord:
        check_name(name)
        path = self.root / name
        if not (path / MANIFEST).is_file():
            known = ", ".join(self.names()) or "none yet"
            raise AvatarError(f"unknown avatar '{name}' (known: {known}); create it with "
                              "`podium avatar create`")
        try:
            with open(path / MANIFEST, "rb") as fh:
                raw = fh.read(MAX_MANIFEST_BYTES + 1)
            if len(raw) > MAX_MANIFEST_BYTES:
                raise ValueError(f"larger than {MAX_MANIFEST_BYTES} bytes")
            data = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise AvatarDamaged(f"avatar '{name}' is damaged (its avatar.json cannot be read: {exc}); "
                                "delete it and re-create it") from exc
        manifest = AvatarManifest.from_dict(data, folder_name=name)
        if manifest.name != name:
            raise AvatarDamaged(f"avatar '{name}' is damaged (its manifest names '{manifest.name}'); "
                                "delete it and re-create it")
        return AvatarRecord(name, path, manifest)

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """An exclusive lock on one avatar, across processes (read-modify-write of its manifest)."""
        lock = self.root / f".{name}.lock"
        self.root.mkdir(parents=True, exist_ok=True)
        with open(lock, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def update_manifest(self, name: str,
                        change: Callable[[AvatarManifest], AvatarManifest]) -> AvatarRecord:
        """Replace an avatar's manifest by ``change(current)``, atomically and under a lock, so
        two updates at once (two ``podium avatar set``) both land.

        Parameters
        ----------
        change : callable
            Takes the manifest as stored now and returns the new one
            (``lambda m: dataclasses.replace(m, renderer="neural")``).
        """
        with self._locked(check_name(name)):
            record = self.get(name)
            new = change(record.manifest)
            if not isinstance(new, AvatarManifest):
                raise TypeError("update_manifest's change must return an AvatarManifest")
            write_manifest(record.path, new)
        return self.get(name)

    def delete(self, name: str) -> None:
        """Remove an avatar; a damaged one too (its manifest is not read)."""
        check_name(name)
        path = self.root / name
        if not (path / MANIFEST).is_file():
            self.get(name)  # the "unknown avatar" error, with the known names
        with self._locked(name):
            # Rename first so a half-deleted folder never looks like an avatar.
            trash = Path(tempfile.mkdtemp(prefix=".trash-", dir=self.root))
            os.replace(path, trash / name)
            shutil.rmtree(trash, ignore_errors=True)
        (self.root / f".{name}.lock").unlink(missing_ok=True)

    def listing(self) -> list[tuple[str, AvatarRecord | None, str | None]]:
        """Every avatar as ``(name, record, None)``, or ``(name, None, why)`` when it is damaged:
        one broken avatar.json never hides the others."""
        out = []
        for name in self.names():
            try:
                out.append((name, self.get(name), None))
            except AvatarDamaged as exc:
                out.append((name, None, str(exc)))
        return out

    def staging(self, name: str) -> "_Staging":
        """Context manager giving a temp folder that becomes the avatar on success.

        Nothing is left in the library when the block raises.
        """
        check_name(name)
        if self.exists(name):
            raise AvatarError(f"an avatar named '{name}' already exists; pick another name or "
                              f"`podium avatar delete {name}` first")
        return _Staging(self, name)


class _Staging:
    def __init__(self, library: AvatarLibrary, name: str):
        self.library, self.name = library, name
        self.path: Path | None = None

    def __enter__(self) -> Path:
        self.library.root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".staging-{self.name}-", dir=self.library.root))
        (self.path / "parts").mkdir()
        return self.path

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.path is not None
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        final = self.library.root / self.name
        if final.exists():
            shutil.rmtree(self.path, ignore_errors=True)
            raise AvatarError(f"an avatar named '{self.name}' appeared while this one was created")
        os.replace(self.path, final)


def write_manifest(folder: Path, manifest: AvatarManifest) -> None:
    """Write ``avatar.json`` atomically (the last file of a staged avatar)."""
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False), "utf-8")
    os.replace(tmp, folder / MANIFEST)
