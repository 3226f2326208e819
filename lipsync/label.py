"""The visible AI disclosure on the picture: a small "AI-generated" badge in one corner.

The badge is a rounded, semi-transparent dark pill with white text, sized from the frame's short
side so that it reads the same at 360p and at 1080p. It is drawn once, with Pillow and the DejaVu
Sans font that ships inside matplotlib, into a premultiplied RGBA patch; :meth:`BadgeOverlay.apply`
then blends only that patch's rectangle: about 0.1 ms per 720p frame in place.

DejaVu Sans draws Latin, Greek, Cyrillic and more, but no Chinese, Japanese or Korean: text with a
character the font has no glyph for is refused (:func:`check_badge`) instead of being drawn as
empty boxes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from podium.common.errors import InternalError, UserInputError

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")
MAX_BADGE_CHARS = 40

#: Cap height of the text as a share of the frame's short side, and its floor in pixels: 3.2% is
#: 23 px at 720p and 35 px at 1080p, small next to the face yet readable on a phone.
TEXT_SHARE = 0.032
MIN_TEXT_PX = 12
#: Gap between the badge and the frame's edges, as a share of the short side.
MARGIN_SHARE = 0.025
FILL_RGBA = (0, 0, 0, 150)  # dark and see-through: the picture stays visible under it
TEXT_RGB = (255, 255, 255)
#: Categories a one-line label must not hold: controls, format characters (bidi marks, zero-width
#: joiners), line/paragraph separators, private-use, surrogates and unassigned code points.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
_SUPERSAMPLE = 4  # the pill's rounded corners are drawn this much larger, then shrunk: smooth edges


@dataclass(frozen=True)
class Badge:
    """What the corner badge says and where it sits.

    Attributes
    ----------
    text : str
        One line, 1 to :data:`MAX_BADGE_CHARS` characters, every one drawable by DejaVu Sans.
    position : str
        One of :data:`POSITIONS`.
    """

    text: str = "AI-generated"
    position: str = "top-right"


def font_path() -> Path:
    """The DejaVu Sans file inside matplotlib's data (a dependency, so always here)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not path.is_file():
        raise InternalError(f"the badge font {str(path)!r} is missing; reinstall matplotlib")
    return path


@lru_cache(maxsize=1)
def _font_codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def check_badge(text: str | None, position: str | None) -> Badge:
    """Validate user-given badge settings; ``None`` means the default.

    Parameters
    ----------
    text : str or None
        Badge text; surrounding white space is dropped and the rest NFC-normalised.
    position : str or None
        A corner, one of :data:`POSITIONS` (case and surrounding spaces ignored).

    Returns
    -------
    Badge

    Raises
    ------
    UserInputError
        Text that is not a string, empty, over :data:`MAX_BADGE_CHARS` characters, holds a
        control or format character, or a character DejaVu Sans cannot draw (Chinese, Japanese,
        Korean...); a position that is not one of the four corners. The message quotes the value.
    """
    default = Badge()
    if text is None:
        text = default.text
    if not isinstance(text, str):
        raise UserInputError(f"badge text must be text, got {type(text).__name__} {text!r}")
    text = unicodedata.normalize("NFC", text.strip())
    if not 1 <= len(text) <= MAX_BADGE_CHARS:
        raise UserInputError(
            f"badge text {text!r} has {len(text)} characters; give 1 to {MAX_BADGE_CHARS} "
            "(e.g. 'AI-generated')"
        )
    for i, ch in enumerate(text, start=1):
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise UserInputError(
                f"badge text {text!r} has an invisible or control character U+{ord(ch):04X} at "
                f"position {i}; the badge is one line of visible text: remove it"
            )
    missing = sorted({ch for ch in text if ord(ch) not in _font_codepoints() and not ch.isspace()})
    if missing:
        names = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in missing[:5])
        raise UserInputError(
            f"badge text {text!r} has characters the badge font (DejaVu Sans) cannot draw: {names}; "
            "it covers Latin, Greek and Cyrillic scripts, not Chinese, Japanese or Korean: "
            "use e.g. 'AI-generated'"
        )
    if position is None:
        position = default.position
    if not isinstance(position, str) or position.strip().lower() not in POSITIONS:
        raise UserInputError(
            f"badge position {position!r} is not a corner; use one of {', '.join(POSITIONS)}"
        )
    return Badge(text, position.strip().lower())


def text_px(size: tuple[int, int]) -> int:
    """Cap height of the badge text in pixels for a ``(width, height)`` video."""
    return max(MIN_TEXT_PX, round(TEXT_SHARE * min(size)))


