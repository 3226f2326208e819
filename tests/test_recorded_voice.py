"""A recorded voice drives the lips: phone timings from the audio alone."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SPEECH_DIR, run_cli
from measure import expected_openness, lip_gaps

from podium.common.media import probe

needs_speech = pytest.mark.skipif(not (SPEECH_DIR / "en_radio_1.wav").is_file(),
                                  reason=f"real speech not found in {SPEECH_DIR}")


@needs_speech
@pytest.mark.parametrize("clip", ["en_radio_1.wav", "de_speech.wav"])
def test_say_with_recorded_voice(clip, photo_avatar, tmp_path):
    import shutil

    from podium import speech

    home = tmp_path / "home"
    shutil.copytree(photo_avatar.path.parent.parent, home)
    out = tmp_path / "voice.mp4"
    src = SPEECH_DIR / clip
    proc = run_cli("say", "--avatar", photo_avatar.name, "--audio", str(src), "--out", str(out), home=home)
    assert proc.returncode == 0, proc.stderr
    audio_s = probe(src).duration
    info = probe(out)
    assert abs(info.duration - audio_s) < 0.1
    utt = speech.align_recording(src)
    gaps, found = lip_gaps(out)
    assert found.all()
    expect = expected_openness(utt.phonemes, len(gaps), 25.0)
    r = np.corrcoef(gaps, expect)[0, 1]
    assert r > 0.3, f"lips do not follow the recording (r={r:.2f})"
