"""The warp renderer: real mouth images from the avatar's bank, chosen by shape and
warped to the exact target lips (Video Rewrite style). Needs no training."""

from __future__ import annotations

import numpy as np

from avatars.bank import MouthBank, reshape_crop
from avatars.mouth_synth import teeth_colour
from avatars.landmarks import apply


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
        self._flat = bank.lips.reshape(len(bank), -1).astype(np.float32)
        self._prev: int | None = None
        self._cache: tuple | None = None
        c2p = bank.geometry.canon_to_crop()
        self._teeth = next((t for t in (teeth_colour(bank.crops[k], apply(c2p, bank.lips[k]))
                                        for k in range(min(len(bank), 40))) if t), None)

    def choose(self, lips: np.ndarray) -> int:
        """Index of the bank image used for target lips (40, 2)."""
        dist = np.linalg.norm(self._flat - lips.reshape(1, -1), axis=1)
        best = int(np.argmin(dist))
        if self._prev is not None and dist[self._prev] <= dist[best] * (1 + self.stickiness) + 1e-3:
            best = self._prev
        self._prev = best
        return best

    def render(self, lips: np.ndarray) -> np.ndarray:
        """Mouth crop, uint8 (h, w, 3), whose lips have shape ``lips`` (40, 2, canonical)."""
        k = self.choose(lips)
        key = (k, lips.round(4).tobytes())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        b = self.bank
        crop = reshape_crop(b.crops[k], b.geometry, (b.lips[k], b.jaw[k], b.nose[k]), lips,
                            teeth_rgb=self._teeth)
        self._cache = (key, crop)
        return crop
