"""The person's mouth-shape model and the crop geometry of the mouth region.

Lip shapes live in the canonical face frame (see :mod:`avatars.landmarks`). The
model keeps four poses learned from the person's own lips - neutral (closed),
open, wide and rounded - plus a PCA of all observed shapes; any mouth target is
``neutral + open_amount * (open - neutral) + spread * (wide|rounded - neutral)``.
Where the footage never shows a pose clearly (a clip of someone barely talking),
that pose falls back to a geometric deformation of the neutral lips, so the
mouth can still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podium.avatars.landmarks import APERTURE_PAIR, CORNER_PAIR, LIPS_INNER, LIPS_OUTER, lip_features

#: Canonical region (x0, y0, x1, y1) the mouth crops cover: nose base to below the chin.
CROP_REGION = (-0.8, 0.15, 0.8, 1.55)
N_LIP = 40
_INNER = slice(len(LIPS_OUTER), N_LIP)
# Inter-ocular units. People talk with inner-lip gaps of about 0.12-0.17 at their most open
# (the five shared presenters: 0.12-0.17 median of their top 10 %), so the footage's own
# open pose is used unless the mouth hardly moved (a silent clip). A fixed 0.28 here used to
# double the opening of most presenters: cartoon mouths and a worse lip distance.
MIN_OPEN_APERTURE = 0.08
FALLBACK_OPEN_APERTURE = 0.2
MIN_SPREAD = 0.06  # relative width change that counts as a real wide/rounded pose


@dataclass(frozen=True)
class CropGeometry:
    """Where mouth crops sit in the canonical frame and at what resolution.

    Attributes
    ----------
    px_per_unit : float
        Crop pixels per inter-ocular distance.
    region : tuple[float, float, float, float]
        Canonical (x0, y0, x1, y1) covered by the crop.
    """

    px_per_unit: float
    region: tuple[float, float, float, float] = CROP_REGION

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of a crop in pixels."""
        x0, y0, x1, y1 = self.region
        return int(round((x1 - x0) * self.px_per_unit)), int(round((y1 - y0) * self.px_per_unit))

    def canon_to_crop(self) -> np.ndarray:
        """(2, 3) affine from canonical coordinates to crop pixels."""
        s = self.px_per_unit
        return np.array([[s, 0.0, -s * self.region[0]], [0.0, s, -s * self.region[1]]])

    def frame_to_crop(self, frame_to_canon: np.ndarray) -> np.ndarray:
        """(2, 3) affine from frame pixels to crop pixels for one frame."""
        c = self.canon_to_crop()
        return np.hstack([c[:, :2] @ frame_to_canon[:, :2],
                          (c[:, :2] @ frame_to_canon[:, 2] + c[:, 2])[:, None]])


def close_inner(lips: np.ndarray) -> np.ndarray:
    """Lips with the inner contour pressed shut (upper and lower inner points meet)."""
    out = lips.copy()
    inner = out[..., _INNER, :]
    # Inner contour runs corner -> lower lip -> corner -> upper lip; point k of the
    # lower half pairs with point 20-k of the upper half.
    lower = inner[..., 1:10, :]
    upper = inner[..., 19:10:-1, :]
    mid_y = (lower[..., 1] + upper[..., 1]) / 2.0
    lower[..., 1] = mid_y
    upper[..., 1] = mid_y
    inner[..., 1:10, :] = lower
    inner[..., 19:10:-1, :] = upper
    out[..., _INNER, :] = inner
    return out


def _lower_lip_weights() -> np.ndarray:
    """How much each lip point follows the jaw when the mouth opens (0 = upper lip)."""
    w = np.zeros(N_LIP)
    # outer: 0 left corner, 1-9 lower lip, 10 right corner, 11-19 upper lip
    profile = np.sin(np.linspace(0, np.pi, 11))
    w[0:11] = profile
    w[20:31] = profile
    w[11:20] = -0.12 * profile[1:10][::-1]
    w[31:40] = -0.12 * profile[1:10][::-1]
    return w


def parametric_open(neutral: np.ndarray, aperture: float) -> np.ndarray:
    """Open neutral lips geometrically: the lower lip drops, the upper lifts a little."""
    w = _lower_lip_weights()
    out = neutral.copy()
    out[:, 1] += w * aperture / (1.0 + 0.12)
    return out


def parametric_spread(neutral: np.ndarray, factor: float) -> np.ndarray:
    """Widen (factor > 1) or round (factor < 1) neutral lips about the mouth centre."""
    centre = neutral.mean(0)
    out = neutral.copy()
    out[:, 0] = centre[0] + (neutral[:, 0] - centre[0]) * factor
    if factor < 1:
        # Rounded lips protrude and look taller from the front.
        out[:, 1] = centre[1] + (neutral[:, 1] - centre[1]) * (1 + 0.6 * (1 - factor))
    return out


