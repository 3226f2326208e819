"""A tiny Piper voice built by the tests: the real file format (ONNX graph with Piper's
inputs and outputs, JSON config beside it) with a waveform we can predict.

Each phoneme id sounds as a sine of ``100 + 20 * id`` Hz for ``round(4 * length_scale)``
frames of 256 samples; the optional second output gives those frame counts, as a Piper
model patched for alignments does.
"""

from __future__ import annotations

import json
from pathlib import Path

HOP = 256
SAMPLE_RATE = 22050


def frequency(phoneme_id: int) -> float:
    return 100.0 + 20.0 * phoneme_id


def frames_per_id(length_scale: float) -> int:
    return max(1, round(4.0 * length_scale))


def build_voice(folder: Path, *, name: str = "tiny", durations: bool = True,
                sample_rate: int = SAMPLE_RATE) -> Path:
    """Write ``name.onnx`` and ``name.onnx.json`` into ``folder``; returns the model path."""
    import torch
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    class Tiny(torch.nn.Module):
        def forward(self, input, input_lengths, scales):
            # input_lengths takes no part in the sound, but must stay a graph input as in Piper.
            d = torch.clamp(torch.round(scales[1] * 4.0), min=1.0) + 0.0 * input_lengths[0].to(torch.float32)
            n = input.shape[1]
            per_id = (d * HOP).to(torch.int64)
            total = n * per_id
            idx = torch.arange(total) // per_id
            ids = input[0][idx].to(torch.float32)
            t = torch.arange(total).to(torch.float32) / float(SAMPLE_RATE)
            audio = 0.5 * torch.sin(2 * 3.141592653589793 * (100.0 + 20.0 * ids) * t)
            if durations:
                return audio.reshape(1, 1, -1), (torch.ones(n) * d).reshape(1, n)
            return audio.reshape(1, 1, -1)

    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    args = (torch.tensor([[1, 20, 0, 21, 2]], dtype=torch.int64), torch.tensor([5]),
            torch.tensor([0.667, 1.0, 0.8]))
    outputs = ["output", "durations"] if durations else ["output"]
    axes = {"input": {1: "n"}, "output": {2: "t"}}
    if durations:
        axes["durations"] = {1: "n"}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Tiny(), args, str(model), input_names=["input", "input_lengths", "scales"],
                          output_names=outputs, dynamic_axes=axes, dynamo=False)
    config = {
        "audio": {"sample_rate": sample_rate},
        "espeak": {"voice": "en-us"},
        "phoneme_type": "espeak",
        "num_symbols": 256,
        "num_speakers": 1,
        "inference": {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8},
        "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,
        "hop_length": HOP,
    }
    Path(f"{model}.json").write_text(json.dumps(config, ensure_ascii=False), "utf-8")
    return model