def _render_patch(text: str, cap_px: int) -> tuple[np.ndarray, int]:
    """The badge as premultiplied RGBA, ``(h, w, 4)`` uint8, and the em size it used (px)."""
    from PIL import Image, ImageDraw, ImageFont

    probe = ImageFont.truetype(str(font_path()), 100)
    cap_at_100 = -probe.getbbox("H", anchor="ls")[1]  # cap height at a 100 px em
    em = max(1, round(cap_px * 100 / cap_at_100))
    font = ImageFont.truetype(str(font_path()), em)
    # Lay the text out on its baseline so descenders (g, p, y) fit and every text gets the same
    # pill height: ascent of "H" above, the font's descent below.
    ascent, descent = font.getmetrics()
    left, _, right, _ = font.getbbox(text, anchor="ls")
    pad_x = round(0.6 * cap_px)
    pad_top = round(0.45 * cap_px)
    box_h = pad_top + cap_px + max(descent, round(0.25 * cap_px)) + pad_top
    box_w = (right - left) + 2 * pad_x

    s = _SUPERSAMPLE
    pill = Image.new("L", (box_w * s, box_h * s), 0)
    ImageDraw.Draw(pill).rounded_rectangle(
        (0, 0, box_w * s - 1, box_h * s - 1), radius=box_h * s // 2, fill=255
    )
    pill = np.asarray(pill.resize((box_w, box_h), Image.Resampling.BOX), np.float32) / 255.0

    glyphs = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(glyphs).text((pad_x - left, pad_top + cap_px), text, fill=255, font=font,
                                anchor="ls")
    ink = np.asarray(glyphs, np.float32) / 255.0

    # Text over the pill ("over" compositing), kept premultiplied so apply() is one multiply-add.
    fill_a = pill * (FILL_RGBA[3] / 255.0)
    alpha = ink + fill_a * (1.0 - ink)
    rgb = np.empty((box_h, box_w, 3), np.float32)
    for c in range(3):
        rgb[..., c] = ink * TEXT_RGB[c] + fill_a * (1.0 - ink) * FILL_RGBA[c]
    patch = np.dstack([rgb, alpha * 255.0])
    return np.clip(np.rint(patch), 0, 255).astype(np.uint8), em


class BadgeOverlay:
    """A badge drawn once for one video size, then blended onto each frame.

    Parameters
    ----------
    badge : Badge
        From :func:`check_badge`.
    size : tuple of int
        ``(width, height)`` of the video frames, pixels.

    Raises
    ------
    UserInputError
        The badge, with its margins, does not fit the frame (text too long for a narrow video):
        the message gives the sizes and says to shorten the text.

    Attributes
    ----------
    rect : tuple of int
        ``(x0, y0, x1, y1)``: the only pixels :meth:`apply` changes, end-exclusive.
    em_px : int
        Font size used, pixels per em.
    """

    def __init__(self, badge: Badge, size: tuple[int, int]):
        badge = check_badge(badge.text, badge.position)
        width, height = (int(v) for v in size)
        if width < 1 or height < 1:
            raise UserInputError(f"video size {size!r} must be positive (width, height) pixels")
        cap = text_px((width, height))
        margin = max(4, round(MARGIN_SHARE * min(width, height)))
        patch, em = _render_patch(badge.text, cap)
        if patch.shape[1] > width - 2 * margin or patch.shape[0] > height - 2 * margin:
            # A narrow portrait video: shrink the text to fit, but never below the legible floor.
            fit = cap * (width - 2 * margin) / patch.shape[1]
            if fit >= MIN_TEXT_PX:
                patch, em = _render_patch(badge.text, int(fit))
            if patch.shape[1] > width - 2 * margin or patch.shape[0] > height - 2 * margin:
                raise UserInputError(
                    f"badge text {badge.text!r} needs {patch.shape[1]}x{patch.shape[0]} px but a "
                    f"{width}x{height} video leaves {width - 2 * margin}x{height - 2 * margin}; "
                    "shorten the text"
                )
        h, w = patch.shape[:2]
        x0 = margin if badge.position.endswith("left") else width - margin - w
        y0 = margin if badge.position.startswith("top") else height - margin - h
        self.badge = badge
        self.size = (width, height)
        self.rect = (x0, y0, x0 + w, y0 + h)
        self.em_px = em
        # uint16 is enough: the patch is premultiplied (colour <= alpha), so
        # dst * (255 - a) + src * 255 <= 255 * 255 + 127 < 2**16.
        self._inv_alpha = (255 - patch[..., 3:4]).astype(np.uint16)
        self._premul = patch[..., :3].astype(np.uint16) * 255

    def apply(self, frame: np.ndarray, *, inplace: bool = False) -> np.ndarray:
        """The frame with the badge on it.

        Parameters
        ----------
        frame : ndarray
            ``(height, width, 3)`` uint8 RGB, the size given at construction.
        inplace : bool, keyword-only
            Write into ``frame`` (saves a full-frame copy) instead of a new array.

        Returns
        -------
        ndarray
            ``(height, width, 3)`` uint8 RGB; pixels outside :attr:`rect` equal the input's.
        """
        width, height = self.size
        if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
            raise InternalError(
                f"badge made for {width}x{height} uint8 RGB frames got shape {frame.shape} "
                f"{frame.dtype}"
            )
        out = frame if inplace else frame.copy()
        x0, y0, x1, y1 = self.rect
        roi = out[y0:y1, x0:x1]
        # Premultiplied "over", in integers: (dst * (255 - a) + src * a) / 255, rounded.
        blended = (roi * self._inv_alpha + self._premul + 127) // 255
        roi[...] = blended
        return out
