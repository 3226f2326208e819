"""What the studio's controls offer (sizes, layouts, renderers, voices) and how their values
become front-door arguments: the picked avatar, a voice id, a whole-number rate, and the
:class:`podium.RenderOptions` of a job. The checks of those options are the front door's
(:meth:`podium.Avatar.check_options`); this module only reads the controls."""

from __future__ import annotations

from pathlib import Path

from podium.common.errors import UserInputError
from podium.library import Avatar, Library
from podium.limits import RENDERERS
from podium.lipsync.layout import ASPECT_SIZES, Layout
from podium.lipsync.pipeline import RenderOptions
from podium.ui.studio import uploads

SIZES = {
    "the avatar's own": None,
    "1280×720 (landscape HD)": (1280, 720),
    "1920×1080 (landscape full HD)": (1920, 1080),
    "720×1280 (portrait)": (720, 1280),
    "1080×1080 (square)": (1080, 1080),
}
LAYOUTS = ("source", *ASPECT_SIZES)
#: The voice dropdown's first choice: the avatar's stored voice, else the default one.
OWN_VOICE = ""
DEFAULT_MUSIC_VOLUME = -20.0

__all__ = ["SIZES", "LAYOUTS", "RENDERERS", "OWN_VOICE", "pick_avatar", "voice_choices", "parse_size",
           "parse_rate", "parse_voice", "parse_renderer", "parse_look", "render_options"]


def pick_avatar(library: Library, name: str | None) -> Avatar:
    if not name:
        raise UserInputError("pick an avatar first (make one in the Avatars tab)")
    return library.avatar(name)


def voice_choices(library: Library) -> list[tuple[str, str]]:
    return [("the avatar's own voice", OWN_VOICE)] + [(f"{v.name} ({v.id})", v.id) for v in library.voices()]


def parse_size(label: str | None) -> tuple[int, int] | None:
    if not label:
        return None
    if label in SIZES:
        return SIZES[label]
    raise UserInputError(f"unknown output size {label!r}; pick one of: {', '.join(SIZES)}")


def parse_rate(rate) -> int | None:
    """The rate box (0 or empty: the voice's own) as words per minute."""
    if rate in (None, "", 0):
        return None
    if isinstance(rate, float) and not rate.is_integer():
        raise UserInputError(f"speaking rate {rate} must be a whole number of words per minute")
    return int(rate)


def parse_voice(library: Library, voice: str | None) -> str | None:
    """A voice id the library knows, or None for the avatar's own voice."""
    return library.resolve_voice(voice).id if voice else None


def parse_renderer(renderer: str | None) -> str:
    return renderer or "auto"


def parse_look(look: dict | None) -> tuple[dict, dict[str, Path]]:
    """The layout, background and music controls: JSON-ready settings for the job, and the
    uploaded files they name (each checked as an image or a sound).

    ``look`` keys (all optional): ``layout`` ("source", "16:9", "9:16", "1:1"),
    ``background`` (a colour), ``background_image``, ``slide``, ``slides``, ``music``
    (uploaded files) and ``music_volume`` (dB).
    """
    look = dict(look or {})
    colour = (look.get("background") or "").strip() or None
    inputs: dict[str, Path] = {}
    if look.get("background_image"):
        if colour:
            raise UserInputError("give a background colour or a background image, not both")
        inputs["background"] = uploads.check_photo(look["background_image"], "a background image")[0]
    if look.get("slide"):
        inputs["slide"] = uploads.check_photo(look["slide"], "a slide image")[0]
    if look.get("music"):
        inputs["music"] = uploads.check_audio(look["music"], "a music file")[0]
    for k, slide in enumerate(look.get("slides") or [], start=1):
        inputs[f"scene-{k}"] = uploads.check_photo(slide, f"slide {k}")[0]
    volume = look.get("music_volume")
    params = {"layout": look.get("layout") or "source", "background": colour,
              "music_volume": float(volume) if volume is not None else DEFAULT_MUSIC_VOLUME}
    if look.get("slides"):
        params["scenes"] = len(look["slides"])
    return params, inputs


def render_options(params: dict, files: dict[str, Path | None]) -> RenderOptions:
    """The :class:`podium.RenderOptions` of a job's parameters, with its files (the uploads
    when a request is checked, the job folder's copies when it runs)."""
    look = params.get("look") or {}
    background, slide = files.get("background"), files.get("slide")
    layout = Layout(aspect=look.get("layout") or "source",
                    background=look.get("background") or (str(background) if background else None),
                    slide=str(slide) if slide else None)
    size = tuple(params["size"]) if params.get("size") else None
    return RenderOptions(voice=params.get("voice") or None, rate_wpm=params.get("rate"), size=size,
                         renderer=params.get("renderer") or "auto", music=files.get("music"),
                         music_volume_db=look.get("music_volume", DEFAULT_MUSIC_VOLUME), layout=layout)


def job_options(runner, job) -> RenderOptions:
    """:func:`render_options` of a logged job, its files taken from the job's folder."""
    return render_options(job.params, {k: runner.input(job, k) for k in ("background", "slide", "music")})
