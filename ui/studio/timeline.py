"""The timeline under the player: words, phonemes and mouth opening over time."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

from podium.common.errors import InternalError
from podium.common.files import atomic_path
from podium.lipsync.coarticulation import MouthTrack, mouth_track

_BAND = "#dbe7f7"
_EDGE = "#5b7db1"


def utterance_track(utterance, fps: float) -> MouthTrack:
    """Per-frame mouth targets of an utterance, as the renderer computes them."""
    return mouth_track(utterance.phonemes, utterance.duration, fps=fps)


def timeline_figure(utterance, track: MouthTrack, *, width: float = 10.0) -> Figure:
    """Three stacked rows sharing the time axis (seconds).

    Top: words as spans; middle: phonemes (IPA) as spans; bottom: the per-frame
    mouth openness (0 closed, 1 wide open) and spread the renderer draws.
    Built on :class:`matplotlib.figure.Figure` directly (no pyplot state), so it is
    safe to make from any worker thread.
    """
    fig = Figure(figsize=(width, 3.6), dpi=100, layout="constrained")
    ax_w, ax_p, ax_m = fig.subplots(3, 1, sharex=True, height_ratios=(1, 1, 2.2))
    duration = max(utterance.duration, 1e-3)
    for ax, items, label, size in ((ax_w, utterance.words, "words", 8),
                                   (ax_p, utterance.phonemes, "phonemes", 7)):
        spans = [(x.start, max(x.end - x.start, 1e-3)) for x in items]
        if spans:
            ax.broken_barh(spans, (0.1, 0.8), facecolors=_BAND, edgecolors=_EDGE, linewidth=0.6)
        # Label only spans wide enough to read (about 9 px per character at this size).
        px_per_s = width * 100 / duration
        for x in items:
            text = getattr(x, "text", None) or getattr(x, "symbol", "")
            if (x.end - x.start) * px_per_s >= 6.5 * max(len(text), 1) * size / 8:
                ax.text((x.start + x.end) / 2, 0.5, text, ha="center", va="center", fontsize=size,
                        clip_on=True)
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    t = np.arange(len(track.openness)) / track.fps
    ax_m.fill_between(t, track.openness, step="post", alpha=0.35, color="#d9534f", linewidth=0)
    ax_m.step(t, track.openness, where="post", color="#b52b27", linewidth=1.1, label="opening")
    ax_m.plot(t, track.spread, color="#555", linewidth=0.8, linestyle=":", label="spread")
    ax_m.set_ylim(min(-1.05, float(np.min(track.spread, initial=0)) - 0.05), 1.15)
    ax_m.set_ylabel("mouth", rotation=0, ha="right", va="center", fontsize=8)
    ax_m.set_xlabel("time (s)", fontsize=8)
    ax_m.legend(loc="upper right", fontsize=7, frameon=False, ncol=2)
    ax_m.tick_params(labelsize=7)
    ax_m.set_xlim(0, duration)
    for ax in (ax_w, ax_p, ax_m):
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig


def save_timeline(path: Path, utterance, track) -> Path:
    """Store what the timeline plot needs beside the video (so a finished job can show it)."""
    data = {
        # A dub outlasts its speech when the video is longer: the timeline covers the video.
        "duration": max(utterance.duration, len(track.openness) / track.fps),
        "words": [[w.text, w.start, w.end] for w in utterance.words],
        "phonemes": [[p.symbol, p.start, p.end] for p in utterance.phonemes],
        "fps": track.fps,
        "openness": [round(float(v), 4) for v in track.openness],
        "spread": [round(float(v), 4) for v in track.spread],
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data), "utf-8")
    return path


def load_timeline(path: str | Path):
    """``(utterance-like, MouthTrack)`` from :func:`save_timeline`'s file."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InternalError(f"timeline file '{path}' is unreadable: {exc}") from exc
    span = lambda rows, key: tuple(SimpleNamespace(**{key: r[0], "start": r[1], "end": r[2]}) for r in rows)
    utt = SimpleNamespace(duration=data["duration"], words=span(data["words"], "text"),
                          phonemes=span(data["phonemes"], "symbol"))
    track = MouthTrack(np.asarray(data["openness"], np.float32), np.asarray(data["spread"], np.float32),
                       float(data["fps"]))
    return utt, track
