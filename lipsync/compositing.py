"""Pasting a rendered mouth crop back onto a full frame without a visible seam."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from podium.avatars.landmarks import invert_similarity
from podium.avatars.mouth import CropGeometry


@dataclass
class Compositor:
    """Feathered, colour-matched paste of mouth crops (stateful: colour is smoothed over time).

    Parameters
    ----------
    geometry : CropGeometry
        Crop placement in the canonical face frame.
    mask : np.ndarray
        float32 (h, w) paste mask in crop pixels.
    smoothing : float
        Weight of the previous frame's colour offset (0 = no smoothing).
    """

    geometry: CropGeometry
    mask: np.ndarray
    smoothing: float = 0.85
    _offset: np.ndarray | None = field(default=None, init=False, repr=False)
    _ring: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Colour statistics come from the mask's soft edge: pixels both images show.
        self._ring = ((self.mask > 0.05) & (self.mask < 0.7)).astype(np.float32)

    def paste(self, frame: np.ndarray, crop: np.ndarray, frame_to_canon: np.ndarray) -> np.ndarray:
        """Blend ``crop`` into a copy of ``frame``.

        Parameters
        ----------
        frame : np.ndarray
            uint8 (H, W, 3) base frame.
        crop : np.ndarray
            uint8 (h, w, 3) mouth crop in crop coordinates.
        frame_to_canon : np.ndarray
            (2, 3) canonical transform of the base frame's face.

        Returns
        -------
        frame : np.ndarray
            uint8 (H, W, 3), a new array.
        """
        fwd = self.geometry.frame_to_crop(frame_to_canon)
        inv = invert_similarity(fwd)
        cw, ch = self.geometry.size
        corners = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float64) @ inv[:, :2].T + inv[:, 2]
        H, W = frame.shape[:2]
        x0, y0 = np.clip(np.floor(corners.min(0)).astype(int) - 1, 0, [W, H])
        x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + 1, 0, [W, H])
        out = frame.copy()
        if x1 <= x0 or y1 <= y0:
            return out
        shift = inv.copy()
        shift[:, 2] -= (x0, y0)
        size = (int(x1 - x0), int(y1 - y0))
        patch = cv2.warpAffine(crop, shift, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpAffine(self.mask, shift, size, flags=cv2.INTER_LINEAR)[..., None]
        ring = cv2.warpAffine(self._ring, shift, size, flags=cv2.INTER_NEAREST)
        region = out[y0:y1, x0:x1].astype(np.float32)
        patch = patch.astype(np.float32)
        wsum = ring.sum()
        if wsum > 10:
            diff = ((region - patch) * ring[..., None]).sum((0, 1)) / wsum
            if self._offset is None:
                self._offset = diff
            else:
                self._offset = self.smoothing * self._offset + (1 - self.smoothing) * diff
            patch += self._offset
        blended = region * (1 - alpha) + patch * alpha
        out[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out
