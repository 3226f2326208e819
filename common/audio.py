"""Finishing the soundtrack: loudness normalisation (ITU-R BS.1770 / EBU R128), a peak
limiter, and background music ducked under the speech. Pure numpy/scipy, mono."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter

#: Loudness of a block that counts as silence for gating, LUFS (BS.1770 absolute gate).
ABSOLUTE_GATE = -70.0
#: Blocks this far under the ungated mean are left out (BS.1770 relative gate), LU.
RELATIVE_GATE = -10.0


def _k_weighting(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two BS.1770 pre-filters (head shelf, then high-pass) as (b, a) for any rate."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]),
             np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / sample_rate)
    a0 = 1 + k / q + k * k
    highpass = (np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    return [shelf, highpass]


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of mono audio, LUFS (BS.1770-4 gating, 400 ms blocks, 75 % overlap).

    Parameters
    ----------
    audio : np.ndarray
        float (n_samples,), range about [-1, 1].
    sample_rate : int
        Hz.

    Returns
    -------
    float
        LUFS; ``-inf`` for silence or audio shorter than one block.
    """
    x = np.asarray(audio, np.float64)
    for b, a in _k_weighting(sample_rate):
        x = lfilter(b, a, x)
    block, hop = int(0.4 * sample_rate), int(0.1 * sample_rate)
    if len(x) < block:
        return float("-inf")
    sq = np.concatenate([[0.0], np.cumsum(x * x)])
    starts = np.arange(0, len(x) - block + 1, hop)
    power = (sq[starts + block] - sq[starts]) / block
    loud = -0.691 + 10 * np.log10(np.maximum(power, 1e-20))
    power = power[loud > ABSOLUTE_GATE]
    if power.size == 0:
        return float("-inf")
    gate = -0.691 + 10 * np.log10(power.mean()) + RELATIVE_GATE
    power = power[-0.691 + 10 * np.log10(power) > gate]
    return float(-0.691 + 10 * np.log10(power.mean()))


def limit_peaks(audio: np.ndarray, sample_rate: int, *, ceiling_db: float = -1.5) -> np.ndarray:
    """Bring peaks under ``ceiling_db`` dBFS with a 5 ms look-ahead gain that eases back over
    about 50 ms (no clipping, no pumping on the occasional plosive)."""
    ceiling = 10 ** (ceiling_db / 20)
    env = maximum_filter1d(np.abs(audio), size=max(int(0.005 * sample_rate), 1))
    gain = np.minimum(1.0, ceiling / np.maximum(env, 1e-9))
    hold = max(int(0.05 * sample_rate), 1)
    gain = minimum_filter1d(gain, size=hold)
    gain = uniform_filter1d(gain, size=hold)
    out = audio * np.minimum(gain, ceiling / np.maximum(np.abs(audio), 1e-9))
    return out.astype(np.float32)


def normalize_loudness(audio: np.ndarray, sample_rate: int, *, target: float = -16.0,
                       ceiling_db: float = -1.5) -> np.ndarray:
    """Gain ``audio`` to ``target`` LUFS integrated, then limit peaks to ``ceiling_db`` dBFS.

    Silence is returned unchanged. float32 (n_samples,).
    """
    source = np.asarray(audio, np.float64)
    current = integrated_loudness(source, sample_rate)
    if not np.isfinite(current):
        return source.astype(np.float32)
    gain_db = target - current
    # Limiting peaky speech lowers its loudness a little: raise the gain and limit again.
    for _ in range(4):
        out = limit_peaks(source * 10 ** (gain_db / 20), sample_rate, ceiling_db=ceiling_db)
        miss = target - integrated_loudness(out, sample_rate)
        if abs(miss) < 0.1:
            break
        gain_db += miss
    return out


def speech_activity(audio: np.ndarray, sample_rate: int, *, below_db: float = 30.0) -> np.ndarray:
    """Per-sample 0..1 curve: 1 while someone speaks (RMS within ``below_db`` of the loud
    level), easing in over 50 ms before speech and out over 400 ms after it."""
    win = max(int(0.03 * sample_rate), 1)
    rms = np.sqrt(uniform_filter1d(np.asarray(audio, np.float64) ** 2, size=win))
    db = 20 * np.log10(np.maximum(rms, 1e-9))
    active = (db > np.percentile(db, 95) - below_db).astype(np.float64)
    # Hold through the gaps between words, then soften the edges.
    active = maximum_filter1d(active, size=int(0.4 * sample_rate))
    return np.clip(uniform_filter1d(active, size=max(int(0.1 * sample_rate), 1)), 0.0, 1.0)


def mix_music(speech: np.ndarray, music: np.ndarray, sample_rate: int, *,
              volume_db: float = -20.0, duck_db: float = -12.0, fade_s: float = 1.0) -> np.ndarray:
    """Background music under speech.

    Parameters
    ----------
    speech, music : np.ndarray
        float mono at ``sample_rate``; the music loops or is cut to the speech's length.
    volume_db : float
        Music loudness relative to the speech's, LU (negative: quieter).
    duck_db : float
        Extra music attenuation while someone speaks, dB.
    fade_s : float
        Music fades in at the start and out at the end, seconds.

    Returns
    -------
    np.ndarray
        float32 (len(speech),), not yet normalised or limited.
    """
    n = len(speech)
    music = np.asarray(music, np.float64)
    if music.size == 0 or n == 0:
        return np.asarray(speech, np.float32)
    bed = np.resize(music, n)  # repeats the music as often as needed
    speech_lufs = integrated_loudness(speech, sample_rate)
    music_lufs = integrated_loudness(bed, sample_rate)
    if np.isfinite(music_lufs):
        ref = speech_lufs if np.isfinite(speech_lufs) else -16.0
        bed = bed * 10 ** ((ref + volume_db - music_lufs) / 20)
    duck = 10 ** (duck_db * speech_activity(speech, sample_rate) / 20)
    fade = np.ones(n)
    k = min(int(fade_s * sample_rate), n // 2)
    if k > 0:
        ramp = np.linspace(0.0, 1.0, k)
        fade[:k], fade[n - k:] = ramp, ramp[::-1]
    return (np.asarray(speech, np.float64) + bed * duck * fade).astype(np.float32)
