"""Training checkpoints of the neural lip renderer: safetensors + JSON, never pickle.

``checkpoint.safetensors`` holds the generator's and discriminator's weights and
both optimizers' state (``G.``, ``D.``, ``opt_g.``, ``opt_d.`` prefixes), and the
step it was written at in its metadata; ``checkpoint.json`` holds the rest of the
run's state (step, limits, config, settings, references, losses). Both are written
atomically, and a pair whose steps disagree is not resumed from.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from podium.lipsync.neural.model import _atomic_write, state_bytes

CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_META = "checkpoint.json"


def optim_tensors(prefix: str, opt: torch.optim.Optimizer) -> dict:
    """An optimizer's per-parameter state as flat tensors named ``prefix.<param>.<key>``.

    ``step`` (a Python number in some torch versions) becomes a float tensor, as
    safetensors stores tensors only.
    """
    out = {}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"{prefix}.{i}.{k}"] = torch.as_tensor(v).float() if k == "step" else v
    return out


def load_optim(prefix: str, opt: torch.optim.Optimizer, tensors: dict) -> None:
    """Restore the state :func:`optim_tensors` wrote under ``prefix`` (the optimizer's own
    param groups, hence its current learning rates, kept)."""
    sd = opt.state_dict()
    state: dict = {}
    for key, v in tensors.items():
        if not key.startswith(prefix + "."):
            continue
        _, i, k = key.split(".", 2)
        state.setdefault(int(i), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": sd["param_groups"]})


def save_checkpoint(folder: Path, G, D, opt_g, opt_d, meta: dict) -> None:
    """Write both networks, both optimizers and the run's ``meta`` (with its ``step``) to ``folder``."""
    tensors = {**{f"G.{k}": v for k, v in G.state_dict().items()},
               **{f"D.{k}": v for k, v in D.state_dict().items()},
               **optim_tensors("opt_g", opt_g), **optim_tensors("opt_d", opt_d)}
    # Weights first, then the json naming their step: a crash between the two
    # leaves a json/weights step mismatch, which resume detects and ignores.
    _atomic_write(folder / CHECKPOINT, state_bytes(tensors, {"step": str(meta["step"])}))
    _atomic_write(folder / CHECKPOINT_META, json.dumps(meta, indent=1).encode("utf-8"))


def load_checkpoint(folder: Path):
    """``(meta, tensors)`` of the checkpoint in ``folder``, or None when there is none, it
    cannot be read, or its weights and json name different steps."""
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
