"""The mouth bank: real (or synthesised) mouth crops with their landmarks.

Precomputed once per avatar (MuseTalk's good idea) so that rendering a frame is a
nearest-shape lookup, one small warp and one paste.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from podium.avatars.landmarks import JAW, LIPS, NOSE_BOTTOM, apply
from podium.avatars.mouth import CropGeometry
from podium.avatars.warp import border_points, triangulate, warp_maps

#: Feather width of the paste mask, inter-ocular units.
FEATHER = 0.07


@dataclass(frozen=True)
class MouthBank:
    """Mouth crops in the canonical crop frame.

    Attributes
    ----------
    geometry : CropGeometry
        Crop placement and resolution.
    crops : np.ndarray
        uint8 (k, h, w, 3) RGB.
    lips, jaw, nose : np.ndarray
        float32 (k, 40, 2), (k, 21, 2), (k, 5, 2): canonical landmarks of each crop.
    mask : np.ndarray
        float32 (h, w) in [0, 1]: where a crop replaces the base frame, feathered.
    """

    geometry: CropGeometry
    crops: np.ndarray
    lips: np.ndarray
    jaw: np.ndarray
    nose: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return len(self.crops)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, crops=self.crops, lips=self.lips, jaw=self.jaw, nose=self.nose,
                            mask=self.mask, px_per_unit=np.float64(self.geometry.px_per_unit),
                            region=np.array(self.geometry.region))

    @classmethod
    def load(cls, path: Path) -> "MouthBank":
        with np.load(path, allow_pickle=False) as d:
            geom = CropGeometry(float(d["px_per_unit"]), tuple(float(v) for v in d["region"]))
            return cls(geom, d["crops"], d["lips"], d["jaw"], d["nose"], d["mask"])


def extract_crop(frame: np.ndarray, frame_to_canon: np.ndarray, geometry: CropGeometry) -> np.ndarray:
    """Cut the canonical mouth region out of a frame, uint8 (h, w, 3)."""
    m = geometry.frame_to_crop(frame_to_canon)
    return cv2.warpAffine(frame, m, geometry.size, flags=cv2.INTER_AREA if m[0, 0] < 0.8 else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


def landmark_sets(canon_points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split canonical (..., 478, 2) landmarks into lips (40), jaw (21) and nose base (5)."""
    return (canon_points[..., list(LIPS), :], canon_points[..., list(JAW), :],
            canon_points[..., list(NOSE_BOTTOM), :])


