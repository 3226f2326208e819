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
    return _gated_loudness((sq[starts + block] - sq[starts]) / block)


def _gated_loudness(power: np.ndarray) -> float:
    """BS.1770 gating of the mean-square power of each 400 ms block: LUFS, or ``-inf``."""
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
    rms = np.sqrt(np.maximum(uniform_filter1d(np.asarray(audio, np.float64) ** 2, size=win), 0.0))
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


# --- streaming: the same finishing in chunks, memory flat in the soundtrack's length ---------

#: Samples of context either side of a chunk, seconds: more than the widest filter reaches
#: (speech activity's 400 ms hold + 100 ms smoothing, the limiter's 5 + 50 + 50 ms).
_MARGIN_S = 0.75
_DB_BINS = np.arange(-200.0, 20.0, 0.05)  # speech-activity level histogram, dB


class LoudnessMeter:
    """Integrated loudness (:func:`integrated_loudness`) of audio fed in pieces.

    The K-weighting filters carry their state from piece to piece and only one number per
    100 ms is kept, so an hour of audio costs a few hundred KB.
    """

    def __init__(self, sample_rate: int):
        self._filters = [(b, a, np.zeros(max(len(a), len(b)) - 1)) for b, a in _k_weighting(sample_rate)]
        self.block, self.hop = int(0.4 * sample_rate), int(0.1 * sample_rate)
        self._carry = np.zeros(0)
        self._hop_sums: list[float] = []
        self._exact_blocks = self.block == 4 * self.hop

    def feed(self, piece: np.ndarray) -> None:
        x = np.asarray(piece, np.float64)
        for k, (b, a, zi) in enumerate(self._filters):
            x, zi = lfilter(b, a, x, zi=zi)
            self._filters[k] = (b, a, zi)
        x = np.concatenate([self._carry, x * x])
        n = len(x) // self.hop
        if n:
            self._hop_sums.extend(x[: n * self.hop].reshape(n, self.hop).sum(axis=1).tolist())
        self._carry = x[n * self.hop:]

    def value(self) -> float:
        """LUFS so far; ``-inf`` for silence or under one block."""
        if not self._exact_blocks:  # no common rate has 400 ms != 4 x 100 ms; stay exact anyway
            raise ValueError("sample rate must make 400 ms exactly four 100 ms hops")
        sums = np.asarray(self._hop_sums)
        if len(sums) < 4:
            return float("-inf")
        return _gated_loudness((sums[:-3] + sums[1:-2] + sums[2:-1] + sums[3:]) / self.block)


def _chunks(n: int, size: int):
    for start in range(0, n, size):
        yield start, min(start + size, n)


