"""What the network sees: crops at the model resolution, the blanking mask, landmark maps.

Shared by training and rendering so both prepare inputs identically. Crops are
not resampled: they are padded (edge-replicated, right and bottom) to the model
size, because every resampling costs visible sharpness (measured: a resize to
256x224 and back keeps only ~55-65 % of the Laplacian variance of a mouth).
Only a crop larger than the model size is scaled down first.
"""

from __future__ import annotations

import cv2
import numpy as np

# The jaw rule is the warp renderer's own, so both renderers open the chin alike.
from podium.avatars.bank import target_jaw  # noqa: F401  (re-exported for the trainer)
from podium.avatars.landmarks import apply, lip_features
from podium.avatars.mouth import CropGeometry

_SUB = 4  # sub-pixel bits for cv2 drawing (coordinates * 16)
_ONE = 1 << _SUB


def model_size(geometry: CropGeometry, multiple: int = 32, *, cap: tuple[int, int] = (320, 288)) -> tuple[int, int]:
    """(width, height) of the model input: the crop size rounded up to ``multiple``, capped."""
    w, h = geometry.size
    up = lambda v: int(-(-v // multiple) * multiple)
    return min(up(w), cap[0]), min(up(h), cap[1])


def fit_scale(crop_size: tuple[int, int], size: tuple[int, int]) -> float:
    """Scale applied to a crop of ``crop_size`` (w, h) so it fits ``size``: 1 unless too big."""
    return float(min(1.0, size[0] / crop_size[0], size[1] / crop_size[1]))


def to_model(img: np.ndarray, size: tuple[int, int], scale: float = 1.0) -> np.ndarray:
    """Scale (only if ``scale`` < 1) and edge-pad an (h, w[, c]) image to ``size`` (w, h)."""
    if scale < 1.0:
        h, w = img.shape[:2]
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    pad = ((0, max(size[1] - h, 0)), (0, max(size[0] - w, 0))) + ((0, 0),) * (img.ndim - 2)
    return np.pad(img[: size[1], : size[0]], pad, mode="edge")


def from_model(img: np.ndarray, crop_size: tuple[int, int], scale: float = 1.0) -> np.ndarray:
    """Inverse of :func:`to_model`: cut the crop area and scale back to ``crop_size`` (w, h)."""
    w, h = crop_size
    if scale < 1.0:
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        return cv2.resize(np.ascontiguousarray(img[:sh, :sw]), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(img[:h, :w])


def hard_mask(paste_mask: np.ndarray, size: tuple[int, int], scale: float, px_per_unit: float,
              threshold: float) -> np.ndarray:
    """float32 (H, W) 0/1: where the base crop is blanked and the output is used.

    Everything the paste mask touches (above ``threshold``), grown by 0.03 units,
    so the generated pixels cover the whole feathered edge.
    """
    m = (paste_mask > threshold).astype(np.uint8)
    r = max(1, int(round(0.03 * px_per_unit)))
    m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    m = to_model(m, size, scale)
    m[paste_mask.shape[0]:, :] = 0
    m[:, paste_mask.shape[1]:] = 0
    return m.astype(np.float32)


def _pts(p: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(p, np.float64) * _ONE).astype(np.int32)


def draw_maps(lips_px: np.ndarray, jaw_px: np.ndarray, size: tuple[int, int], px_per_unit: float) -> np.ndarray:
    """Landmark maps, float32 (4, H, W) in [0, 1], anti-aliased, sub-pixel placed.

    0: lip flesh (outer polygon minus the mouth opening); 1: mouth opening (inner
    polygon); 2: outer and inner lip contours; 3: jaw line.
    """
    w, h = size
    maps = np.zeros((4, h, w), np.float32)
    outer, inner = _pts(lips_px[:20]), _pts(lips_px[20:])
    cv2.fillPoly(maps[0], [outer], 1.0, cv2.LINE_AA, _SUB)
    cv2.fillPoly(maps[1], [inner], 1.0, cv2.LINE_AA, _SUB)
    maps[0] = np.clip(maps[0] - maps[1], 0.0, 1.0)
    t = max(1, int(round(px_per_unit / 90)))
    cv2.polylines(maps[2], [outer, inner], True, 1.0, t, cv2.LINE_AA, _SUB)
    cv2.polylines(maps[3], [_pts(jaw_px)], False, 1.0, t, cv2.LINE_AA, _SUB)
    return maps


def mouth_region(lips_px: np.ndarray, size: tuple[int, int], px_per_unit: float) -> np.ndarray:
    """float32 (H, W): the outer lip polygon grown by 0.06 units (where loss is weighted up)."""
    w, h = size
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [_pts(lips_px[:20])], 1, cv2.LINE_8, _SUB)
    r = max(1, int(round(0.06 * px_per_unit)))
    return cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))).astype(np.float32)


def synthetic_count(bank, record_manifest=None) -> int:
    """Number of synthetic (painted-mouth) crops at the end of a footage avatar's bank.

    They were all made from one closed crop, so they share its jaw and nose exactly.
    """
    if record_manifest is None or not record_manifest.quality.get("synthetic_mouths"):
        return 0
    n = len(bank)
    k = 1
    while (k < n and np.array_equal(bank.nose[n - 1 - k], bank.nose[-1])
           and np.array_equal(bank.jaw[n - 1 - k], bank.jaw[-1])):
        k += 1
    return k if k < n else 0


def choose_refs(bank, n_refs: int, n_real: int) -> list[int]:
    """Bank indices of the reference crops: the most closed mouth, then the most open one
    (teeth and inner lips), then the widest, ... (real crops first)."""
    lips = np.asarray(bank.lips, np.float64)
    pool = np.arange(n_real if n_real >= max(n_refs, 1) else len(bank))
    feats = lip_features(lips[pool])
    order = [int(pool[np.argmin(feats[:, 0])])]
    ap = feats[:, 0].copy()
    if ap.max() < 0.1 and len(pool) < len(bank):
        # The footage never opens the mouth: the painted openings are the only teeth.
        pool = np.arange(len(bank))
        ap = lip_features(lips)[:, 0]
    rank = [int(pool[i]) for i in np.argsort(-ap)]
    extra = [int(i) for i in np.argsort(-lip_features(lips)[:, 1])]
    for i in rank[:1] + extra + rank[1:]:
        if len(order) >= n_refs:
            break
        if i not in order:
            order.append(i)
    return order[:n_refs]


def lips_px(canon: np.ndarray, geometry: CropGeometry, scale: float = 1.0) -> np.ndarray:
    """Canonical points -> model pixels."""
    return apply(geometry.canon_to_crop(), np.asarray(canon, np.float64)) * scale
