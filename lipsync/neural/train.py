"""Per-avatar, self-supervised training of the neural lip renderer.

Every bank crop is a training pair: its own landmarks are the target shape, the
crop with its lower face blanked is the base, and the crop itself is the answer.
The aligned source is one of the crop's nearest *other* bank mouths (its neighbours
in time excluded, they are near-copies) warped to its landmarks, exactly as the warp
renderer would draw it; the network learns to turn that into the real crop.
Pairs are shifted together by whole pixels (and now and then scaled a little), so
the network learns to put the mouth where the landmark maps say, not where the
base's context suggests; the blanking mask stays put, as it does when rendering.

A share of the pairs instead gets the most closed mouth, opened by the warp with
a painted inner mouth: what the warp renderer shows when no real mouth is open
enough, and what the network gains most on (mouth-region L1 about halved).

Losses, inside the blanked region: L1 (weighted up around the lips), L1 of image
gradients, L1 of the fine detail (high-pass) against the aligned source's when that
is a real mouth (without it the output goes soft: L1 alone averages the teeth it
cannot predict), and, after 30 % of the run, a small PatchGAN on the mouth (hinge
loss). Training is deterministic for a given step count (the data of step ``k``
comes from a generator seeded with ``(seed, k)``), checkpoints atomically every
few steps and resumes from the checkpoint.

Measured on presenter_e (8 s clip, 200 crops, 288x256 model input) on the 2-core
CPU: 600 steps of 8 in 5.0 min; on 17 held-out crops the mouth-region L1 is 14.4
vs 17.4 for the warp alone (15.9 vs 29.2 from a painted mouth), with the lips'
Laplacian variance at 1.0x the real crops' (0.9x from a painted mouth).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from podium.avatars.bank import MouthBank
from podium.avatars.landmarks import lip_features
from podium.avatars.library import AvatarRecord
from podium.lipsync.neural import inputs as I
from podium.lipsync.neural.model import (LipGenerator, PatchDiscriminator, RendererConfig, _atomic_write,
                                  save_pretrained, state_bytes)
from podium.lipsync.warp_renderer import mouth_distance

STAGE = "training lip renderer"
CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_META = "checkpoint.json"
#: Default length of a training run: ~5 min for an 8 s clip on the 2-core CPU it was tuned on ...
DEFAULT_STEPS = 600
#: ... and the time it may take at most (a slower or busy machine): the schedule then follows the clock.
DEFAULT_MINUTES = 9.0
#: Upper bound on steps when only a time budget is given (a GPU would otherwise run far longer than useful).
MAX_STEPS = 6000


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters (stored in the checkpoint; a resumed run keeps them)."""

    batch: int = 8
    lr: float = 1e-3
    beta1: float = 0.9
    lr_final: float = 0.05          # fraction of lr at the end (cosine)
    warmup: int = 20
    mouth_weight: float = 4.0       # extra L1 weight around the lips
    l1_weight: float = 1.0          # L1 at full resolution
    grad_weight: float = 0.75       # L1 of image gradients
    blur_sigma: float = 1.5         # Gaussian separating coarse from fine detail, pixels
    low_weight: float = 0.0         # L1 of the blurred images (coarse correctness; 0: off)
    detail_weight: float = 0.75     # L1 of the fine detail against the aligned source's (keeps it sharp)
    adv_weight: float = 0.05        # generator hinge loss
    adv_start: float = 0.3          # fraction of the run before the discriminator joins
    d_lr: float = 2e-4
    shift: float = 0.035            # max pair shift, inter-ocular units (whole pixels)
    scale_prob: float = 0.2         # share of pairs also scaled/rotated (resampled)
    scale: float = 0.05
    synthetic_weight: float = 0.35  # sampling weight of painted-mouth crops vs real ones
    sources: int = 2                # nearest other mouths each crop is warped from
    closed_source: float = 0.3      # share of pairs whose source is the most closed mouth instead
                                    # (opened by the warp, inner mouth painted: teaches painted -> real)
    source_gap: int = 3             # bank neighbours (in time) never used as a crop's source
    checkpoint_every: int = 50
    seed: int = 0


