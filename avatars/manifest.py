"""The avatar manifest (``avatar.json``) as typed, frozen records.

Read with :meth:`AvatarManifest.from_dict`, which checks every field it relies on (a
damaged or hand-edited file raises :class:`common.errors.AvatarDamaged`, never a
``KeyError`` three modules later), and written with :meth:`AvatarManifest.to_dict`.
Keys this version does not know are kept in ``extra`` and written back unchanged, so an
older Podium does not erase what a newer one stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import PurePosixPath
from typing import Any, Mapping

from podium.common.errors import AvatarDamaged

FORMAT_VERSION = 1
KINDS = ("footage", "photo")
LOOP_MODES = ("pingpong", "cycle")
RENDERERS = ("warp", "neural")
#: Parts every avatar has; the neural renderer's weights ("renderer") are optional.
REQUIRED_PARTS = ("base_loop", "base_tracks", "mouth_model", "mouth_bank")
MAX_FPS = 120.0
MAX_SIDE_PX = 8192
MAX_LOOP_FRAMES = 100_000


def _fail(name: str, what: str) -> AvatarDamaged:
    return AvatarDamaged(f"avatar '{name}' is damaged ({what}); delete it and re-create it")


def _get(d: Mapping, key: str, kind, name: str, *, default=...):
    if key not in d:
        if default is ...:
            raise _fail(name, f"no '{key}' in avatar.json")
        return default
    value = d[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if value is None and default is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _fail(name, f"'{key}' is {type(value).__name__}, expected {getattr(kind, '__name__', kind)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(name, f"'{key}' is {value}")
    return value


def check_part_path(rel: str, name: str) -> str:
    """A part path stays inside the avatar's folder: relative, no ``..``, no drive or root."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or "\\" in rel or ".." in p.parts or not p.parts \
            or p.parts[0] != "parts":
        raise _fail(name, f"part path {rel!r} points outside the avatar's parts folder")
    return rel


@dataclass(frozen=True)
class Consent:
    """Who agreed to become this avatar, when, and the SHA-256 of the source they agreed to."""

    name: str
    statement: str
    recorded_at: str
    source_file: str
    source_sha256: str

    @classmethod
    def from_dict(cls, d: Mapping, avatar: str) -> "Consent":
        return cls(*(_get(d, f.name, str, avatar) for f in fields(cls)))


@dataclass(frozen=True)
class Source:
    """The footage or photo an avatar was made from. Sizes in pixels, durations in seconds."""

    file: str
    width: int
    height: int
    duration_s: float | None = None
    fps: float | None = None

    @classmethod
    def from_dict(cls, d: Mapping, avatar: str) -> "Source":
        return cls(_get(d, "file", str, avatar), _get(d, "width", int, avatar),
                   _get(d, "height", int, avatar), _get(d, "duration_s", float, avatar, default=None),
                   _get(d, "fps", float, avatar, default=None))


@dataclass(frozen=True)
class Loop:
    """The base loop: ``frames`` frames played ``mode`` ("pingpong" or "cycle")."""

    frames: int
    mode: str
    source_start_frame: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping, avatar: str) -> "Loop":
        loop = cls(_get(d, "frames", int, avatar), _get(d, "mode", str, avatar),
                   _get(d, "source_start_frame", int, avatar, default=None))
        if not 1 <= loop.frames <= MAX_LOOP_FRAMES or loop.mode not in LOOP_MODES:
            raise _fail(avatar, f"loop {loop.frames} frames, mode {loop.mode!r}")
        return loop


@dataclass(frozen=True)
class SpeechDefaults:
    """What every video of the avatar speaks with (``podium avatar set``); None: the default."""

    voice: str | None = None
    rate_wpm: int | None = None
    pitch: float | None = None

    @classmethod
    def from_dict(cls, d: Mapping, avatar: str) -> "SpeechDefaults":
        return cls(_get(d, "voice", str, avatar, default=None),
                   _get(d, "rate_wpm", int, avatar, default=None),
                   _get(d, "pitch", float, avatar, default=None))

    def to_dict(self) -> dict:
        return {k: v for k, v in (("voice", self.voice), ("rate_wpm", self.rate_wpm),
                                  ("pitch", self.pitch)) if v is not None}