@dataclass(frozen=True)
class MouthModel:
    """A person's lip poses in the canonical frame.

    Attributes
    ----------
    neutral, open, wide, rounded : np.ndarray
        Lip shapes, float32 (40, 2), canonical units.
    pca_mean : np.ndarray
        float32 (80,), mean of all observed lip shapes (flattened).
    pca_components : np.ndarray
        float32 (k, 80), principal directions of lip motion.
    pca_variance : np.ndarray
        float32 (k,), variance along each component.
    """

    neutral: np.ndarray
    open: np.ndarray
    wide: np.ndarray
    rounded: np.ndarray
    pca_mean: np.ndarray
    pca_components: np.ndarray
    pca_variance: np.ndarray

    def lips(self, openness: np.ndarray, spread: np.ndarray) -> np.ndarray:
        """Lip shapes for mouth targets.

        Parameters
        ----------
        openness : np.ndarray
            Shape (n,): 0 = closed, 1 = the person's open pose (up to ~1.3).
        spread : np.ndarray
            Shape (n,): -1 = rounded, 0 = neutral, +1 = wide.

        Returns
        -------
        lips : np.ndarray
            float32 (n, 40, 2), canonical units; inner lips pressed shut where openness is 0.
        """
        o = np.asarray(openness, np.float64)[:, None, None]
        s = np.asarray(spread, np.float64)[:, None, None]
        out = (self.neutral + o * (self.open - self.neutral)
               + np.maximum(s, 0) * (self.wide - self.neutral)
               + np.maximum(-s, 0) * (self.rounded - self.neutral))
        shut = np.asarray(openness) <= 1e-3
        if shut.any():
            out[shut] = close_inner(out[shut])
        return out.astype(np.float32)

    def targets(self, lips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mouth targets that best describe observed lip shapes (the inverse of :meth:`lips`).

        Openness is the inner-lip gap over the open pose's; spread is the width left
        over once the opening's own change of width is accounted for, over the wide
        (or rounded) pose's change.

        Parameters
        ----------
        lips : np.ndarray
            Shape (n, 40, 2), canonical units.

        Returns
        -------
        openness, spread : np.ndarray
            float32 (n,), openness clipped to [0, 1.3] and spread to [-1, 1].
        """
        ap, width = np.moveaxis(lip_features(np.asarray(lips, np.float64)), -1, 0)
        w_neutral = float(lip_features(self.neutral)[1])
        w_open = float(lip_features(self.open)[1])
        openness = np.clip(ap / max(self.open_aperture, 1e-6), 0.0, 1.3)
        rest = width - (w_neutral + openness * (w_open - w_neutral))
        wide = max(float(lip_features(self.wide)[1]) - w_neutral, 1e-6)
        narrow = max(w_neutral - float(lip_features(self.rounded)[1]), 1e-6)
        spread = np.where(rest >= 0, rest / wide, rest / narrow)
        return openness.astype(np.float32), np.clip(spread, -1.0, 1.0).astype(np.float32)

    def save(self, path: Path) -> None:
        np.savez(path, **{k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: Path) -> "MouthModel":
        with np.load(path, allow_pickle=False) as data:
            return cls(**{k: data[k].astype(np.float32) for k in cls.__dataclass_fields__})

    @classmethod
    def fit(cls, lips: np.ndarray) -> "MouthModel":
        """Learn the poses from observed lip shapes, shape (n, 40, 2), canonical units."""
        lips = np.asarray(lips, np.float64)
        feats = lip_features(lips)
        ap, width = feats[:, 0], feats[:, 1]
        # The most closed tenth: people talking keep their lips apart through most
        # consonants, so a wider share would take a parted, taller mouth as the rest pose.
        low_ap = ap <= np.quantile(ap, 0.1)
        neutral = close_inner(np.median(lips[low_ap], axis=0))
        n_ap = lip_features(neutral)[1]
        top = ap >= np.quantile(ap, 0.9)
        open_pose = np.median(lips[top], axis=0)
        if lip_features(open_pose)[0] < MIN_OPEN_APERTURE:
            open_pose = parametric_open(neutral, FALLBACK_OPEN_APERTURE)
        calm = ap <= np.median(ap)
        wide_sel = calm & (width >= np.quantile(width[calm], 0.85))
        round_sel = calm & (width <= np.quantile(width[calm], 0.15))
        wide = close_inner(np.median(lips[wide_sel], axis=0))
        rounded = close_inner(np.median(lips[round_sel], axis=0))
        if lip_features(wide)[1] < n_ap * (1 + MIN_SPREAD):
            wide = parametric_spread(neutral, 1.12)
        if lip_features(rounded)[1] > n_ap * (1 - MIN_SPREAD):
            rounded = parametric_spread(neutral, 0.8)
        flat = lips.reshape(len(lips), -1)
        mean = flat.mean(0)
        _, sv, vt = np.linalg.svd(flat - mean, full_matrices=False)
        k = min(8, len(vt))
        var = (sv[:k] ** 2) / max(len(flat) - 1, 1)
        f32 = lambda a: np.asarray(a, np.float32)
        return cls(f32(neutral), f32(open_pose), f32(wide), f32(rounded), f32(mean), f32(vt[:k]), f32(var))

    @property
    def open_aperture(self) -> float:
        """Inner-lip gap of the open pose, inter-ocular units."""
        return float(lip_features(self.open)[0])


__all__ = ["APERTURE_PAIR", "CORNER_PAIR", "CROP_REGION", "CropGeometry", "MouthModel",
           "close_inner", "parametric_open", "parametric_spread", "LIPS_INNER"]
