"""Mouth trajectories: closures, rest in silence, anticipation, no chattering."""

from __future__ import annotations

import numpy as np

from podium import speech
from podium.lipsync.coarticulation import mouth_track
from podium.lipsync.pipeline import pad_utterance
from podium.speech import Phone

FPS = 25.0


def _phones(spec):
    """[(symbol, start, end), ...] -> Phones."""
    return [Phone(s, a, b) for s, a, b in spec]


def test_silence_rests_closed_and_still():
    utt = pad_utterance(speech.synthesize("Hello there, my friend. [pause 2s] And we are back."))
    track = mouth_track(utt.phonemes, utt.duration, fps=FPS)
    ends = np.array([p.end for p in utt.phonemes[:-1]])
    starts = np.array([p.start for p in utt.phonemes[1:]])
    k = int(np.argmax(starts - ends))
    t = (np.arange(len(track.openness)) + 0.5) / FPS
    inside = (t > ends[k] + 0.15) & (t < starts[k] - 0.1)
    assert inside.sum() >= 40
    assert np.all(track.openness[inside] == 0.0)
    assert np.ptp(track.spread[inside]) == 0.0
    # ... and it really moves while speaking.
    assert track.openness[t < ends[k]].max() > 0.5
    # The padding the pipeline adds rests closed too.
    assert track.openness[0] == 0.0 and track.openness[-1] == 0.0


def test_every_bilabial_closes_even_when_fast():
    utt = speech.synthesize("Bob put a map by the pump, mom. Maybe baby bumps the pebble.", rate_wpm=380,
                            voice=speech.FAST_VOICE)
    track = mouth_track(utt.phonemes, utt.duration, fps=FPS)
    n = 0
    for ph in utt.phonemes:
        if ph.symbol in ("p", "b", "m"):
            k = min(int((ph.start + ph.end) / 2 * FPS), len(track.openness) - 1)
            assert track.openness[max(k - 1, 0):k + 2].min() == 0.0, ph
            n += 1
    assert n >= 12


def test_rounding_is_anticipated():
    # "s" then a rounded "u": rounding must start during the "s", before the vowel.
    phones = _phones([("s", 0.2, 0.4), ("u", 0.4, 0.6)])
    track = mouth_track(phones, 1.0, fps=100.0)
    during_s = track.spread[int(0.33 * 100)]
    assert during_s < -0.3
    # The same consonant before an unrounded vowel stays neutral-to-wide.
    plain = mouth_track(_phones([("s", 0.2, 0.4), ("i", 0.4, 0.6)]), 1.0, fps=100.0)
    assert plain.spread[int(0.33 * 100)] > -0.1


def test_no_chattering_on_fast_alternation():
    # 40 ms alternations of an open vowel and a light consonant (faster than lips move).
    spec, t = [], 0.1
    for i in range(30):
        spec.append(("a" if i % 2 == 0 else "t", t, t + 0.04))
        t += 0.04
    track = mouth_track(_phones(spec), t + 0.2, fps=FPS)
    o = track.openness[(np.arange(len(track.openness)) + 0.5) / FPS < t - 0.1]
    o = o[(np.arange(len(o)) + 0.5) / FPS > 0.2]
    assert np.ptp(o) < 0.15, f"openness flickers between {o.min():.2f} and {o.max():.2f}"
    assert o.min() > 0.25, "a 40 ms consonant must not snap the mouth shut"


def test_frame_count_matches_audio():
    for dur in (0.5, 1.0, 3.33, 10.0):
        track = mouth_track([], dur, fps=FPS)
        assert len(track.openness) == int(np.ceil(dur * FPS - 1e-6))
        assert np.all(track.openness == 0)
