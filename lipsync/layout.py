"""Output layouts: aspect ratio, a replaced background, and picture-in-picture over a slide.

The presenter frames come from the renderer at the avatar's own size; a
:class:`FrameComposer` turns each into an output frame. With a new background the
person is cut out with MediaPipe selfie segmentation; the matte's edge is refined
with a guided filter on the frame itself (hair and shoulders stay crisp, no halo)
and smoothed over time (no shimmer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from podium.common.errors import UserInputError
from podium.common.media import check_image_size

#: Output sizes (width, height) per aspect ratio.
ASPECT_SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (720, 720)}
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
_NAMED = {"white": "#ffffff", "black": "#000000", "grey": "#808080", "gray": "#808080",
          "blue": "#1f4e79", "green": "#00b140", "navy": "#14213d", "beige": "#efe6d8"}


@dataclass(frozen=True)
class Layout:
    """How the presenter is placed in the output frame.

    Attributes
    ----------
    aspect : str
        ``"source"`` (the avatar's own frame), ``"16:9"``, ``"9:16"`` or ``"1:1"``.
    background : str, optional
        ``"#RRGGBB"``, a colour name, or an image file: the person is cut out and
        placed on it. None keeps the footage's own background.
    slide : str or Path, optional
        Picture-in-picture: this image fills the frame and the presenter stands in
        a corner (cut out on ``background`` if one is given, else in a framed box).
    size : tuple[int, int], optional
        Output (width, height); default from ``aspect``.
    """

    aspect: str = "source"
    background: str | None = None
    slide: str | Path | None = None
    size: tuple[int, int] | None = None

    @property
    def is_plain(self) -> bool:
        """True when frames pass through unchanged (apart from scaling)."""
        return self.aspect == "source" and self.background is None and self.slide is None

    def output_size(self, source: tuple[int, int]) -> tuple[int, int]:
        if self.size is not None:
            w, h = self.size
        elif self.aspect == "source":
            w, h = source
        else:
            w, h = ASPECT_SIZES[self.aspect]
        return w - w % 2, h - h % 2


def _read_image(path: str | Path, what: str) -> np.ndarray:
    """An image as RGB, its size checked on its header before it is decoded
    (:func:`podium.common.media.check_image_size`)."""
    p = Path(path)
    if not p.is_file():
        raise UserInputError(f"{what} image not found: '{p}'; check the path")
    check_image_size(p, what)
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None:
        raise UserInputError(f"'{p.name}' is not an image OpenCV can read; give a PNG or JPEG {what}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def parse_colour(text: str) -> tuple[int, int, int] | None:
    """RGB of ``"#1f4e79"``, ``"1f4e79"`` or a colour name; None if ``text`` is neither."""
    m = _HEX.match(_NAMED.get(text.strip().lower(), text.strip()))
    if not m:
        return None
    v = m.group(1)
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


def check_layout(layout: Layout) -> Layout:
    """Validate a layout before any work: aspect, colours and image files.

    Raises
    ------
    UserInputError
        Unknown aspect, a background that is neither a colour nor a readable
        image, an unreadable slide, or an image over the size bounds (read from its
        header before it is decoded).
    """
    if layout.aspect != "source" and layout.aspect not in ASPECT_SIZES:
        raise UserInputError(f"layout {layout.aspect!r} is not one of 16:9, 9:16, 1:1 (or source)")
    if layout.background is not None and parse_colour(layout.background) is None:
        _read_image(layout.background, "background")
    if layout.slide is not None:
        _read_image(layout.slide, "slide")
    return layout


def _cover(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale ``img`` to fill ``size`` and crop the overflow equally from both sides."""
    w, h = size
    ih, iw = img.shape[:2]
    s = max(w / iw, h / ih)
    nw, nh = max(w, round(iw * s)), max(h, round(ih * s))
    big = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    x0, y0 = (nw - w) // 2, (nh - h) // 2
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


def _contain(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale ``img`` to fit inside ``size`` (letterbox in white, for slides)."""
    w, h = size
    ih, iw = img.shape[:2]
    s = min(w / iw, h / ih)
    nw, nh = max(2, round(iw * s)), max(2, round(ih * s))
    out = np.full((h, w, 3), 255, np.uint8)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    out[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    return out


class PersonMatte:
    """Per-frame alpha of the person, float32 (h, w) in [0, 1], smoothed over time."""

    def __init__(self, *, temporal: float = 0.5) -> None:
        import mediapipe as mp

        from podium.avatars.tracking import quiet_stderr

        with quiet_stderr():
            self._seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
        self._prev: np.ndarray | None = None
        self._temporal = temporal

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        raw = self._seg.process(np.ascontiguousarray(frame)).segmentation_mask
        if raw is None:
            raw = np.ones(frame.shape[:2], np.float32)
        alpha = np.clip((raw.astype(np.float32) - 0.25) / 0.5, 0.0, 1.0)
        # Guided by the frame, the matte's edge snaps to the real outline of hair and shoulders.
        radius = max(2, round(min(frame.shape[:2]) / 120))
        alpha = cv2.ximgproc.guidedFilter(frame, alpha, radius, 1e-3)
        alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32)
        if self._prev is not None and self._prev.shape == alpha.shape:
            alpha = self._temporal * self._prev + (1 - self._temporal) * alpha
        self._prev = alpha
        return alpha

    def close(self) -> None:
        self._seg.close()


class FrameComposer:
    """Turns presenter frames into output frames for a :class:`Layout`.

    Parameters
    ----------
    layout : Layout
        Checked with :func:`check_layout`.
    source_size : tuple[int, int]
        (width, height) of the presenter frames.
    """

    def __init__(self, layout: Layout, source_size: tuple[int, int]) -> None:
        self.layout = check_layout(layout)
        self.size = layout.output_size(source_size)
        self._matte = PersonMatte() if layout.background is not None else None
        self._background = self._make_background(layout.background) if layout.background else None
        self._slides: dict[str, np.ndarray] = {}

    def _make_background(self, spec: str) -> np.ndarray:
        w, h = self.size
        colour = parse_colour(spec)
        if colour is not None:
            return np.full((h, w, 3), colour, np.uint8)
        return _cover(_read_image(spec, "background"), (w, h))

    def _slide(self, slide) -> np.ndarray:
        key = str(slide)
        if key not in self._slides:
            self._slides[key] = _contain(_read_image(slide, "slide"), self.size)
        return self._slides[key]

    def __call__(self, frame: np.ndarray, *, slide: str | Path | None = None) -> np.ndarray:
        """One output frame, uint8 (H, W, 3) at :attr:`size`. ``slide`` overrides the
        layout's slide (scenes change slides)."""
        slide = slide if slide is not None else self.layout.slide
        if slide is not None:
            return self._picture_in_picture(frame, self._slide(slide))
        if self._matte is None:
            return frame if (frame.shape[1], frame.shape[0]) == self.size else fill_frame(frame, self.size)
        return self._cut_out(frame, self._background, self.size, (0, 0), anchor="bottom-centre")

    def _cut_out(self, frame, canvas, box, origin, *, anchor: str) -> np.ndarray:
        """The person of ``frame`` scaled to the height of ``box`` and composited onto
        ``canvas`` (a copy) inside ``box`` at ``origin``."""
        alpha = self._matte(frame)
        bw, bh = box
        fh, fw = frame.shape[:2]
        s = bh / fh
        nw, nh = max(2, round(fw * s)), bh
        fg = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        a = cv2.resize(alpha, (nw, nh), interpolation=cv2.INTER_LINEAR)[..., None]
        out = canvas.copy()
        H, W = out.shape[:2]
        ox, oy = origin
        x0 = ox + (bw - nw) // 2 if anchor == "bottom-centre" else ox + bw - nw
        y0 = oy + bh - nh
        # Clip the pasted person to the canvas (a wide source on a narrow canvas).
        sx0, sy0 = max(0, -x0), max(0, -y0)
        dx0, dy0 = max(0, x0), max(0, y0)
        dx1, dy1 = min(W, x0 + nw), min(H, y0 + nh)
        if dx1 <= dx0 or dy1 <= dy0:
            return out
        f = fg[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0].astype(np.float32)
        al = a[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0]
        region = out[dy0:dy1, dx0:dx1].astype(np.float32)
        out[dy0:dy1, dx0:dx1] = np.clip(f * al + region * (1 - al) + 0.5, 0, 255).astype(np.uint8)
        return out

    def _picture_in_picture(self, frame: np.ndarray, slide: np.ndarray) -> np.ndarray:
        w, h = self.size
        margin = round(0.03 * h)
        if self._matte is not None:
            box_h = round(0.55 * h)
            return self._cut_out(frame, slide, (round(0.4 * w), box_h), (w - round(0.4 * w) - margin,
                                 h - box_h), anchor="bottom-right")
        # A framed box: the presenter's frame cropped square-ish, white border, soft shadow.
        box_h = round(0.34 * h)
        fh, fw = frame.shape[:2]
        box_w = min(round(box_h * fw / fh), round(0.45 * w))
        inner = _cover(frame, (box_w, box_h))
        out = slide.copy()
        x0, y0 = w - box_w - margin, h - box_h - margin
        shadow = np.zeros((h, w), np.float32)
        shadow[y0 + 6:y0 + box_h + 6, x0 + 6:x0 + box_w + 6] = 0.35
        shadow = cv2.GaussianBlur(shadow, (0, 0), 6)[..., None]
        out = (out.astype(np.float32) * (1 - shadow)).astype(np.uint8)
        b = max(2, round(0.004 * h))
        out[y0 - b:y0 + box_h + b, x0 - b:x0 + box_w + b] = 255
        out[y0:y0 + box_h, x0:x0 + box_w] = inner
        return out

    def close(self) -> None:
        if self._matte is not None:
            self._matte.close()


def fill_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """No new background: crop the sides when the output is narrower than the footage
    (presenters stand in the middle), else fit the frame and fill the sides with a
    blurred, dimmed copy (what video editors do; black bars look unfinished)."""
    w, h = size
    fh, fw = frame.shape[:2]
    if w / h < fw / fh:
        return _cover(frame, size)
    s = min(w / fw, h / fh)
    nw, nh = max(2, round(fw * s)), max(2, round(fh * s))
    fg = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    if (nw, nh) == (w, h):
        return fg
    small = cv2.resize(frame, (max(w // 16, 2), max(h // 16, 2)), interpolation=cv2.INTER_AREA)
    bg = cv2.resize(cv2.GaussianBlur(small, (0, 0), 2.0), (w, h), interpolation=cv2.INTER_LINEAR)
    out = (bg.astype(np.uint16) * 3 // 5).astype(np.uint8)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    out[y0:y0 + nh, x0:x0 + nw] = fg
    return out
