"""The neural renderer: a per-avatar network draws the lower face for target lips.

Per crop: the warp renderer warps the avatar's nearest real mouth to the target
lips (the aligned source); the network, given that, the base crop with its lower
face blanked, maps of the target landmarks and the avatar's reference crops,
draws the lower face. The network's output keeps its coarse shading and shape
but takes its finest detail from the aligned source (:func:`transfer_detail`):
an L1-trained network averages pores, lip lines and tooth edges away, while the
aligned source has them from a real frame.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from podium.avatars.bank import MouthBank
from podium.lipsync.neural import inputs as I
from podium.lipsync.neural.model import from_pretrained
from podium.lipsync.warp_renderer import WarpRenderer

#: Gaussian sigma, in model-resolution pixels, below which detail comes from the aligned source.
#: Measured on the five shared clips (reconstruction benchmark, renderers trained 4 min): mouth
#: sharpness over the real frames' 0.82 without, 0.93 at 3 px, 0.94 at 6 px; lip distance and
#: aperture correlation level (within 0.02).
DETAIL_SIGMA = 3.0


def transfer_detail(image: np.ndarray, source: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` with its fine detail replaced by ``source``'s where ``weight`` is 1.

    Parameters
    ----------
    image, source : np.ndarray
        uint8 (h, w, 3) crops of the same place.
    weight : np.ndarray
        float32 (h, w) in [0, 1]: 0 keeps ``image`` exactly.
    sigma : float
        Gaussian sigma in pixels separating coarse from fine detail; 0 returns ``image``.

    Returns
    -------
    np.ndarray
        uint8 (h, w, 3): ``image``'s blur plus ``source``'s detail (above the blur), blended by weight.
    """
    if sigma <= 0:
        return image
    img, src = image.astype(np.float32), source.astype(np.float32)
    fine = lambda x: x - cv2.GaussianBlur(x, (0, 0), sigma)
    out = img + (fine(src) - fine(img)) * weight[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


class NeuralRenderer:
    """Produces mouth crops for target lip shapes with the avatar's trained network.

    Same interface as :class:`lipsync.warp_renderer.WarpRenderer`. Rendering is
    deterministic: the same lips, frame and base crop give the same pixels.

    Parameters
    ----------
    bank : MouthBank
        The avatar's mouth bank (crop geometry, mean nose and jaw).
    weights_dir : Path
        Folder written by :func:`lipsync.neural.train_renderer`.
    device : str or torch.device, optional
        Default: CUDA when available, else the CPU.
    """

    def __init__(self, bank: MouthBank, weights_dir: Path, *, device=None):
        self.bank = bank
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        # Channels-last runs the CPU's convolutions ~1.6x faster at inference (not in training,
        # where the backward pass is slower so).
        self.model = from_pretrained(weights_dir, device=self.device).to(memory_format=torch.channels_last)
        self.config = self.model.config
        self.crop_size = bank.geometry.size
        self.scale = I.fit_scale(self.crop_size, self.config.size)
        self.ppu = bank.geometry.px_per_unit * self.scale
        # Without a frame, lips are drawn over the bank's typical jaw.
        self._mean_lips = bank.lips.mean(0).astype(np.float64)
        self._mean_jaw = bank.jaw.mean(0).astype(np.float64)
        self._cache: tuple | None = None
        self.warp = WarpRenderer(bank)
        # Where the network draws: the paste mask, zero outside the blanked region so
        # the base stays untouched there.
        self._detail_weight = np.where(bank.mask > self.config.mask_threshold, bank.mask, 0.0).astype(np.float32)
        self.detail_sigma = DETAIL_SIGMA / self.scale

    @property
    def ref_nose(self) -> np.ndarray:
        """The avatar's mean nose position (canonical), the reference target lips are given against."""
        return self.warp.ref_nose

    def render(self, lips: np.ndarray, frame: tuple | None = None,
               base_crop: np.ndarray | None = None) -> np.ndarray:
        """Mouth crop, uint8 (h, w, 3), whose lips have shape ``lips``.

        Parameters
        ----------
        lips : np.ndarray
            (40, 2) target lips, canonical units, relative to the avatar's mean nose.
        frame : tuple of np.ndarray, optional
            (lips, jaw, nose) canonical landmarks of the base frame: the lips are
            placed relative to its nose (so they follow head pitch) and its jaw line,
            lowered as far as the target's lower lip drops, is drawn as the target jaw.
        base_crop : np.ndarray
            uint8 (h, w, 3) the base frame's mouth crop; everything outside the
            blanked lower face is kept from it.
        """
        if base_crop is None:
            raise ValueError("the neural renderer needs the base frame's mouth crop")
        target = np.asarray(lips, np.float64)
        placed = self.warp.place(target, frame)
        if frame is not None:
            jaw = I.target_jaw(placed, np.asarray(frame[0], np.float64), frame[1])
        else:
            jaw = I.target_jaw(placed, self._mean_lips, self._mean_jaw)
        key = (placed.round(5).tobytes(), jaw.round(5).tobytes(), hash(base_crop.tobytes()))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        aligned = self.warp.render(target, frame, base_crop)
        out = self.forward([placed], [jaw], [base_crop], [aligned])[0]
        self._cache = (key, out)
        return out

    @torch.no_grad()
    def forward(self, lips: list, jaw: list, base_crops: list, aligned: list) -> list:
        """Network output for placed lips and jaw (canonical), base crops and aligned sources (crop size)."""
        geom, size = self.bank.geometry, self.config.size
        maps = np.stack([I.draw_maps(I.lips_px(lp, geom, self.scale), I.lips_px(j, geom, self.scale), size, self.ppu)
                         for lp, j in zip(lips, jaw)])
        dev = self.device
        tensor = lambda imgs: (torch.from_numpy(np.stack([I.to_model(np.asarray(b, np.uint8), size, self.scale)
                                                          for b in imgs])).to(dev).permute(0, 3, 1, 2)
                               .float().div_(127.5).sub_(1.0).contiguous(memory_format=torch.channels_last))
        # Denormal activations make CPU convolutions ~30x slower; flushing them is harmless.
        torch.set_flush_denormal(True)
        try:
            maps = torch.from_numpy(maps).to(dev).contiguous(memory_format=torch.channels_last)
            out = self.model(tensor(base_crops), maps, tensor(aligned))
        finally:
            torch.set_flush_denormal(False)
        out = out.add_(1.0).mul_(127.5).clamp_(0, 255).round_().byte().permute(0, 2, 3, 1).cpu().numpy()
        return [transfer_detail(I.from_model(o, self.crop_size, self.scale), np.asarray(a, np.uint8),
                                self._detail_weight, self.detail_sigma) for o, a in zip(out, aligned)]