@dataclass(frozen=True)
class TrainReport:
    """What a training run did (a resumed run reports the whole run).

    ``loss_start`` and ``loss_end`` are the mean weighted L1 (images in [-1, 1]) of the
    first and last 10 steps; ``curve`` holds (step, mean loss) every 25 steps.
    """

    steps: int
    seconds: float
    loss_start: float
    loss_end: float
    resumed_from: int
    device: str
    weights: str
    curve: tuple = field(default=(), repr=False)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["curve"] = [list(p) for p in self.curve]
        return d

    def summary(self) -> str:
        return (f"{self.steps} steps in {self.seconds / 60:.1f} min on {self.device}, "
                f"loss {self.loss_start:.4f} -> {self.loss_end:.4f}")


# ----------------------------------------------------------------------------- data


class PairSource:
    """Training pairs of one bank at the model resolution."""

    def __init__(self, bank: MouthBank, config: RendererConfig, *, n_real: int,
                 include: Sequence[int], settings: TrainSettings):
        self.bank, self.config, self.settings = bank, config, settings
        self.size = config.size
        self.ppu = bank.geometry.px_per_unit
        self.scale = I.fit_scale(bank.geometry.size, self.size)
        self.ids = np.asarray(include, np.int64)
        self.images = np.stack([I.to_model(bank.crops[i], self.size, self.scale) for i in self.ids])
        self.lips = np.stack([I.lips_px(bank.lips[i], bank.geometry, self.scale) for i in self.ids])
        self.jaw = np.stack([I.lips_px(bank.jaw[i], bank.geometry, self.scale) for i in self.ids])
        self.aligned = aligned_sources(bank, self.ids, n_real, settings.sources, settings.source_gap,
                                       self.size, self.scale)
        k = settings.sources
        self.source_p = np.r_[np.full(k, (1 - settings.closed_source) / k), settings.closed_source]
        w = np.where(self.ids < n_real, 1.0, settings.synthetic_weight)
        self.p = w / w.sum()
        self.ppu_model = self.ppu * self.scale
        # Mouth patch for the discriminator: ~1.0 x 0.66 units, multiple of 8.
        pw = int(min(self.size[0], max(32, round(1.0 * self.ppu_model / 8) * 8)))
        ph = int(min(self.size[1], max(24, round(0.66 * self.ppu_model / 8) * 8)))
        self.patch = (pw, ph)

    def sample(self, rng: np.random.Generator, n: int, *, augment: bool = True, idx=None, source: int = 0):
        """A batch: target and aligned source (n, 3, H, W) in [-1, 1], maps (n, 4, H, W),
        mouth region (n, 1, H, W), mouth patch corners (n, 2), and whether each source is a
        near mouth (True) or the opened closed one (False).

        Without augmentation, ``source`` picks the candidate (-1: the opened closed mouth)."""
        if idx is None:
            idx = rng.choice(len(self.ids), size=n, p=self.p)
        w, h = self.size
        s = self.settings
        shift = max(1, int(round(s.shift * self.ppu_model)))
        imgs, srcs, maps, mouth, corners, near = [], [], [], [], [], []
        for j in idx:
            img, lips, jaw = self.images[j], self.lips[j], self.jaw[j]
            c = int(rng.choice(len(self.source_p), p=self.source_p)) if augment else source % len(self.source_p)
            src = self.aligned[j, c]
            near.append(c < len(self.source_p) - 1)
            if augment:
                dx, dy = rng.integers(-shift, shift + 1, size=2)
                m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
                interp = cv2.INTER_NEAREST
                if rng.random() < s.scale_prob:
                    c = lips[:20].mean(0)
                    m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), float(rng.uniform(-3, 3)),
                                                float(np.exp(rng.uniform(-s.scale, s.scale))))
                    m[:, 2] += (dx, dy)
                    interp = cv2.INTER_LINEAR
                img = cv2.warpAffine(img, m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
                src = cv2.warpAffine(src, m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
                lips = lips @ m[:, :2].T + m[:, 2]
                jaw = jaw @ m[:, :2].T + m[:, 2]
            imgs.append(img)
            srcs.append(src)
            maps.append(I.draw_maps(lips, jaw, self.size, self.ppu_model))
            mouth.append(I.mouth_region(lips, self.size, self.ppu_model))
            c = lips[:20].mean(0)
            pw, ph = self.patch
            corners.append((int(np.clip(round(c[0] - pw / 2), 0, w - pw)),
                            int(np.clip(round(c[1] - ph * 0.45), 0, h - ph))))
        return (to_tensor(np.stack(imgs)), to_tensor(np.stack(srcs)), torch.from_numpy(np.stack(maps)),
                torch.from_numpy(np.stack(mouth))[:, None], np.array(corners), np.array(near))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, H, W, 3) -> float (n, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def teeth_of(bank: MouthBank):
    """The bank's tooth colour, found as the warp renderer finds it."""
    from podium.avatars.landmarks import apply
    from podium.avatars.mouth_synth import teeth_colour

    c2p = bank.geometry.canon_to_crop()
    return next((t for t in (teeth_colour(bank.crops[k], apply(c2p, bank.lips[k]))
                             for k in range(min(len(bank), 40))) if t), None)


def aligned_sources(bank: MouthBank, ids: np.ndarray, n_real: int, k: int, gap: int,
                    size: tuple[int, int], scale: float) -> np.ndarray:
    """uint8 (len(ids), k + 1, H, W, 3): for each crop, its ``k`` nearest other bank mouths
    (by the warp renderer's :func:`~lipsync.warp_renderer.mouth_distance`; bank neighbours
    within ``gap`` excluded, as they are near-copies in time) warped to its own landmarks
    as the warp renderer does, then the most closed real mouth warped to it (its inner
    mouth painted where it opens)."""
    from podium.avatars.bank import reshape_crop

    rel = (bank.lips - bank.nose.mean(axis=1, keepdims=True)).astype(np.float64)
    flat = rel.reshape(len(bank), -1)
    gaps = lip_features(np.asarray(bank.lips, np.float64))[:, 0]
    teeth = teeth_of(bank)
    idx = np.arange(len(bank))
    ap = gaps[:max(n_real, 1)]
    closed_order = [int(j) for j in np.argsort(ap)]
    out = np.empty((len(ids), k + 1) + (size[1], size[0], 3), np.uint8)
    for row, i in enumerate(ids):
        d = mouth_distance(flat, gaps, rel[i])
        d[np.abs(idx - i) <= gap] = np.inf
        d[i] = np.inf
        order = [int(j) for j in np.argsort(d) if np.isfinite(d[j])] or [int(i)]
        closed = next((j for j in closed_order if abs(j - i) > gap), closed_order[0])
        for c in range(k + 1):
            j = order[min(c, len(order) - 1)] if c < k else closed
            src = (bank.lips[j], bank.jaw[j], bank.nose[j])
            warped = reshape_crop(bank.crops[j], bank.geometry, src, bank.lips[i],
                                  frame=(bank.lips[i], bank.jaw[i], bank.nose[i]), teeth_rgb=teeth)
            out[row, c] = I.to_model(warped, size, scale)
    return out


def _patches(x: torch.Tensor, corners: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    pw, ph = size
    return torch.stack([x[i, :, y:y + ph, x0:x0 + pw] for i, (x0, y) in enumerate(corners)])


def default_config(bank: MouthBank) -> RendererConfig:
    """The network for a bank: model size = crop size rounded up to 32 (no resampling)."""
    w, h = I.model_size(bank.geometry)
    return RendererConfig(width=w, height=h)


def prepare_model(bank: MouthBank, config: RendererConfig, ref_ids: Sequence[int]) -> LipGenerator:
    """A generator with the bank's mask and reference crops in its buffers (weights untouched)."""
    model = LipGenerator(config)
    set_buffers(model, bank, ref_ids)
    return model


def set_buffers(model: LipGenerator, bank: MouthBank, ref_ids: Sequence[int]) -> None:
    cfg = model.config
    scale = I.fit_scale(bank.geometry.size, cfg.size)
    mask = I.hard_mask(bank.mask, cfg.size, scale, bank.geometry.px_per_unit, cfg.mask_threshold)
    refs = np.concatenate([I.to_model(bank.crops[i], cfg.size, scale) for i in ref_ids], axis=2)
    with torch.no_grad():
        model.mask.copy_(torch.from_numpy(mask)[None, None])
        model.refs.copy_(torch.from_numpy(refs).permute(2, 0, 1)[None].float() / 127.5 - 1.0)


# ----------------------------------------------------------------------------- checkpoint


def _optim_tensors(prefix: str, opt: torch.optim.Optimizer) -> dict:
    out = {}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"{prefix}.{i}.{k}"] = torch.as_tensor(v).float() if k == "step" else v
    return out


def _load_optim(prefix: str, opt: torch.optim.Optimizer, tensors: dict) -> None:
    sd = opt.state_dict()
    state: dict = {}
    for key, v in tensors.items():
        if not key.startswith(prefix + "."):
            continue
        _, i, k = key.split(".", 2)
        state.setdefault(int(i), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": sd["param_groups"]})


def _save_checkpoint(folder: Path, G, D, opt_g, opt_d, meta: dict) -> None:
    tensors = {**{f"G.{k}": v for k, v in G.state_dict().items()},
               **{f"D.{k}": v for k, v in D.state_dict().items()},
               **_optim_tensors("opt_g", opt_g), **_optim_tensors("opt_d", opt_d)}
    # Weights first, then the json naming their step: a crash between the two
    # leaves a json/weights step mismatch, which resume detects and ignores.
    _atomic_write(folder / CHECKPOINT, state_bytes(tensors, {"step": str(meta["step"])}))
    _atomic_write(folder / CHECKPOINT_META, json.dumps(meta, indent=1).encode("utf-8"))


def _load_checkpoint(folder: Path):
    from safetensors import safe_open
    from safetensors.torch import load_file

    meta_path, ckpt = folder / CHECKPOINT_META, folder / CHECKPOINT
    if not (meta_path.is_file() and ckpt.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        with safe_open(str(ckpt), "pt") as f:
            if f.metadata().get("step") != str(meta["step"]):
                return None
        return meta, load_file(str(ckpt))
    except (OSError, ValueError, KeyError):
        return None


# ----------------------------------------------------------------------------- training


def _device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _autocast(device: torch.device):
    """Mixed precision: fp16/bf16 on CUDA; bf16 on CPUs with native bf16 (about 1.8x faster here)."""
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype), dtype
    try:
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except AttributeError:
        native = False
    if native and os.environ.get("PODIUM_NEURAL_FP32") != "1":
        return torch.autocast("cpu", dtype=torch.bfloat16), torch.bfloat16
    return torch.autocast("cpu", enabled=False), torch.float32


def _lr(settings: TrainSettings, base: float, step: int, p: float) -> float:
    """Linear warm-up over the first steps, then cosine decay over the run's progress ``p`` in [0, 1]."""
    if step < settings.warmup:
        return base * (step + 1) / settings.warmup
    p = min(max(p, 0.0), 1.0)
    return base * (settings.lr_final + (1 - settings.lr_final) * 0.5 * (1 + math.cos(math.pi * p)))


def weighted_l1(out, target, weight):
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
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]
    wx, wy = weight[..., :, 1:] * weight[..., :, :-1], weight[..., 1:, :] * weight[..., :-1, :]
    return 0.5 * (weighted_l1(dx(out), dx(target), wx) + weighted_l1(dy(out), dy(target), wy))


def train_renderer(record: AvatarRecord, *, steps: int | None = None, minutes: float | None = None,
                   progress: Callable[[str, int, int], None] | None = None, device=None,
                   resume: bool = True, exclude: Sequence[int] = (),
                   config: RendererConfig | None = None,
                   settings: TrainSettings | None = None) -> TrainReport:
    """Train (or continue training) the avatar's neural renderer on its mouth bank.

    Parameters
    ----------
    record : AvatarRecord
        The avatar; writes ``record.path / "parts" / "renderer"`` (config.json,
        model.safetensors, checkpoint.safetensors, checkpoint.json).
    steps : int, optional
        Train for this many steps in all (a resumed run counts the steps already done).
        Given alone, the run is deterministic.
    minutes : float, optional
        Train for at most this long (a resumed run: this much longer). The run ends at
        whichever limit comes first, and the learning-rate schedule follows whichever
        is further along, so the model written is annealed whatever the machine's speed
        or load. Neither given: :data:`DEFAULT_STEPS` within :data:`DEFAULT_MINUTES`
        (a resumed run keeps its checkpoint's limits).
    progress : callable, optional
        ``progress(stage, done, total)`` after every step.
    device : str or torch.device, optional
        Default: CUDA when available, else the CPU.
    resume : bool
        Continue from the checkpoint in the renderer folder when there is one.
    exclude : sequence of int
        Bank indices left out of training (for evaluation on unseen crops).
    config, settings : optional
        Network and training hyper-parameters for a fresh run (a resumed run keeps
        the checkpoint's).

    Returns
    -------
    TrainReport
    """
    # Denormal activations make CPU convolutions ~30x slower; flushing them is harmless here.
    torch.set_flush_denormal(True)
    try:
        return _train(record, steps=steps, minutes=minutes, progress=progress or (lambda *a: None),
                      device=device, resume=resume, exclude=exclude, config=config, settings=settings)
    finally:
        torch.set_flush_denormal(False)


def _train(record, *, steps, minutes, progress, device, resume, exclude, config, settings) -> TrainReport:
    started = time.perf_counter()
    bank = MouthBank.load(record.part("mouth_bank"))
    folder = record.path / "parts" / "renderer"
    folder.mkdir(parents=True, exist_ok=True)
    dev = _device(device)

    loaded = _load_checkpoint(folder) if resume else None
    if loaded is not None:
        meta, tensors = loaded
        config = RendererConfig.from_json(json.dumps(meta["config"]))
        settings = TrainSettings(**meta["settings"])
        exclude = meta["exclude"]
        ref_ids = meta["refs"]
    else:
        meta, tensors = None, None
        config = config or default_config(bank)
        settings = settings or TrainSettings()
        n_real = len(bank) - I.synthetic_count(bank, record.manifest)
        ref_ids = I.choose_refs(bank, config.n_refs, n_real)
    n_real = len(bank) - I.synthetic_count(bank, record.manifest)
    include = [i for i in range(len(bank)) if i not in set(exclude)]
    if not include:
        raise ValueError("no bank crops left to train on")

    torch.manual_seed(settings.seed)
    G = prepare_model(bank, config, ref_ids)
    D = PatchDiscriminator()
    data = PairSource(bank, config, n_real=n_real, include=include, settings=settings)
    G.to(dev).train()
    D.to(dev).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=settings.lr, betas=(settings.beta1, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), lr=settings.d_lr, betas=(0.5, 0.99))
    done, prior_seconds, losses = 0, 0.0, []
    if meta is not None:
        G.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("G.")})
        D.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("D.")})
        _load_optim("opt_g", opt_g, {k: v.to(dev) if k.split(".")[-1] != "step" else v for k, v in tensors.items()})
        _load_optim("opt_d", opt_d, {k: v.to(dev) if k.split(".")[-1] != "step" else v for k, v in tensors.items()})
        done, prior_seconds = int(meta["step"]), float(meta["seconds"])
        losses = list(meta.get("losses", []))[:done]
    resumed_from = done
    # Limits of the run: steps and/or seconds (of the whole run, earlier calls included).
    if steps is None and minutes is None:
        if meta is not None:
            total, budget = meta.get("total"), meta.get("budget")
        else:
            total, budget = DEFAULT_STEPS, DEFAULT_MINUTES * 60.0
    else:
        total = None if steps is None else int(steps)
        budget = None if minutes is None else prior_seconds + float(minutes) * 60.0
    amp, amp_dtype = _autocast(dev)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    def checkpoint(step: int, secs: float) -> None:
        meta_out = {"step": step, "total": total, "budget": budget, "seconds": round(secs, 2), "config": json.loads(config.to_json()),
                    "settings": asdict(settings), "refs": [int(r) for r in ref_ids], "exclude": [int(e) for e in exclude],
                    "losses": losses, "device": str(dev)}
        _save_checkpoint(folder, G, D, opt_g, opt_d, meta_out)

    step = done
    run_start = time.perf_counter()

    def fraction(step: int) -> float:
        """Share of the run done: of its steps or of its time, whichever is further along."""
        by_steps = step / max(total, 1) if total is not None else step / MAX_STEPS
        by_time = (prior_seconds + time.perf_counter() - started) / budget if budget else 0.0
        return max(by_steps, by_time)

    saved = done
    # A fresh run takes at least one step, however short its budget: never an untrained model.
    while fraction(step) < 1.0 or step == 0:
        rng = np.random.default_rng([settings.seed, step])
        target, aligned, maps, mouth, corners, near = data.sample(rng, settings.batch)
        target, aligned, maps, mouth = target.to(dev), aligned.to(dev), maps.to(dev), mouth.to(dev)
        p = fraction(step)
        for opt, base in ((opt_g, settings.lr), (opt_d, settings.d_lr)):
            for g in opt.param_groups:
                g["lr"] = _lr(settings, base, step, p)
        use_adv = settings.adv_weight > 0 and p >= settings.adv_start
        weight = G.mask * (1.0 + settings.mouth_weight * mouth)
        with amp:
            out = G(target, maps, aligned)
        out = out.float()
        l1 = weighted_l1(out, target, weight)
        loss = settings.l1_weight * l1 + settings.grad_weight * gradient_l1(out, target, weight)
        if settings.low_weight > 0 or settings.detail_weight > 0:
            lo_out = blur(out, settings.blur_sigma)
            loss = loss + settings.low_weight * weighted_l1(lo_out, blur(target, settings.blur_sigma), weight)
            if settings.detail_weight > 0 and near.any():
                # Keep the fine detail of real sources, not of painted ones.
                keep = torch.from_numpy(near).to(dev)
                detail = aligned[keep] - blur(aligned[keep], settings.blur_sigma)
                loss = loss + settings.detail_weight * weighted_l1((out - lo_out)[keep], detail, weight[keep])
        if use_adv:
            fake_p = torch.cat([_patches(out, corners, data.patch), _patches(maps, corners, data.patch)], 1)
            D.requires_grad_(False)
            with amp:
                loss = loss - settings.adv_weight * D(fake_p).float().mean()
            D.requires_grad_(True)
        opt_g.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt_g)
        if use_adv:
            real_p = torch.cat([_patches(target, corners, data.patch), _patches(maps, corners, data.patch)], 1)
            with amp:
                d_loss = (F.relu(1 - D(real_p).float()).mean() + F.relu(1 + D(fake_p.detach()).float()).mean())
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(d_loss).backward()
            scaler.step(opt_d)
        scaler.update()
        step += 1
        losses.append(round(float(l1.detach()), 5))
        elapsed = time.perf_counter() - started
        shown = total if total is not None else MAX_STEPS
        if budget:  # the steps that fit in the time left at the speed so far
            rate = (step - done) / max(time.perf_counter() - run_start, 1e-6)
            shown = min(shown, max(step + 1, int(step + rate * (budget - prior_seconds - elapsed))))
        over = budget is not None and prior_seconds + elapsed >= budget
        last = over or (total is not None and step >= total)
        progress(STAGE, step, step if last else shown)
        if step % settings.checkpoint_every == 0 or last:
            checkpoint(step, prior_seconds + elapsed)
            saved = step
        if over:
            break
    seconds = prior_seconds + (time.perf_counter() - started)
    if saved != step:
        checkpoint(step, seconds)
    G.eval()
    save_pretrained(G, folder, metadata={"steps": str(step)})
    n = min(10, max(1, len(losses) // 4))
    mean = lambda v: round(float(np.mean(v)), 5) if v else float("nan")
    curve = tuple((k + 25, mean(losses[k:k + 25])) for k in range(0, len(losses) - 24, 25))
    return TrainReport(steps=step, seconds=round(seconds, 2), loss_start=mean(losses[:n]),
                       loss_end=mean(losses[-n:]), resumed_from=resumed_from, device=str(dev),
                       weights=str(folder), curve=curve)


# ----------------------------------------------------------------------------- evaluation


def evaluate(model: LipGenerator, bank: MouthBank, indices: Sequence[int], *, source: int = 0) -> dict:
    """Reconstruction of bank crops from their own landmarks (no augmentation).

    ``source`` 0 warps each crop's nearest other mouth; -1 its most closed one (painted).
    Returns mean L1 (0-255 scale) inside the mouth region and the ratio of the
    Laplacian variance in the lips' bounding box, reconstruction / real (1 = as sharp),
    for the network and for its aligned source alone (the warp renderer's result).
    """
    cfg = model.config
    data = PairSource(bank, cfg, n_real=len(bank), include=list(indices), settings=TrainSettings())
    dev = next(model.parameters()).device
    l1s, ratios, wl1s, wratios = [], [], [], []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(indices), 8):
            idx = np.arange(start, min(start + 8, len(indices)))
            target, aligned, maps, mouth, _, _ = data.sample(None, len(idx), augment=False, idx=idx,
                                                             source=source)
            out = model(target.to(dev), maps.to(dev), aligned.to(dev)).clamp(-1, 1).cpu()
            for k, j in enumerate(idx):
                to_img = lambda t: ((t.permute(1, 2, 0) + 1) * 127.5).numpy()
                real, fake_f, warp = to_img(target[k]), to_img(out[k]), data.aligned[j, source]
                fake = np.clip(fake_f.round(), 0, 255).astype(np.uint8)
                m = mouth[k, 0].numpy() > 0
                l1s.append(float(np.abs(real - fake_f)[m].mean()))
                ratios.append(sharpness_ratio(fake, data.images[j], data.lips[j]))
                wl1s.append(float(np.abs(real - warp)[m].mean()))
                wratios.append(sharpness_ratio(warp, data.images[j], data.lips[j]))
    return {"l1_mouth": float(np.mean(l1s)), "sharpness": float(np.mean(ratios)),
            "warp_l1_mouth": float(np.mean(wl1s)), "warp_sharpness": float(np.mean(wratios))}


def sharpness_ratio(img: np.ndarray, ref: np.ndarray, lips_px: np.ndarray, margin: int = 4) -> float:
    """Variance of the Laplacian (grey) of ``img`` / ``ref`` in the lips' bounding box."""
    x0, y0 = np.floor(lips_px.min(0)).astype(int) - margin
    x1, y1 = np.ceil(lips_px.max(0)).astype(int) + margin
    x0, y0 = max(x0, 0), max(y0, 0)
    lap = lambda a: cv2.Laplacian(cv2.cvtColor(np.ascontiguousarray(a[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
                                  .astype(np.float64), cv2.CV_64F).var()
    return float(lap(img) / max(lap(ref), 1e-6))
