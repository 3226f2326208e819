"""Suggesting the built-in voice closest to the presenter's own (pitch and timbre)."""

from __future__ import annotations

import numpy as np
from conftest import FOOTAGE_DIR, needs_shared, run_cli

from podium import speech
from podium.lipsync.voice_match import measure_voice, suggest_voice, voice_features


def test_pitch_is_measured_on_a_known_tone():
    sr = 16000
    t = np.arange(3 * sr) / sr
    # A buzzy 140 Hz "voice": harmonics, so the centroid is well above the pitch.
    tone = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12)) * 0.2
    feats = measure_voice(tone, sr)
    assert abs(feats.f0 - 140) < 3
    # Power falls as 1/k^2, so the centroid is 140 Hz * sum(1/k) / sum(1/k^2).
    k = np.arange(1, 12)
    assert abs(feats.centroid - 140 * (1 / k).sum() / (1 / k ** 2).sum()) < 25
    assert measure_voice(np.zeros(sr), sr) is None  # silence: nothing to match


def test_each_voice_is_its_own_closest_match():
    options = voice_features()
    assert len(options) >= 3
    for vid in options:
        u = speech.synthesize("The train leaves at nine from the north platform, so please be early.",
                              voice=vid)
        assert suggest_voice(u.audio, u.sample_rate).voice == vid, vid


@needs_shared
def test_footage_avatar_gets_the_voice_nearest_its_presenter(tmp_path):
    from podium.avatars import AvatarLibrary

    clip = FOOTAGE_DIR / "presenter_a.mp4"
    proc = run_cli("avatar", "create", "anna", "--footage", str(clip), "--consent", "Test Person",
                   home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    m = AvatarLibrary(tmp_path).get("anna").manifest
    match = m.voice_match
    options = voice_features()
    chosen = m.speech_defaults.voice
    assert chosen in options and f"voice: {chosen}" in proc.stdout
    # The stored choice is the nearest by pitch (semitones) and timbre.
    from podium.lipsync.voice_match import VoiceFeatures, distance

    me = VoiceFeatures(match["presenter_f0_hz"], match["presenter_centroid_hz"])
    assert all(distance(me, options[chosen]) <= distance(me, f) + 0.05 for f in options.values())
    assert 60 < match["presenter_f0_hz"] < 400
