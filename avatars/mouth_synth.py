"""A plausible inner mouth (dark oral cavity, upper and lower teeth) for opened lips.

Needed where no real open-mouth image exists: a photo avatar, or footage in which
the person never opens their mouth wide. Without it an opened mouth shows either
stretched lip skin or a black hole.
"""

from __future__ import annotations

import cv2
import numpy as np

from podium.avatars.landmarks import LIPS_OUTER

_N_OUT = len(LIPS_OUTER)
DEFAULT_TEETH = (206, 198, 186)
CAVITY = np.array([62, 24, 30], np.float32)


def _inside(shape: tuple[int, ...], polygon: np.ndarray) -> np.ndarray:
    """bool (h, w): the pixels of a crop of ``shape`` inside ``polygon`` ((k, 2) crop pixels)."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask > 0


def paint_inner_mouth(crop: np.ndarray, lips_px: np.ndarray, px_per_unit: float,
                      *, teeth_rgb=None) -> np.ndarray:
    """Fill the inner-lip polygon with a cavity and teeth.

    Parameters
    ----------
    crop : np.ndarray
        uint8 (h, w, 3) RGB mouth crop whose lips already have the open shape.
    lips_px : np.ndarray
        (40, 2) lip landmarks in crop pixels (outer 20 then inner 20).
    px_per_unit : float
        Crop pixels per inter-ocular distance (sets tooth height).
    teeth_rgb : tuple of int, optional
        Tooth colour; a neutral off-white by default.

    Returns
    -------
    crop : np.ndarray
        uint8 (h, w, 3).
    """
    h, w = crop.shape[:2]
    inner = lips_px[_N_OUT:]
    ss = 4  # supersampling for anti-aliased edges
    poly = np.round(inner * ss).astype(np.int32)
    mask = np.zeros((h, w), np.float32)
    cv2.fillPoly(mask, [poly], 1.0, lineType=cv2.LINE_AA, shift=2)
    if mask.sum() < 2:
        return crop
    upper = np.vstack([inner[0], inner[19:10:-1], inner[10]])
    lower = np.vstack([inner[0], inner[1:10], inner[10]])
    gap = float(np.max(lower[:, 1] - upper[:, 1]))
    img = crop.astype(np.float32)
    cavity = np.empty_like(img)
    cavity[:] = CAVITY
    # Darker towards the throat (the middle of the opening).
    ys, xs = np.mgrid[0:h, 0:w]
    cx = inner[:, 0].mean()
    cy = (upper[:, 1].mean() + lower[:, 1].mean()) / 2
    half_w = max(np.ptp(inner[:, 0]) / 2, 1.0)
    r = np.sqrt(((xs - cx) / half_w) ** 2 + ((ys - cy) / max(gap / 2, 1.0)) ** 2)
    cavity *= (0.45 + 0.55 * np.clip(r, 0, 1))[..., None]
    teeth = np.array(teeth_rgb or DEFAULT_TEETH, np.float32)
    # Upper teeth show a little in a small opening and at most ~0.09 IOD; lower
    # teeth only once the jaw has dropped well past the upper ones.
    tooth_h = min(0.09 * px_per_unit, gap * 0.38)
    lower_h = min(0.05 * px_per_unit, max(gap - tooth_h - 0.08 * px_per_unit, 0) * 0.4)
    span = np.ptp(inner[:, 0])
    x_lo, x_hi = inner[:, 0].min() + 0.16 * span, inner[:, 0].max() - 0.16 * span
    teeth_mask = np.zeros((h, w), np.float32)
    for edge, height, sign in ((upper, tooth_h, 1), (lower, lower_h, -1)):
        if height < 0.8:
            continue
        sel = (edge[:, 0] >= x_lo) & (edge[:, 0] <= x_hi)
        pts = edge[sel]
        if len(pts) < 2:
            continue
        band = np.vstack([pts, (pts + [0, sign * height])[::-1]])
        cv2.fillPoly(teeth_mask, [np.round(band * ss).astype(np.int32)], 0.85 if sign < 0 else 1.0,
                     lineType=cv2.LINE_AA, shift=2)
    teeth_mask = cv2.GaussianBlur(teeth_mask, (0, 0), max(0.012 * px_per_unit, 0.6))
    # Teeth are shaded: brighter in the middle, darker towards the corners and their tips.
    shade = 1.0 - 0.45 * np.clip(np.abs(xs - cx) / (span / 2 + 1e-6), 0, 1) ** 2
    # The upper lip shades the top of the teeth.
    top = np.interp(xs, upper[:, 0], upper[:, 1])
    shade *= 0.78 + 0.22 * np.clip((ys - top) / max(tooth_h, 1.0), 0, 1)
    # Faint gaps between teeth, spaced about one incisor width apart.
    pitch = max(0.075 * px_per_unit, 3.0)
    gaps = np.abs(((xs - cx) / pitch + 0.5) % 1.0 - 0.5)
    shade *= 1.0 - 0.1 * np.clip(1.0 - gaps * pitch / 1.6, 0, 1)
    tooth_img = teeth * shade[..., None]
    fill = cavity * (1 - teeth_mask[..., None]) + tooth_img * teeth_mask[..., None]
    fill = cv2.GaussianBlur(fill, (0, 0), 0.6)
    m = cv2.GaussianBlur(mask, (0, 0), max(0.01 * px_per_unit, 0.5))[..., None]
    out = img * (1 - m) + fill * m
    return np.clip(out, 0, 255).astype(np.uint8)


def refine_inner_lips(crop: np.ndarray, lips_px: np.ndarray) -> np.ndarray:
    """Move the inner-lip contour out to the real lip edge where teeth show.

    Face Mesh tends to put the inner-lip points on the teeth of a toothy smile, so
    closing those points would squeeze the teeth instead of hiding them. Teeth and
    the oral cavity differ from lips in being either bright and unsaturated or
    dark; each inner point is pushed to the last such pixel in its column inside
    the outer lip contour.

    Parameters
    ----------
    crop : np.ndarray
        uint8 (h, w, 3) RGB.
    lips_px : np.ndarray
        (40, 2) lip landmarks in crop pixels.

    Returns
    -------
    lips_px : np.ndarray
        (40, 2) with the inner contour refined.
    """
    h, w = crop.shape[:2]
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV).astype(np.float32)
    sat, val = hsv[..., 1], hsv[..., 2]
    lip_sat = np.median(sat[np.clip(lips_px[:_N_OUT, 1].astype(int), 0, h - 1),
                            np.clip(lips_px[:_N_OUT, 0].astype(int), 0, w - 1)])
    not_lip = ((sat < 0.6 * lip_sat) & (val > 120)) | (val < 50)
    cand = not_lip & _inside(crop.shape, lips_px[:_N_OUT])
    cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    out = lips_px.copy()
    inner = out[_N_OUT:]
    for k in list(range(1, 10)) + list(range(11, 20)):
        x = int(round(inner[k, 0]))
        y = int(round(inner[k, 1]))
        if not (0 <= x < w and 0 <= y < h):
            continue
        step = 1 if k < 10 else -1  # lower lip: walk down; upper lip: walk up
        # Start on the teeth: from the landmark towards the mouth's middle.
        start = next((y - step * d for d in range(0, 4) if 0 <= y - step * d < h and cand[y - step * d, x]), None)
        if start is None:
            continue
        yy, misses = start, 0
        while 0 <= yy + step < h and misses < 2:
            yy += step
            misses = 0 if cand[yy, x] else misses + 1
        inner[k, 1] = yy - step * misses + 0.5 * step
    return out


def teeth_colour(crop: np.ndarray, lips_px: np.ndarray) -> tuple[int, int, int] | None:
    """Median colour of visible teeth inside the inner-lip contour, or None when none show."""
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    bright = _inside(crop.shape, lips_px[_N_OUT:]) & (hsv[..., 2] > 140) & (hsv[..., 1] < 90)
    if bright.sum() < 12:
        return None
    return tuple(int(v) for v in np.median(crop[bright], axis=0))


def clean_mouth_corners(crop: np.ndarray, lips_px: np.ndarray, px_per_unit: float) -> np.ndarray:
    """Fill the dark pockets a smile leaves at the corners of lips that were closed.

    A smiling photo's mouth corners are deep shadow that reaches past the tracked
    corner points; the reshaping that closes the lips keeps those pixels, which then
    show as short dark strokes rising from the corners (and stretch along when the
    mouth is opened again). Pixels near the corners that are much darker than the
    lips are inpainted from their surroundings; the seam is drawn afterwards.

    Parameters
    ----------
    crop : np.ndarray
        uint8 (h, w, 3) RGB crop whose lips are closed.
    lips_px : np.ndarray
        (40, 2) closed lip landmarks in crop pixels (outer 20 then inner 20).
    px_per_unit : float
        Crop pixels per inter-ocular distance.

    Returns
    -------
    np.ndarray
        uint8 (h, w, 3).
    """
    outer = lips_px[:_N_OUT]
    lips = _inside(crop.shape, outer)
    if not lips.any():
        return crop
    lum = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lip_lum = float(np.median(lum[lips]))
    near = np.zeros(crop.shape[:2], np.uint8)
    radius = max(int(round(0.13 * px_per_unit)), 2)
    for corner in (outer[0], outer[10]):
        cv2.circle(near, tuple(int(v) for v in np.round(corner)), radius, 1, -1)
    dark = (near > 0) & (lum < 0.8 * lip_lum)
    if not dark.any():
        return crop
    dark = cv2.dilate(dark.astype(np.uint8), np.ones((3, 3), np.uint8))
    return cv2.inpaint(crop, dark, max(2.0, 0.03 * px_per_unit), cv2.INPAINT_TELEA)


def paint_lip_seam(crop: np.ndarray, lips_px: np.ndarray, px_per_unit: float) -> np.ndarray:
    """Clean the line where closed lips meet.

    Closing an open photo mouth squeezes the teeth's dark gaps into the seam as
    specks; smoothing a thin band across the seam and drawing a soft shadow line
    along it gives the look of lips pressed together.

    Parameters
    ----------
    crop : np.ndarray
        uint8 (h, w, 3) crop whose lips are closed.
    lips_px : np.ndarray
        (40, 2) closed lip landmarks in crop pixels.
    px_per_unit : float
        Crop pixels per inter-ocular distance.
    """
    h, w = crop.shape[:2]
    inner = lips_px[_N_OUT:]
    seam = np.vstack([inner[0], inner[19:10:-1], inner[10]])
    ss = 4
    pts = np.round(seam * ss).astype(np.int32)
    band = np.zeros((h, w), np.float32)
    half = max(0.025 * px_per_unit, 1.5)
    cv2.polylines(band, [pts], False, 1.0, thickness=max(int(round(2 * half)), 1), lineType=cv2.LINE_AA,
                  shift=2)
    band = cv2.GaussianBlur(band, (0, 0), half * 0.5)[..., None]
    img = crop.astype(np.float32)
    smooth = cv2.GaussianBlur(img, (0, 0), sigmaX=max(0.01 * px_per_unit, 0.8), sigmaY=half)
    img = img * (1 - band) + smooth * band
    lips = _inside(crop.shape, lips_px[:_N_OUT])
    lip_colour = np.median(crop[lips], axis=0) if lips.any() else np.array([150, 90, 90])
    line = np.zeros((h, w), np.float32)
    cv2.polylines(line, [pts], False, 1.0, thickness=1, lineType=cv2.LINE_AA, shift=2)
    line = cv2.GaussianBlur(line, (0, 0), max(0.004 * px_per_unit, 0.5))[..., None]
    line *= 0.55 / max(float(line.max()), 1e-6)
    img = img * (1 - line) + (lip_colour * 0.55) * line
    return np.clip(img, 0, 255).astype(np.uint8)
