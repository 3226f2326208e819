"""The finished soundtrack: loudness (checked with ffmpeg's own EBU R128 meter), peaks,
background music ducked under speech, and per-avatar voice defaults."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from conftest import SPEECH_DIR, run_cli

from podium import speech
from podium.common.audio import integrated_loudness, mix_music, normalize_loudness, speech_activity
from podium.common.media import ffmpeg_exe, probe, read_audio


def ebur128(path) -> tuple[float, float]:
    """(integrated loudness LUFS, true peak dBFS) measured by ffmpeg's ebur128 filter."""
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = err[err.rfind("Summary:"):]
    return (float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
            float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)))


def _speech_sources():
    sources = [("espeak", speech.synthesize("Good morning. Today we look at the weather in the hills, "
                                            "and why the wind turns at night.", voice=speech.FAST_VOICE).audio, 22050)]
    if SPEECH_DIR.is_dir():
        for name in ("en_imagine.wav", "zh_news.wav"):
            if (SPEECH_DIR / name).is_file():
                sources.append((name, read_audio(SPEECH_DIR / name, sample_rate=48000), 48000))
    return sources


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_loudness_normalisation_agrees_with_ffmpeg(target, tmp_path):
    for name, audio, sr in _speech_sources():
        out = normalize_loudness(audio * 0.1, sr, target=target)  # start far too quiet
        path = tmp_path / f"{name}.wav"
        sf.write(path, out, sr)
        lufs, peak = ebur128(path)
        assert abs(lufs - target) <= 0.5, (name, lufs)
        assert peak <= -1.0, (name, peak)
        assert abs(integrated_loudness(out, sr) - lufs) < 0.3, name


def _tone(seconds: float, sr: int, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * hz * t) * (1 + 0.2 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)


def test_music_is_ducked_under_speech_and_fades():
    utt = speech.synthesize("Welcome to the course. [pause 2s] Let us begin with the basics.")
    sr = utt.sample_rate
    music = _tone(3.0, sr)  # shorter than the speech: it loops
    mixed = mix_music(utt.audio, music, sr, volume_db=-20, duck_db=-12)
    bed = mixed.astype(np.float64) - utt.audio  # the music's part of the mix
    assert len(mixed) == len(utt.audio)
    level = lambda a, b: 20 * np.log10(np.sqrt(np.mean(bed[int(a * sr):int(b * sr)] ** 2)) + 1e-12)
    first, second = utt.sentences[0], utt.sentences[1]
    pause = level(first.end + 0.6, second.start - 0.2)
    talking = level(second.start + 0.4, second.end - 0.2)
    # Ducked by 12 dB while speaking (the tone itself swells by +-1.6 dB).
    assert 9 < pause - talking < 16, (pause, talking)
    assert level(0, 0.05) < pause - 20  # fades in
    assert level(len(mixed) / sr - 0.05, len(mixed) / sr) < pause - 20  # and out
    # Music level sits about 20 LU under the speech where nobody speaks.
    act = speech_activity(utt.audio, sr)
    assert act[int((first.start + 0.5) * sr)] > 0.99 and act[int((first.end + 1.0) * sr)] < 0.01


def test_rendered_video_loudness_and_music(photo_avatar, session_home, tmp_path):
    music = tmp_path / "music.wav"
    sf.write(music, _tone(4.0, 44100), 44100)
    plain, scored = tmp_path / "plain.mp4", tmp_path / "music.mp4"
    text = "Thanks for watching. [pause 1.5s] See you next time."
    for out, extra in ((plain, ()), (scored, ("--music", str(music), "--music-volume", "-18"))):
        proc = run_cli("say", "--avatar", photo_avatar.name, "--text", text, "--size", "256x256",
                       "--out", str(out), *extra, home=session_home)
        assert proc.returncode == 0, proc.stderr
        lufs, peak = ebur128(out)
        assert abs(lufs - (-16.0)) <= 1.0 and peak <= -1.0, (out.name, lufs, peak)
    a, b = (read_audio(p, sample_rate=16000) for p in (plain, scored))
    mid = slice(int(len(a) * 0.48), int(len(a) * 0.52))  # inside the scripted pause
    rms = lambda x: np.sqrt(np.mean(x ** 2))
    assert rms(b[mid]) > 10 * rms(a[mid]) and rms(b[mid]) > 0.003  # music audible in the pause


def test_bad_music_is_refused_before_any_work(photo_avatar, session_home, tmp_path):
    out = tmp_path / "x.mp4"
    proc = run_cli("say", "--avatar", photo_avatar.name, "--text", "Hi.", "--music",
                   str(tmp_path / "nope.mp3"), "--out", str(out), home=session_home)
    assert proc.returncode == 2 and "music file not found" in proc.stderr and not out.exists()
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    proc = run_cli("say", "--avatar", photo_avatar.name, "--text", "Hi.", "--music", str(text),
                   "--out", str(out), home=session_home)
    assert proc.returncode == 2 and "notes.wav" in proc.stderr and not out.exists(), proc.stderr


def test_avatar_keeps_its_voice_and_rate(photo_avatar, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(photo_avatar.path.parent.parent, home)
    name = photo_avatar.name
    proc = run_cli("avatar", "set", name, "--voice", "de", "--rate", "120", "--pitch", "1.4", home=home)
    assert proc.returncode == 0, proc.stderr
    text = "Guten Morgen. Heute lernen wir etwas Neues."
    out = tmp_path / "de.mp4"
    proc = run_cli("say", "--avatar", name, "--text", text, "--size", "256x256", "--out", str(out), home=home)
    assert proc.returncode == 0, proc.stderr
    expected = speech.synthesize(text, voice="de", rate_wpm=120).duration + 0.75  # lead-in + tail
    other = speech.synthesize(text, voice="en-us").duration + 0.75
    assert abs(probe(out).duration - expected) < 0.1 and abs(expected - other) > 0.3
    from podium.lipsync.voice_match import measure_voice

    higher = measure_voice(read_audio(out, sample_rate=16000), 16000).f0
    normal = speech.synthesize(text, voice="de", rate_wpm=120)
    assert higher > 1.15 * measure_voice(normal.audio, normal.sample_rate).f0  # the stored pitch
    kokoro = run_cli("avatar", "set", name, "--voice", "kokoro:jm_kumo", "--pitch", "1.2", home=home)
    assert kokoro.returncode == 2 and "pitch" in kokoro.stderr
    bad = run_cli("avatar", "set", name, "--voice", "xx-nope", home=home)
    assert bad.returncode == 2 and "xx-nope" in bad.stderr