class _Mix:
    """The speech with (optionally) music ducked under it, computed for any sample range with
    enough context that every filter gives what it gives on the whole signal."""

    def __init__(self, speech: np.ndarray, sample_rate: int, music: np.ndarray | None, *,
                 volume_db: float, duck_db: float, fade_s: float, chunk: int):
        self.speech, self.sr, self.n = speech, sample_rate, len(speech)
        self.music = None if music is None or len(music) == 0 or self.n == 0 else np.asarray(music)
        self.margin = int(_MARGIN_S * sample_rate)
        if self.music is None:
            return
        self.duck_db = duck_db
        self.fade = min(int(fade_s * sample_rate), self.n // 2)
        # 1. the levels mix_music measures on the whole signal: speech and music loudness, and
        #    the 95th percentile of the speech's short-term level (from a histogram).
        speech_meter, bed_meter = LoudnessMeter(sample_rate), LoudnessMeter(sample_rate)
        hist = np.zeros(len(_DB_BINS) + 1, np.int64)
        for start, stop in _chunks(self.n, chunk):
            speech_meter.feed(speech[start:stop])
            bed_meter.feed(self._bed(start, stop))
            hist += np.bincount(np.searchsorted(_DB_BINS, self._level_db(start, stop)),
                                minlength=len(hist))
        cum = np.cumsum(hist)
        k = int(np.searchsorted(cum, 0.95 * (cum[-1] - 1) + 1))
        self.loud_db = float(_DB_BINS[min(max(k - 1, 0), len(_DB_BINS) - 1)])
        speech_lufs, music_lufs = speech_meter.value(), bed_meter.value()
        self.bed_gain = 1.0
        if np.isfinite(music_lufs):
            ref = speech_lufs if np.isfinite(speech_lufs) else -16.0
            self.bed_gain = 10 ** ((ref + volume_db - music_lufs) / 20)

    def _bed(self, start: int, stop: int) -> np.ndarray:
        return self.music[np.arange(start, stop) % len(self.music)].astype(np.float64)

    def _context(self, start: int, stop: int):
        lo, hi = max(start - self.margin, 0), min(stop + self.margin, self.n)
        return lo, hi, np.asarray(self.speech[lo:hi], np.float64)

    def _level_db(self, start: int, stop: int) -> np.ndarray:
        lo, hi, x = self._context(start, stop)
        win = max(int(0.03 * self.sr), 1)
        rms = np.sqrt(np.maximum(uniform_filter1d(x ** 2, size=win), 0.0))
        return 20 * np.log10(np.maximum(rms, 1e-9))[start - lo: stop - lo]

    def __call__(self, start: int, stop: int) -> np.ndarray:
        """float64 mix of samples [start, stop)."""
        if self.music is None:
            return np.asarray(self.speech[start:stop], np.float64)
        lo, hi, x = self._context(start, stop)
        win = max(int(0.03 * self.sr), 1)
        db = 20 * np.log10(np.maximum(np.sqrt(np.maximum(uniform_filter1d(x ** 2, size=win), 0.0)), 1e-9))
        active = (db > self.loud_db - 30.0).astype(np.float64)
        active = maximum_filter1d(active, size=int(0.4 * self.sr))
        active = np.clip(uniform_filter1d(active, size=max(int(0.1 * self.sr), 1)), 0.0, 1.0)
        duck = 10 ** (self.duck_db * active[start - lo: stop - lo] / 20)
        idx = np.arange(start, stop)
        fade = np.ones(stop - start)
        if self.fade > 0:
            ramp = np.linspace(0.0, 1.0, self.fade)
            head, tail = idx < self.fade, idx >= self.n - self.fade
            fade[head] = ramp[idx[head]]
            fade[tail] = ramp[::-1][idx[tail] - (self.n - self.fade)]
        return x[start - lo: stop - lo] + self._bed(start, stop) * self.bed_gain * duck * fade

    def limited(self, start: int, stop: int, gain: float, ceiling_db: float) -> np.ndarray:
        """Samples [start, stop) of ``limit_peaks(mix * gain)`` (float32)."""
        lo, hi = max(start - self.margin, 0), min(stop + self.margin, self.n)
        out = limit_peaks(self(lo, hi) * gain, self.sr, ceiling_db=ceiling_db)
        return out[start - lo: stop - lo]


def write_finished_audio(sink, speech: np.ndarray, sample_rate: int, *,
                         music: np.ndarray | None = None, music_volume_db: float = -20.0,
                         target: float | None = -16.0, ceiling_db: float = -1.5,
                         chunk_s: float = 20.0) -> None:
    """Music ducked under the speech (if any), loudness-normalised to ``target`` LUFS with
    peaks under ``ceiling_db`` dBFS, streamed to ``sink`` in pieces.

    The same result as ``normalize_loudness(mix_music(speech, music, ...))`` (within a
    0.05 dB histogram step of the ducking threshold), in memory that does not grow with the
    soundtrack's length: every pass works on ``chunk_s`` seconds at a time.

    Parameters
    ----------
    sink : callable
        ``sink(piece)`` gets float32 pieces in order; ``sink.rewind()``, when present, is
        called before a pass that writes the soundtrack again (the loudness search may take
        up to four).
    speech : np.ndarray
        float mono (n_samples,) at ``sample_rate``, about [-1, 1].
    music : np.ndarray, optional
        float mono at ``sample_rate``; looped or cut to the speech's length.
    target : float or None
        Integrated loudness, LUFS; None keeps the level (peaks are still clipped to ±1).
    """
    n = len(speech)
    chunk = max(int(chunk_s * sample_rate), 1)
    mix = _Mix(speech, sample_rate, music, volume_db=music_volume_db, duck_db=-12.0, fade_s=1.0,
               chunk=chunk)
    if target is None:
        for start, stop in _chunks(n, chunk):
            sink(np.clip(mix(start, stop), -1.0, 1.0).astype(np.float32))
        return
    meter = LoudnessMeter(sample_rate)
    for start, stop in _chunks(n, chunk):
        meter.feed(mix(start, stop))
    current = meter.value()
    if not np.isfinite(current):  # silence: as it is
        for start, stop in _chunks(n, chunk):
            sink(np.clip(mix(start, stop), -1.0, 1.0).astype(np.float32))
        return
    gain_db = target - current
    # As normalize_loudness: limiting lowers the loudness a little, so measure and retry.
    for attempt in range(4):
        if attempt and hasattr(sink, "rewind"):
            sink.rewind()
        meter = LoudnessMeter(sample_rate)
        for start, stop in _chunks(n, chunk):
            piece = mix.limited(start, stop, 10 ** (gain_db / 20), ceiling_db)
            meter.feed(piece)
            sink(np.clip(piece, -1.0, 1.0).astype(np.float32))
        miss = target - meter.value()
        if abs(miss) < 0.1 or not hasattr(sink, "rewind"):
            break
        gain_db += miss
