"""Outputs are replaced whole, one render per output path, only Podium's own temporaries are
swept, and the soundtrack is finished in memory that does not grow with its length."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest

import podium
from podium.common.audio import integrated_loudness, mix_music, normalize_loudness, write_finished_audio
from podium.common.errors import UserInputError
from podium.common.files import OutputBusy, clean_stale_temps, output_lock
from podium.common.media import VideoWriter
from podium.lipsync.coarticulation import mouth_track
from podium.lipsync.pipeline import RenderOptions, encode_outputs
from podium.speech import FAST_VOICE, synthesize

SR = 24000


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise in syllable-long bursts with pauses: loudness gating and ducking have work to do."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    env = (np.sin(np.arange(n) * 2 * np.pi * 3.5 / SR) > 0.2) * (np.arange(n) % (3 * SR) < 2.3 * SR)
    return (0.2 * rng.standard_normal(n) * env).astype(np.float32)


def _streamed(speech, music=None, chunk_s=0.7, **kw):
    pieces = []

    class Sink:
        def __call__(self, piece):
            pieces.append(piece)

        def rewind(self):
            pieces.clear()

    write_finished_audio(Sink(), speech, SR, music=music, chunk_s=chunk_s, **kw)
    return np.concatenate(pieces)


def test_streamed_soundtrack_equals_the_whole_array_version():
    speech = _speechlike(7.0)
    whole = np.clip(normalize_loudness(speech, SR, target=-16.0), -1, 1)
    assert np.abs(_streamed(speech) - whole).max() < 1e-5
    music = 0.1 * np.sin(np.arange(int(2.3 * SR)) * 2 * np.pi * 220 / SR).astype(np.float32)
    whole = np.clip(normalize_loudness(mix_music(speech, music, SR, volume_db=-20), SR, target=-16.0), -1, 1)
    streamed = _streamed(speech, music, music_volume_db=-20)
    assert len(streamed) == len(whole)
    assert abs(integrated_loudness(streamed, SR) - integrated_loudness(whole, SR)) < 0.05
    assert np.corrcoef(streamed, whole)[0, 1] > 0.9999


@pytest.mark.parametrize("with_music", [False, True])
def test_soundtrack_memory_is_flat_in_its_length(with_music):
    music = _speechlike(3.0, seed=1) if with_music else None
    peaks = []
    for seconds in (60, 600):
        speech = _speechlike(seconds)
        tracemalloc.start()
        write_finished_audio(lambda piece: None, speech, SR, music=music)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    # The whole-array version allocated several float64 copies: 10 x longer, 10 x more.
    assert peaks[1] < 1.3 * peaks[0] + 5, peaks
    assert peaks[1] < 64, peaks


def _encode(out, utterance, draw):
    fps = 25.0
    track = mouth_track(utterance.phonemes, utterance.duration, fps=fps)
    return encode_outputs(out, utterance, fps=fps, size=(64, 48), options=RenderOptions(), draw=draw,
                          track=track)


def _frames(n):
    def draw(writer: VideoWriter) -> int:
        for _ in range(n):
            writer.write(np.full((48, 64, 3), 90, np.uint8))
        return n
    return draw


def test_a_failed_rerender_leaves_the_previous_video_and_captions(tmp_path):
    out = tmp_path / "talk.mp4"
    utterance = synthesize("A first version.", voice=FAST_VOICE)
    _encode(out, utterance, _frames(30))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["talk.mp4", "talk.srt", "talk.vtt"]

    def broken(writer):
        _frames(10)(writer)
        raise RuntimeError("the renderer broke half-way")

    second = synthesize("A second, different version of the words.", voice=FAST_VOICE)
    with pytest.raises(RuntimeError):
        _encode(out, second, broken)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_second_render_into_the_same_path_is_refused(photo_avatar, session_home, tmp_path):
    out = tmp_path / "same.mp4"
    avatar = podium.Library(session_home).avatar(photo_avatar.name)
    with output_lock(out):
        with pytest.raises(OutputBusy, match="another render"):
            avatar.render(podium.Speech.from_script("Hello."), out, RenderOptions(voice=FAST_VOICE))
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # the lock file went with the lock


def test_an_output_that_is_an_input_is_refused(photo_avatar, session_home, tmp_path):
    avatar = podium.Library(session_home).avatar(photo_avatar.name)
    clip = tmp_path / "clip.mp4"
    _encode(clip, synthesize("The original words.", voice=FAST_VOICE), _frames(30))
    original = clip.read_bytes()
    with pytest.raises(UserInputError, match="being dubbed"):
        avatar.dub(clip, podium.Speech.from_script("New words."), clip, RenderOptions(voice=FAST_VOICE))
    with pytest.raises(UserInputError, match="also an input"):
        avatar.render(podium.Speech.from_recording(clip), clip)
    assert clip.read_bytes() == original


def test_the_stale_sweep_removes_only_podiums_own_temporaries(tmp_path):
    dead = 2**22 + 12345  # above pid_max's default: no such process
    ours = [tmp_path / f".podium-tmp-{dead}-a1b2c3d4.{ext}" for ext in ("mp4", "wav", "srt", "vtt")]
    users = [tmp_path / ".podium-999999-notes.txt", tmp_path / f".podium-tmp-{dead}-notes.txt",
             tmp_path / f".podium-tmp-{dead}-a1b2c3d4.docx"]
    alive = tmp_path / f".podium-tmp-{os.getpid()}-zzzzzzzz.mp4"
    for p in (*ours, *users, alive):
        p.write_bytes(b"x")
    assert clean_stale_temps(tmp_path) == len(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (*users, alive))