@dataclass(frozen=True)
class AvatarManifest:
    """Everything ``avatar.json`` says about one avatar.

    Attributes
    ----------
    name : str
        The avatar's name (its folder's).
    kind : str
        "footage" or "photo".
    created_at : str
        ISO 8601 time of creation, UTC.
    consent : Consent
    source : Source
    fps : float
        Frame rate of the base loop and of every video rendered from it, frames/s.
    frame_size : tuple[int, int]
        (width, height) of the base loop, pixels, even.
    loop : Loop
    parts : Mapping[str, str]
        Part name -> path relative to the avatar's folder (inside ``parts/``).
    renderer : str
        The avatar's own mouth renderer, "warp" or "neural".
    bank_size : int
        Mouth shapes in the bank.
    quality : Mapping[str, Any]
        Figures measured while building (face ratio, inter-ocular px...), JSON values.
    build_seconds : float
        Wall time the build took, s.
    speech_defaults : SpeechDefaults
    voice_match : Mapping or None
        How the default voice was matched to the presenter (footage avatars).
    renderer_training : Mapping or None
        The neural renderer's training report, once trained.
    extra : Mapping[str, Any]
        Keys this version does not know, written back as they were.
    format_version : int
    """

    name: str
    kind: str
    created_at: str
    consent: Consent
    source: Source
    fps: float
    frame_size: tuple[int, int]
    loop: Loop
    parts: Mapping[str, str]
    renderer: str = "warp"
    bank_size: int = 0
    quality: Mapping[str, Any] = field(default_factory=dict)
    build_seconds: float = 0.0
    speech_defaults: SpeechDefaults = SpeechDefaults()
    voice_match: Mapping[str, Any] | None = None
    renderer_training: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    _KNOWN = ("format_version", "name", "kind", "created_at", "consent", "source", "fps",
              "frame_size", "loop", "parts", "renderer", "bank_size", "quality", "build_seconds",
              "speech_defaults", "voice_match", "renderer_training")

    @classmethod
    def from_dict(cls, d: Any, *, folder_name: str | None = None) -> "AvatarManifest":
        """Parse and check a manifest read from JSON.

        Raises
        ------
        AvatarDamaged
            A field is missing, of the wrong type or out of range, or a part path points
            outside the avatar's folder.
        """
        avatar = folder_name or (d.get("name") if isinstance(d, dict) else None) or "?"
        if not isinstance(d, dict):
            raise _fail(avatar, "avatar.json is not a JSON object")
        version = d.get("format_version")
        if version != FORMAT_VERSION:
            raise _fail(avatar, f"format {version!r}; this Podium reads format {FORMAT_VERSION}")
        size = d.get("frame_size")
        if not (isinstance(size, (list, tuple)) and len(size) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in size)
                and all(16 <= v <= MAX_SIDE_PX for v in size)):
            raise _fail(avatar, f"frame size {size!r}")
        parts = _get(d, "parts", dict, avatar)
        for key in REQUIRED_PARTS:
            if key not in parts:
                raise _fail(avatar, f"no '{key}' part")
        for key, rel in parts.items():
            if not isinstance(key, str) or not isinstance(rel, str):
                raise _fail(avatar, f"part {key!r} is not a path")
            check_part_path(rel, avatar)
        m = cls(
            name=_get(d, "name", str, avatar),
            kind=_get(d, "kind", str, avatar),
            created_at=_get(d, "created_at", str, avatar),
            consent=Consent.from_dict(_get(d, "consent", dict, avatar), avatar),
            source=Source.from_dict(_get(d, "source", dict, avatar), avatar),
            fps=_get(d, "fps", float, avatar),
            frame_size=(int(size[0]), int(size[1])),
            loop=Loop.from_dict(_get(d, "loop", dict, avatar), avatar),
            parts=dict(parts),
            renderer=_get(d, "renderer", str, avatar, default="warp"),
            bank_size=_get(d, "bank_size", int, avatar, default=0),
            quality=dict(_get(d, "quality", dict, avatar, default={})),
            build_seconds=_get(d, "build_seconds", float, avatar, default=0.0),
            speech_defaults=SpeechDefaults.from_dict(_get(d, "speech_defaults", dict, avatar,
                                                          default={}), avatar),
            voice_match=_get(d, "voice_match", dict, avatar, default=None),
            renderer_training=_get(d, "renderer_training", dict, avatar, default=None),
            extra={k: v for k, v in d.items() if k not in cls._KNOWN},
        )
        if m.kind not in KINDS or m.renderer not in RENDERERS:
            raise _fail(avatar, f"kind {m.kind!r}, renderer {m.renderer!r}")
        if not 1.0 <= m.fps <= MAX_FPS:
            raise _fail(avatar, f"frame rate {m.fps:g} fps")
        if m.renderer == "neural" and "renderer" not in m.parts:
            raise _fail(avatar, "renderer 'neural' but no trained renderer part")
        return m

    def to_dict(self) -> dict:
        """The manifest as JSON-ready values, ``format_version`` first."""
        out = {
            "format_version": self.format_version,
            "name": self.name,
            "kind": self.kind,
            "created_at": self.created_at,
            "consent": {f.name: getattr(self.consent, f.name) for f in fields(Consent)},
            "source": {k: v for k, v in ((f.name, getattr(self.source, f.name)) for f in fields(Source))
                       if v is not None},
            "fps": self.fps,
            "frame_size": list(self.frame_size),
            "loop": {k: v for k, v in ((f.name, getattr(self.loop, f.name)) for f in fields(Loop))
                     if v is not None},
            "renderer": self.renderer,
            "bank_size": self.bank_size,
            "quality": dict(self.quality),
            "build_seconds": self.build_seconds,
            "parts": dict(self.parts),
        }
        if self.speech_defaults.to_dict():
            out["speech_defaults"] = self.speech_defaults.to_dict()
        if self.voice_match is not None:
            out["voice_match"] = dict(self.voice_match)
        if self.renderer_training is not None:
            out["renderer_training"] = dict(self.renderer_training)
        out.update(self.extra)
        return out

    def with_parts(self, **parts: str) -> "AvatarManifest":
        """A copy with these parts added or replaced (paths relative to the avatar's folder)."""
        for rel in parts.values():
            check_part_path(rel, self.name)
        return replace(self, parts={**self.parts, **parts})

    def __repr__(self) -> str:
        w, h = self.frame_size
        return (f"AvatarManifest(name={self.name!r}, kind={self.kind!r}, {w}x{h} @ {self.fps:g} fps, "
                f"renderer={self.renderer!r}, bank_size={self.bank_size}, "
                f"consent={self.consent.name!r})")
