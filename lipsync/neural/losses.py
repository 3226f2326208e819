"""Losses of the neural lip renderer's training, on images in [-1, 1].

Inside the blanked region: L1 (weighted up around the lips), L1 of image
gradients, L1 of the fine detail (high-pass, :func:`blur` separating it) against
the aligned source's when that is a real mouth (without it the output goes soft:
L1 alone averages the teeth it cannot predict), and, late in the run, a small
PatchGAN on the mouth (hinge loss) whose inputs :func:`patches` cuts out. The
loop (:mod:`podium.lipsync.neural.train`) weighs and sums them.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F


def weighted_l1(out, target, weight):
    """Mean absolute difference weighted per pixel by ``weight`` (n, 1, H, W), over channels too."""
    return (weight * (out - target).abs()).sum() / (weight.sum() * out.shape[1] + 1e-6)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (n, c, H, W), reflect-padded."""
    r = max(1, int(math.ceil(2.5 * sigma)))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def gradient_l1(out, target, weight):
    """:func:`weighted_l1` of horizontal and vertical finite differences (a difference counts
    where both its pixels are weighted)."""
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]
    wx, wy = weight[..., :, 1:] * weight[..., :, :-1], weight[..., 1:, :] * weight[..., :-1, :]
    return 0.5 * (weighted_l1(dx(out), dx(target), wx) + weighted_l1(dy(out), dy(target), wy))


def patches(x: torch.Tensor, corners: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """The patch of each image of ``x`` at its top-left corner (x, y); ``size`` is (pw, ph)."""
    pw, ph = size
    return torch.stack([x[i, :, y:y + ph, x0:x0 + pw] for i, (x0, y) in enumerate(corners)])
