"""Suggest the built-in neural voice closest to a presenter's own: median pitch (F0) and
timbre (spectral centroid) of the footage's speech against each Kokoro voice's.

The voices' figures are measured once per machine (one sentence each, a few seconds)
and cached beside the Kokoro model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REFERENCE = "Good morning, and welcome to this short course about working safely with the new tools."
SAMPLE_RATE = 16000
#: One semitone of pitch difference weighs as much as this many Hz of spectral centroid.
CENTROID_HZ_PER_SEMITONE = 120.0


@dataclass(frozen=True)
class VoiceFeatures:
    """Median F0 of voiced frames (Hz) and mean spectral centroid of loud frames (Hz)."""

    f0: float
    centroid: float


@dataclass(frozen=True)
class VoiceSuggestion:
    voice: str
    distance: float  # semitones-equivalent, lower is closer
    presenter: VoiceFeatures
    candidate: VoiceFeatures


def measure_voice(audio: np.ndarray, sample_rate: int) -> VoiceFeatures | None:
    """Pitch and timbre of speech; None when there is too little voiced speech (< 1 s).

    Parameters
    ----------
    audio : np.ndarray
        float mono, any rate (resampled to 16 kHz here).
    sample_rate : int
        Hz.
    """
    from scipy.signal import resample_poly

    x = np.asarray(audio, np.float64)
    if sample_rate != SAMPLE_RATE:
        g = np.gcd(int(sample_rate), SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, int(sample_rate) // g)
    win, hop = int(0.04 * SAMPLE_RATE), int(0.01 * SAMPLE_RATE)
    if len(x) < win * 4:
        return None
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop]
    rms = np.sqrt((frames ** 2).mean(1)) + 1e-12
    db = 20 * np.log10(rms)
    loud = db > np.percentile(db, 95) - 25
    lo, hi = SAMPLE_RATE // 400, SAMPLE_RATE // 60  # 60..400 Hz
    f0s, cents = [], []
    window = np.hanning(win)
    freqs = np.fft.rfftfreq(2 * win, 1 / SAMPLE_RATE)
    for f in frames[loud]:
        f = (f - f.mean()) * window
        spec = np.abs(np.fft.rfft(f, 2 * win)) ** 2
        cents.append(float((freqs * spec).sum() / max(spec.sum(), 1e-12)))
        ac = np.fft.irfft(spec)[: hi + 1]
        if ac[0] <= 0:
            continue
        ac = ac / ac[0]
        lag = lo + int(np.argmax(ac[lo:hi + 1]))
        if ac[lag] > 0.5:  # clearly periodic: a voiced frame
            f0s.append(SAMPLE_RATE / lag)
    if len(f0s) < 100:  # under a second of voiced speech
        return None
    return VoiceFeatures(float(np.median(f0s)), float(np.mean(cents)))


def distance(a: VoiceFeatures, b: VoiceFeatures) -> float:
    return abs(12 * np.log2(a.f0 / b.f0)) + abs(a.centroid - b.centroid) / CENTROID_HZ_PER_SEMITONE


def _cache_file() -> Path:
    from podium.speech.kokoro_model import cache_dir

    return cache_dir() / "voice_features.json"


def voice_features() -> dict[str, VoiceFeatures]:
    """Features of every listed Kokoro voice, measured once and cached."""
    from podium import speech
    from podium.common.files import atomic_path

    ids = [v.id for v in speech.list_voices() if v.engine == "kokoro"]
    path = _cache_file()
    cached: dict = {}
    if path.is_file():
        try:
            cached = json.loads(path.read_text("utf-8"))
        except ValueError:
            cached = {}
    out, changed = {}, False
    for vid in ids:
        if vid in cached and cached[vid].get("reference") == REFERENCE:
            out[vid] = VoiceFeatures(cached[vid]["f0"], cached[vid]["centroid"])
            continue
        u = speech.synthesize(REFERENCE, voice=vid)
        feats = measure_voice(u.audio, u.sample_rate)
        if feats is None:
            continue
        out[vid] = feats
        cached[vid] = {"f0": feats.f0, "centroid": feats.centroid, "reference": REFERENCE}
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(cached, indent=1), "utf-8")
    return out


def suggest_voice(audio: np.ndarray, sample_rate: int) -> VoiceSuggestion | None:
    """The Kokoro voice closest to the speech in ``audio``; None without enough speech
    or without Kokoro voices."""
    mine = measure_voice(audio, sample_rate)
    if mine is None:
        return None
    options = voice_features()
    if not options:
        return None
    best = min(options, key=lambda v: distance(mine, options[v]))
    return VoiceSuggestion(best, distance(mine, options[best]), mine, options[best])


def store_suggested_voice(library, name: str, footage) -> VoiceSuggestion | None:
    """Measure the footage's speech and store the closest voice as the avatar's default,
    unless the avatar already has one (``podium avatar set``). Returns the suggestion."""
    from podium.common.errors import PodiumError
    from podium.common.media import read_audio

    record = library.get(name)
    if record.manifest.speech_defaults.voice:
        return None
    try:
        audio = read_audio(footage, sample_rate=SAMPLE_RATE)
    except PodiumError:
        return None
    suggestion = suggest_voice(audio, SAMPLE_RATE) if audio.size else None
    if suggestion is None:
        return None
    match = {"presenter_f0_hz": round(suggestion.presenter.f0, 1),
             "presenter_centroid_hz": round(suggestion.presenter.centroid),
             "voice_f0_hz": round(suggestion.candidate.f0, 1),
             "voice_centroid_hz": round(suggestion.candidate.centroid),
             "distance": round(suggestion.distance, 2)}

    def store(m):
        if m.speech_defaults.voice:  # set by someone else meanwhile: theirs wins
            return m
        return replace(m, speech_defaults=replace(m.speech_defaults, voice=suggestion.voice),
                       voice_match=match)

    library.update_manifest(name, store)
    return suggestion
