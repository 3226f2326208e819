"""The neural lip renderer's networks and their on-disk format.

The generator is a small convolutional U-Net. Its input, at the model resolution,
is the base crop with the lower face blanked out, the blanking mask, maps drawn
from the target landmarks, the *aligned source* (the avatar's nearest real mouth
warped to the target landmarks, i.e. the warp renderer's output) and a few fixed
reference crops of the same person. It predicts a correction of the aligned source
inside the mask (the last layer starts small, so an untrained network reproduces
the warp almost exactly): texture comes from real pixels and stays sharp, while the network
learns what a plain warp gets wrong (stretched teeth and lip texture, painted mouth
interiors, seams with the base's cheeks and jaw). The heavy layers run at a quarter
of the model resolution (two stride-2 stem convolutions); the output comes back to
full resolution through pixel shuffles with skips from the input, which is much
cheaper on a CPU than full-resolution convolutions.

Weights are stored as ``model.safetensors`` beside a ``config.json`` holding the
:class:`RendererConfig` (no pickles).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
#: Landmark maps: outer lips filled, mouth interior filled, lip contours, jaw line.
N_MAPS = 4
FORMAT = 1


@dataclass(frozen=True)
class RendererConfig:
    """Shape of the network and of its inputs.

    Attributes
    ----------
    width, height : int
        Model resolution in pixels; crops are resized to it and the output back.
        Multiples of ``4 * 2 ** (len(channels) - 1)``.
    stem : tuple[int, int]
        Channels at 1/2 and 1/4 resolution (the stem and the last decoder stages).
    channels : tuple[int, ...]
        Channels of the U-Net levels from 1/4 resolution down.
    n_refs : int
        Reference crops given with every input.
    mask_threshold : float
        The bank paste mask above this (then dilated) is blanked in the base crop.
    blocks : int
        Residual blocks at the bottom of the U-Net.
    """

    width: int = 256
    height: int = 224
    stem: tuple[int, int] = (24, 48)
    channels: tuple[int, ...] = (64, 96, 128, 192)
    n_refs: int = 2
    mask_threshold: float = 0.04
    blocks: int = 1
    norm: bool = False
    format: int = FORMAT

    @property
    def in_channels(self) -> int:
        return 3 + 1 + N_MAPS + 3 + 3 * self.n_refs

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "RendererConfig":
        data = json.loads(text)
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown renderer config keys: {sorted(unknown)}")
        for key in ("stem", "channels"):
            if key in data:
                data[key] = tuple(int(v) for v in data[key])
        cfg = cls(**data)
        if cfg.format != FORMAT:
            raise ValueError(f"renderer format {cfg.format}, this Podium reads format {FORMAT}")
        return cfg


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride, padding=k // 2)


def _cna(cin: int, cout: int, stride: int = 1, norm: bool = False) -> list:
    """conv (- group norm) - leaky ReLU."""
    layers = [_conv(cin, cout, 3, stride)]
    if norm:
        layers.append(nn.GroupNorm(min(8, cout // 4), cout))
    return layers + [nn.LeakyReLU(0.2, inplace=True)]


class _Block(nn.Sequential):
    """conv - act - conv - act."""

    def __init__(self, cin: int, cout: int, norm: bool = False):
        super().__init__(*_cna(cin, cout, norm=norm), *_cna(cout, cout, norm=norm))


class _Res(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.a, self.b = _conv(c, c), _conv(c, c)

    def forward(self, x):
        return x + self.b(F.leaky_relu(self.a(x), 0.2))


class _Up(nn.Module):
    """x2 upsample by pixel shuffle, concatenate the skip, fuse."""

    def __init__(self, cin: int, cskip: int, cout: int, *, double: bool = True, norm: bool = False):
        super().__init__()
        self.expand = nn.Conv2d(cin, cout * 4, 1)
        self.fuse = _Block(cout + cskip, cout, norm) if double else nn.Sequential(
            *_cna(cout + cskip, cout, norm=norm))

    def forward(self, x, skip):
        x = F.pixel_shuffle(self.expand(x), 2)
        return self.fuse(torch.cat([F.leaky_relu(x, 0.2), skip], 1))


class LipGenerator(nn.Module):
    """The lower-face generator of one avatar.

    Holds, as buffers saved with the weights, the blanking mask and the avatar's
    reference crops, so a saved model is self-contained.

    ``forward(base, maps, aligned)``: base crop (n, 3, H, W) in [-1, 1], landmark
    maps (n, N_MAPS, H, W) in [0, 1], aligned source (n, 3, H, W) in [-1, 1] -> crop
    (n, 3, H, W): aligned source plus the predicted correction inside the mask, the
    base outside it.
    """

    def __init__(self, config: RendererConfig):
        super().__init__()
        self.config = config
        c0, c1 = config.stem
        ch = config.channels
        h, w = config.height, config.width
        self.register_buffer("mask", torch.zeros(1, 1, h, w))
        self.register_buffer("refs", torch.zeros(1, 3 * config.n_refs, h, w))
        act = lambda: nn.LeakyReLU(0.2, inplace=True)
        nm = config.norm
        self.stem0 = nn.Sequential(_conv(config.in_channels, c0, 3, 2), act())                    # 1/2
        self.stem1 = nn.Sequential(*_cna(c0, c1, 2, nm), *_cna(c1, ch[0], 1, nm))                  # 1/4
        self.down = nn.ModuleList(nn.Sequential(*_cna(a, b, 2, nm), *_cna(b, b, 1, nm))
                                  for a, b in zip(ch[:-1], ch[1:]))
        self.mid = nn.Sequential(*[_Res(ch[-1]) for _ in range(config.blocks)])
        self.up = nn.ModuleList(_Up(b, a, a, norm=nm) for a, b in zip(ch[-2::-1], ch[:0:-1]))
        self.up_half = _Up(ch[0], c0, c1, double=False)                                          # 1/2
        # Full resolution: pixel shuffle of the 1/2 features, fused with the raw input.
        self.head_expand = nn.Conv2d(c1, 16 * 4, 1)
        self.head = nn.Sequential(_conv(16 + config.in_channels, 16), act(), _conv(16, 3))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # He init for leaky ReLU keeps activations from fading through the depth,
                # which matters when training gets only a few hundred steps.
                nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)
        for r in self.mid:
            r.b.weight.data.mul_(0.1)
        # A small last layer: an untrained network reproduces the aligned source almost
        # exactly, yet every layer gets gradients from the first step (a zero layer would
        # stall the others until it has grown).
        self.head[-1].weight.data.mul_(0.05)

    def inputs(self, base: torch.Tensor, maps: torch.Tensor, aligned: torch.Tensor) -> torch.Tensor:
        n = base.shape[0]
        m = self.mask.expand(n, -1, -1, -1)
        return torch.cat([base * (1 - m), m, maps, aligned, self.refs.expand(n, -1, -1, -1)], 1)

    def forward(self, base: torch.Tensor, maps: torch.Tensor, aligned: torch.Tensor) -> torch.Tensor:
        x = self.inputs(base, maps, aligned)
        s0 = self.stem0(x)
        h = self.stem1(s0)
        skips = [h]
        for d in self.down:
            h = d(h)
            skips.append(h)
        h = self.mid(h)
        for up, skip in zip(self.up, skips[-2::-1]):
            h = up(h, skip)
        h = self.up_half(h, s0)
        h = F.leaky_relu(F.pixel_shuffle(self.head_expand(h), 2), 0.2)
        out = aligned + self.head(torch.cat([h, x], 1)).float()
        return out * self.mask + base * (1 - self.mask)


class PatchDiscriminator(nn.Module):
    """Small PatchGAN (hinge loss) on mouth patches, conditioned on the landmark maps."""

    def __init__(self, in_channels: int = 3 + N_MAPS, ch: int = 32):
        super().__init__()
        sn = nn.utils.spectral_norm
        act = lambda: nn.LeakyReLU(0.2, inplace=True)
        self.net = nn.Sequential(
            sn(nn.Conv2d(in_channels, ch, 4, 2, 1)), act(),
            sn(nn.Conv2d(ch, ch * 2, 4, 2, 1)), act(),
            sn(nn.Conv2d(ch * 2, ch * 4, 4, 2, 1)), act(),
            sn(nn.Conv2d(ch * 4, 1, 3, 1, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def state_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    from safetensors.torch import save

    return save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}, metadata=metadata)


def save_pretrained(model: LipGenerator, directory: str | Path, *, metadata: dict[str, str] | None = None) -> None:
    """Write ``config.json`` and ``model.safetensors`` into ``directory`` (atomically each)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(directory / WEIGHTS_FILE, state_bytes(model.state_dict(), metadata))
    _atomic_write(directory / CONFIG_FILE, model.config.to_json().encode("utf-8"))


def from_pretrained(directory: str | Path, *, device=None) -> LipGenerator:
    """Load a generator written by :func:`save_pretrained`, in eval mode."""
    from safetensors.torch import load_file

    directory = Path(directory)
    config = RendererConfig.from_json((directory / CONFIG_FILE).read_text("utf-8"))
    model = LipGenerator(config)
    model.load_state_dict(load_file(str(directory / WEIGHTS_FILE), device="cpu"))
    return model.to(device or "cpu").eval()


def count_flops(config: RendererConfig) -> float:
    """Multiply-adds x 2 of one forward pass at the model resolution (convolutions only)."""
    model = LipGenerator(config)
    total = [0.0]

    def hook(mod, inp, out):
        k = mod.weight[0].numel()
        total[0] += 2.0 * k * out.numel()

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        z = torch.zeros(1, 3, config.height, config.width)
        model(z, torch.zeros(1, N_MAPS, config.height, config.width), z)
    for h in hs:
        h.remove()
    return total[0]


LipGenerator.save_pretrained = save_pretrained
LipGenerator.from_pretrained = staticmethod(from_pretrained)