def build_mask(geometry: CropGeometry, canon_points: np.ndarray) -> np.ndarray:
    """Feathered paste mask for a typical face, float32 (h, w) in [0, 1].

    Two regions at full strength: the lips enlarged well beyond their rest size
    (so a broad smile in the base frame is covered too), and the lower face from
    just under the nose to a little below the chin (so an opening jaw stays inside).
    The edge falls on cheek skin, where colour matching hides it.
    """
    w, h = geometry.size
    c2p = geometry.canon_to_crop()
    lips, jaw, nose = landmark_sets(canon_points)
    outer = lips[:20]
    centre = outer.mean(0)
    lips_big = centre + (outer - centre) * np.array([1.45, 2.2])
    jaw_in = centre + (jaw - centre) * np.array([0.8, 1.0])
    jaw_in[6:15, 1] += 0.05  # below the chin, so a dropped jaw is inside the mask
    top_y = nose[:, 1].max() + 0.02
    left, right = jaw_in[:, 0].min(), jaw_in[:, 0].max()
    face = np.vstack([[[left, top_y], [right, top_y]], jaw_in[jaw_in[:, 1] > top_y][::-1]])
    core = np.zeros((h, w), np.float32)
    sigma = FEATHER * geometry.px_per_unit
    k = max(int(sigma), 1)
    cv2.fillPoly(core, [np.round(apply(c2p, face) * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    # Pull the face polygon's edge in so that its feather ends on the face, not beyond it.
    core = cv2.erode(core, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    cv2.fillPoly(core, [np.round(apply(c2p, lips_big) * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(core, (0, 0), sigma)
    # The enlarged lips must be covered fully (no ghost of the base frame's lips), but
    # without a step in the mask: blur a grown copy, which is ~1 over the lips themselves.
    lips_fill = np.zeros((h, w), np.float32)
    cv2.fillPoly(lips_fill, [np.round(apply(c2p, lips_big) * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    lips_fill = cv2.GaussianBlur(cv2.dilate(lips_fill, np.ones((2 * k + 1, 2 * k + 1), np.uint8)), (0, 0), sigma)
    return np.clip(np.maximum(mask, lips_fill) * 1.25, 0.0, 1.0).astype(np.float32)


#: Per-lip-point offset (canonical units) that opens a mouth for triangulation.
_OPEN_OFFSET = np.r_[np.zeros(1), np.full(9, 0.12), np.zeros(10), np.zeros(1), np.full(9, 0.10),
                     np.zeros(1), np.full(9, -0.02)]


def target_jaw(lips: np.ndarray, base_lips: np.ndarray, base_jaw: np.ndarray) -> np.ndarray:
    """The base jaw line moved down as far as the target's lower lip drops below the base's,
    so an opening mouth takes the chin with it (canonical units, (21, 2))."""
    from podium.avatars.landmarks import APERTURE_PAIR

    bot = APERTURE_PAIR[1]
    jaw = np.array(base_jaw, np.float64)
    jaw[:, 1] += _jaw_weights(len(jaw)) * float(lips[bot, 1] - base_lips[bot, 1]) * 0.8
    return jaw


def _jaw_weights(n: int = len(JAW)) -> np.ndarray:
    d = np.abs(np.arange(n) - (n - 1) / 2) / ((n - 1) / 2)
    return np.clip(1.0 - d * 1.15, 0.0, 1.0) ** 1.5


def reshape_crop(crop: np.ndarray, geometry: CropGeometry, src: tuple, dst_lips: np.ndarray,
                 *, frame: tuple | None = None, paint: bool | None = None,
                 teeth_rgb=None) -> np.ndarray:
    """Warp a mouth crop so its lips take a new shape; the jaw follows the lower lip.

    Parameters
    ----------
    crop : np.ndarray
        uint8 (h, w, 3) crop.
    src : tuple of np.ndarray
        (lips (40, 2), jaw (21, 2), nose (5, 2)) of the crop, canonical units.
    dst_lips : np.ndarray
        (40, 2) target lip shape, canonical units.
    frame : tuple of np.ndarray, optional
        (lips, jaw, nose) of the frame the crop will be pasted on. Its nose and jaw
        line become the warp's targets, so head pitch and the frame's own jaw
        position line up with the crop (no double nose, no seam under the chin).
    paint : bool, optional
        Paint a synthetic inner mouth. By default it is painted when the target opens
        much wider than the source, whose own inner mouth would only be stretched.

    Returns
    -------
    crop : np.ndarray
        uint8 (h, w, 3).
    """
    from podium.avatars.landmarks import APERTURE_PAIR
    from podium.avatars.mouth_synth import paint_inner_mouth

    s_lips, s_jaw, s_nose = src
    top, bot = APERTURE_PAIR
    b_lips, b_jaw, b_nose = frame if frame is not None else src
    d_jaw = target_jaw(dst_lips, b_lips, b_jaw)
    c2p = geometry.canon_to_crop()
    w, h = geometry.size
    border = border_points(w, h, per_side=5)
    src_pts = np.vstack([apply(c2p, np.vstack([s_lips, s_jaw, s_nose])), border])
    dst_pts = np.vstack([apply(c2p, np.vstack([dst_lips, d_jaw, b_nose])), border])
    # Triangulate an opened copy of the source so lip and mouth-interior triangles
    # stay separate whichever way the mouth moves.
    ref_lips = s_lips.copy()
    ref_lips[:, 1] += _OPEN_OFFSET
    ref = np.vstack([apply(c2p, np.vstack([ref_lips, s_jaw + [0, 0.1], s_nose])), border])
    mx, my = warp_maps(src_pts, dst_pts, w, h, triangulate(ref))
    out = cv2.remap(crop, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    src_gap = s_lips[bot, 1] - s_lips[top, 1]
    dst_gap = dst_lips[bot, 1] - dst_lips[top, 1]
    if paint is None:
        paint = dst_gap > 1.6 * max(src_gap, 0.0) + 0.03
    if paint and dst_gap > 0.01:
        out = paint_inner_mouth(out, apply(c2p, dst_lips), geometry.px_per_unit, teeth_rgb=teeth_rgb)
    return out
