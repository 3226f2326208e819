"""The warp renderer: real mouth images from the avatar's bank, chosen by shape and
warped to the exact target lips (Video Rewrite style). Needs no training."""

from __future__ import annotations

import numpy as np

from podium.avatars.bank import MouthBank, reshape_crop
from podium.avatars.landmarks import apply, lip_features
from podium.avatars.mouth_synth import teeth_colour

#: Weight of the inner-lip gap difference (inter-ocular units) added to the shape distance
#: when a bank mouth is chosen for a target: a mouth warped much more closed than it was
#: squeezes its dark interior into the lip line (which reads as parted lips), and one warped
#: much wider stretches its teeth.
APERTURE_WEIGHT = 6.0


def mouth_distance(bank_flat: np.ndarray, bank_gaps: np.ndarray, lips: np.ndarray,
                   *, aperture_weight: float = APERTURE_WEIGHT) -> np.ndarray:
    """How far each bank mouth is from target lips, for choosing the one to warp.

    Parameters
    ----------
    bank_flat : np.ndarray
        (k, 80) nose-relative bank lips, flattened, canonical units.
    bank_gaps : np.ndarray
        (k,) inner-lip gap of each bank mouth, inter-ocular units.
    lips : np.ndarray
        (40, 2) target lips in the same frame as ``bank_flat``.

    Returns
    -------
    np.ndarray
        (k,) distances: shape distance plus ``aperture_weight`` times the gap difference.
    """
    lips = np.asarray(lips, np.float64)
    gap = float(lip_features(lips)[0])
    return (np.linalg.norm(bank_flat - lips.reshape(1, -1), axis=1)
            + aperture_weight * np.abs(bank_gaps - gap))


class WarpRenderer:
    """Produces mouth crops for target lip shapes.

    Parameters
    ----------
    bank : MouthBank
        The avatar's mouth crops.
    stickiness : float
        Keep the previous bank image unless another is this much closer (relative),
        so texture does not flicker between near-identical mouths.
    """

    def __init__(self, bank: MouthBank, *, stickiness: float = 0.25):
        self.bank = bank
        self.stickiness = stickiness
        # Shapes are compared relative to the nose, so head pitch does not count as shape.
        self.ref_nose = bank.nose.mean(axis=(0, 1))
        rel = bank.lips - bank.nose.mean(axis=1, keepdims=True) + self.ref_nose
        self._flat = rel.reshape(len(bank), -1).astype(np.float32)
        self._gap = lip_features(bank.lips)[:, 0].astype(np.float32)
        self._prev: int | None = None
        self._cache: tuple | None = None
        c2p = bank.geometry.canon_to_crop()
        self._teeth = next((t for t in (teeth_colour(bank.crops[k], apply(c2p, bank.lips[k]))
                                        for k in range(min(len(bank), 40))) if t), None)

    def choose(self, lips: np.ndarray) -> int:
        """Index of the bank image used for target lips (40, 2), by :func:`mouth_distance`."""
        dist = mouth_distance(self._flat, self._gap, lips)
        best = int(np.argmin(dist))
        if self._prev is not None and dist[self._prev] <= dist[best] * (1 + self.stickiness) + 1e-3:
            best = self._prev
        self._prev = best
        return best

    def place(self, lips: np.ndarray, frame: tuple | None) -> np.ndarray:
        """Target lips moved from the avatar's mean nose to the base frame's nose (head pitch)."""
        if frame is None:
            return np.asarray(lips, np.float64)
        return np.asarray(lips, np.float64) + (np.asarray(frame[2], np.float64).mean(0) - self.ref_nose)

    def render(self, lips: np.ndarray, frame: tuple | None = None,
               base_crop: np.ndarray | None = None) -> np.ndarray:
        """Mouth crop, uint8 (h, w, 3), whose lips have shape ``lips``.

        Parameters
        ----------
        lips : np.ndarray
            (40, 2) target lips, canonical units, relative to the avatar's mean nose.
        frame : tuple of np.ndarray, optional
            (lips, jaw, nose) canonical landmarks of the base frame; the target lips
            are placed relative to its nose and the crop's jaw is fitted to its jaw.
        base_crop : np.ndarray, optional
            uint8 (h, w, 3) the base frame's own mouth crop; unused here (the warp
            renderer draws on real bank mouths), part of the renderer interface.
        """
        k = self.choose(lips)
        lips = self.place(lips, frame)
        key = (k, lips.round(4).tobytes(), None if frame is None else np.round(frame[1], 4).tobytes())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        b = self.bank
        crop = reshape_crop(b.crops[k], b.geometry, (b.lips[k], b.jaw[k], b.nose[k]), lips,
                            frame=frame, teeth_rgb=self._teeth)
        self._cache = (key, crop)
        return crop
