"""Every input is bounded before work starts: a request past a bound is refused with one line
(exit 2 on the command line), nothing is written, and the refusal itself costs little memory.

The bombs are built by the tests themselves, small: a 20000x20000 PNG of a few dozen KB, two
hours of silence as a FLAC of under 100 KB, a billion-laughs YAML of ten lines. Those that
would exhaust memory in code without the bound run in a child under an address-space limit
(RLIMIT_AS), which reports its peak memory growth; the rest are measured with tracemalloc.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import PORTRAIT, ROOT, run_cli, tree_snapshot

import podium
from podium import speech
from podium.common.errors import ScriptError, UserInputError
from podium.common.media import check_image_size, ffmpeg_exe, read_audio
from podium.lipsync.batch import BatchRow
from podium.lipsync.layout import Layout, check_layout
from podium.lipsync.scenes import Scene, check_scenes, load_scenes
from podium.speech_input import Speech, check_recording

PAUSE_BOMB = "Hello. " + "[pause 10s]" * 200  # 33 min of silence in 2 207 characters


# --- helpers ---------------------------------------------------------------------------------

def peak_mb(fn, *args, **kwargs):
    """(what ``fn`` raised or returned, peak Python memory it allocated, MB)."""
    tracemalloc.start()
    try:
        try:
            outcome = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the outcome is what is being tested
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


_CHILD = """
import json, resource, sys
{setup}

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

try:  # reset the peak RSS to the current one, so the growth is the call's alone
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
except OSError:
    pass
rss0 = status("VmRSS")
limit = status("VmSize") + {budget_mb} * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
out = {{}}
try:
{call}
    out["outcome"] = "accepted"
except BaseException as exc:
    out["outcome"] = type(exc).__name__
    out["user_error"] = any(c.__name__ == "UserInputError" for c in type(exc).__mro__)
    out["message"] = str(exc)
out["growth_mb"] = (status("VmHWM") - rss0) / 2**20
print(json.dumps(out))
"""


def bounded(setup: str, call: str, *, budget_mb: int = 400) -> dict:
    """Run ``call`` in a child whose address space may grow by ``budget_mb`` at most (past it
    allocations fail, so unbounded code fails quickly instead of swapping); returns its
    outcome, message and peak RSS growth (MB)."""
    code = _CHILD.format(setup=textwrap.dedent(setup), budget_mb=budget_mb,
                         call=textwrap.indent(textwrap.dedent(call), "    "))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def png_bomb(path: Path, width: int, height: int) -> Path:
    """A valid 1-bit greyscale PNG of ``width`` x ``height`` white pixels, written by hand:
    each row deflates to almost nothing, so 20000x20000 is a few dozen KB."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    rows = row * 256
    body = b"".join(packer.compress(rows) for _ in range(height // 256))
    body += packer.compress(row * (height % 256)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def jpeg_claiming(path: Path, width: int, height: int) -> Path:
    """A small real JPEG whose frame header (SOF0) is patched to claim ``width`` x ``height``."""
    data = bytearray(cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))[1].tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


def bmp_claiming(path: Path, width: int, height: int) -> Path:
    """A 24-bit BMP header claiming ``width`` x ``height`` (pixels left out): sized by Pillow."""
    row = (width * 3 + 3) // 4 * 4
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, row * height, 2835, 2835, 0, 0)
    path.write_bytes(b"BM" + struct.pack("<IHHI", 14 + len(info) + row * height, 0, 0, 54) + info)
    return path


def silence(path: Path, seconds: float, *, rate: int = 1000) -> Path:
    """``seconds`` of silence as FLAC (two hours: about 90 KB at 1 kHz)."""
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"anullsrc=r={rate}:cl=mono", "-t", f"{seconds:g}", "-c:a", "flac", str(path)],
                   check=True, capture_output=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("bombs")
    return {"png": png_bomb(d / "huge.png", 20000, 20000),
            "hours": silence(d / "two_hours.flac", 7200),
            "music": silence(d / "long_music.flac", 5400, rate=8000)}


def one_line(proc) -> bool:
    return proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


# --- scripts ---------------------------------------------------------------------------------

def test_a_script_has_a_character_bound():
    outcome, peak = peak_mb(speech.parse_script, "word " * 30_000)
    assert isinstance(outcome, ScriptError) and "150,000 characters" in str(outcome), outcome
    assert "100,000" in str(outcome) and "PODIUM_MAX_SCRIPT_CHARS" in str(outcome)
    assert peak < 2, peak
    with pytest.raises(ScriptError, match="characters"):
        Speech.from_script("word " * 30_000)


def test_pauses_and_speech_count_toward_the_longest_video():
    outcome, peak = peak_mb(Speech.from_script, PAUSE_BOMB)
    assert isinstance(outcome, ScriptError), outcome
    assert "30 min" in str(outcome) and "PODIUM_MAX_VIDEO_MINUTES" in str(outcome)
    assert peak < 5, peak
    # 60 000 characters of plain sentences: 50 min at a fast speaker's 20 characters a second
    outcome, peak = peak_mb(Speech.from_script, "This sentence is spoken aloud. " * 2000)
    assert isinstance(outcome, ScriptError) and "of speech" in str(outcome), outcome
    assert peak < 30, peak
    # [rate 50%] doubles the estimate
    slow = "[rate 50%]" + "Words said slowly. " * 1000 + "[/rate]"  # 19 000 characters: 37 min
    with pytest.raises(ScriptError, match="of speech"):
        speech.parse_script(slow)
    assert len(speech.parse_script("Words said slowly. " * 1000)) > 1  # 22 min at normal rate


def test_a_long_script_of_short_sentences_parses_in_linear_time():
    """A script at the character bound is refused after parsing it: that parse stays cheap
    (it was quadratic in the sentences: every sentence end split the rest of the paragraph)."""
    outcome, peak = peak_mb(speech.parse_script, "Hi. " * 12_000)
    assert isinstance(outcome, ScriptError) and "would last" in str(outcome)
    assert peak < 60, peak


def test_the_video_length_bound_is_configurable(monkeypatch):
    monkeypatch.setenv("PODIUM_MAX_VIDEO_MINUTES", "60")
    segments = speech.parse_script(PAUSE_BOMB)
    assert sum(s.seconds for s in segments if isinstance(s, speech.PauseSegment)) == 2000
    monkeypatch.setenv("PODIUM_MAX_VIDEO_MINUTES", "lots")
    with pytest.raises(UserInputError, match="PODIUM_MAX_VIDEO_MINUTES='lots' is not a positive"):
        speech.parse_script("Hello.")
    monkeypatch.setenv("PODIUM_MAX_VIDEO_MINUTES", "1")
    monkeypatch.setenv("PODIUM_MAX_SCRIPT_CHARS", "10")
    with pytest.raises(ScriptError, match="the longest is 10"):
        speech.parse_script("Hello there.")


def test_every_way_of_speaking_gets_the_script_bounds():
    with pytest.raises(ScriptError, match="longest video"):
        speech.synthesize(PAUSE_BOMB, voice=speech.FAST_VOICE)
    # scenes: each one is short, together they are too long
    scene = Scene("Part one. " + "[pause 10s]" * 70)  # 11.7 min
    assert check_scenes([scene, scene]) < 30 * 60
    with pytest.raises(ScriptError, match="the scenes together would last at least 35 min"):
        check_scenes([scene, scene, scene])
    with pytest.raises(ScriptError, match="scene 2: the script is"):
        check_scenes([scene, Scene("x" * 100_001)])


def test_the_front_door_refuses_long_scripts_and_writes_nothing(photo_avatar, session_home, tmp_path):
    avatar = podium.Library(session_home).avatar(photo_avatar.name)
    bomb = Speech(script=PAUSE_BOMB)  # made without from_script: render and preview check it
    with pytest.raises(ScriptError, match="longest video"):
        avatar.preview_audio(bomb, tmp_path / "a.wav")
    with pytest.raises(ScriptError, match="longest video"):
        avatar.render(bomb, tmp_path / "a.mp4")
    scene = Scene("Part one. " + "[pause 10s]" * 70)
    with pytest.raises(ScriptError, match="scenes together"):
        avatar.render_scenes([scene] * 3, tmp_path / "s.mp4")
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / "batch"
    summary = podium.Library(session_home).batch(avatar, "Hi {{name}}. " + "[pause 10s]" * 200,
                                                 [BatchRow(1, "ann", {"name": "Ann"})], out)
    (row,) = summary.results
    assert row.status == "failed" and "longest video" in row.error and not (out / "ann.mp4").exists()


def test_the_command_line_refuses_a_pause_bomb_in_one_line(photo_avatar, session_home, tmp_path):
    before = tree_snapshot(tmp_path)
    for extra in ((), ("--preview-audio",)):
        proc = run_cli("say", "--avatar", photo_avatar.name, "--text", PAUSE_BOMB, *extra,
                       "--out", str(tmp_path / "x.mp4"), home=session_home)
        assert one_line(proc) and "longest video is 30 min" in proc.stderr, proc.stderr
    script = tmp_path / "long.txt"
    script.write_text("word " * 30_000)
    before = tree_snapshot(tmp_path)
    proc = run_cli("say", "--avatar", photo_avatar.name, "--script", str(script),
                   "--out", str(tmp_path / "x.mp4"), home=session_home)
    assert one_line(proc) and "150,000 characters" in proc.stderr, proc.stderr
    assert tree_snapshot(tmp_path) == before


# --- recordings ------------------------------------------------------------------------------

def test_a_recording_longer_than_the_longest_video_is_refused(bombs, tmp_path):
    outcome, peak = peak_mb(Speech.from_recording, bombs["hours"])
    assert isinstance(outcome, UserInputError), outcome
    assert "lasts 2 h 00 min" in str(outcome) and "longest video is 30 min" in str(outcome)
    assert peak < 2, peak
    short = silence(tmp_path / "short.flac", 3)
    assert check_recording(short) == short


def test_a_file_without_audio_is_no_recording(tmp_path):
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(UserInputError, match="'face.png' has no audio stream"):
        Speech.from_recording(image)
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all")
    with pytest.raises(UserInputError, match="'notes.wav' is not an audio file"):
        Speech.from_recording(notes)


def test_speak_checks_a_recording_it_did_not_check_itself(photo_avatar, session_home, bombs, tmp_path):
    avatar = podium.Library(session_home).avatar(photo_avatar.name)
    with pytest.raises(UserInputError, match="lasts 2 h 00 min"):
        avatar.speak(Speech(recording=bombs["hours"]))
    before = tree_snapshot(tmp_path)
    proc = run_cli("say", "--avatar", photo_avatar.name, "--audio", str(bombs["hours"]),
                   "--out", str(tmp_path / "x.mp4"), home=session_home)
    assert one_line(proc) and "lasts 2 h 00 min" in proc.stderr, proc.stderr
    assert tree_snapshot(tmp_path) == before


# --- images ----------------------------------------------------------------------------------

def test_image_sizes_come_from_headers(tmp_path):
    h, w = cv2.imread(str(PORTRAIT)).shape[:2]
    assert check_image_size(PORTRAIT) == (w, h)
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), np.zeros((30, 50, 3), np.uint8))
    assert check_image_size(small) == (50, 30)
    assert check_image_size(bmp_claiming(tmp_path / "ok.bmp", 640, 480)) == (640, 480)  # Pillow


@pytest.mark.parametrize("make, says", [
    (lambda d: jpeg_claiming(d / "tall.jpg", 16000, 16000), "16000x16000"),
    (lambda d: bmp_claiming(d / "wide.bmp", 9000, 9000), "9000x9000"),
    (lambda d: bmp_claiming(d / "vast.bmp", 30000, 30000), "far too large"),
    (lambda d: png_bomb(d / "panorama.png", 9000, 100), "9000x100"),  # one side too long
    (lambda d: png_bomb(d / "poster.png", 8000, 6000), "48 megapixels"),
])
def test_oversized_images_are_refused_before_decoding(make, says, tmp_path):
    path = make(tmp_path)
    got = bounded("from podium.lipsync.layout import Layout, check_layout",
                  f"check_layout(Layout(background={str(path)!r}))")
    assert got["user_error"] and says in got["message"], got
    assert "PODIUM_MAX_IMAGE_MEGAPIXELS" in got["message"] and got["growth_mb"] < 50, got


def test_a_png_bomb_as_a_slide_costs_no_memory(bombs):
    """20000x20000 pixels (1.2 GB decoded) in a file of a few dozen KB."""
    assert bombs["png"].stat().st_size < 200_000
    got = bounded("from podium.lipsync.layout import Layout, check_layout",
                  f"check_layout(Layout(slide={str(bombs['png'])!r}))")
    assert got["outcome"] == "UserInputError" and "slide 'huge.png' is 20000x20000" in got["message"], got
    assert got["growth_mb"] < 50, got


def test_every_image_input_gets_the_bound(bombs, tmp_path, monkeypatch):
    huge = str(bombs["png"])
    with pytest.raises(UserInputError, match="background 'huge.png' is 20000x20000"):
        check_layout(Layout(background=huge))
    with pytest.raises(UserInputError, match="scene 2: slide 'huge.png' is 20000x20000"):
        check_scenes([Scene("One."), Scene("Two.", Path(huge))])
    scenes = tmp_path / "scenes.yaml"
    scenes.write_text(f"scenes:\n  - slide: {huge}\n    script: Hello.\n")
    with pytest.raises(UserInputError, match="scene 1: slide 'huge.png'"):
        check_scenes(load_scenes(scenes))
    got = bounded("from podium.avatars.photo import load_portrait", f"load_portrait({huge!r})")
    assert got["outcome"] == "FootageError" and "photo 'huge.png' is 20000x20000" in got["message"], got
    assert got["growth_mb"] < 50, got
    # a 40000x40000 background (more than OpenCV itself will decode) is refused the same way
    with pytest.raises(UserInputError, match="40000x40000"):
        check_layout(Layout(background=str(png_bomb(tmp_path / "bigger.png", 40000, 40000))))
    monkeypatch.setenv("PODIUM_MAX_IMAGE_SIDE", "20000")
    monkeypatch.setenv("PODIUM_MAX_IMAGE_MEGAPIXELS", "400")
    assert check_image_size(huge) == (20000, 20000)  # raised: the header is all that is read


def test_the_command_line_refuses_a_bomb_slide_in_one_line(photo_avatar, session_home, bombs, tmp_path):
    before = tree_snapshot(tmp_path)
    proc = run_cli("say", "--avatar", photo_avatar.name, "--text", "Hi.", "--slide", str(bombs["png"]),
                   "--out", str(tmp_path / "x.mp4"), home=session_home)
    assert one_line(proc) and "20000x20000" in proc.stderr, proc.stderr
    assert tree_snapshot(tmp_path) == before


# --- music -----------------------------------------------------------------------------------

def test_music_is_decoded_only_as_far_as_the_video_lasts(bombs):
    """90 minutes of music under a one-second video."""
    got = bounded("""
        import numpy as np
        from podium.lipsync.pipeline import RenderOptions, finish_audio
        from podium.speech.utterance import Utterance
        speech = (0.1 * np.sin(np.arange(24000) / 24000 * 2 * np.pi * 220)).astype(np.float32)
        utterance = Utterance(audio=speech, sample_rate=24000, phonemes=(), words=(), sentences=())
        """, f"""
        mixed = finish_audio(utterance, RenderOptions(music={str(bombs['music'])!r}))
        assert len(mixed) == 24000, len(mixed)
        """, budget_mb=300)
    assert got["outcome"] == "accepted", got
    assert got["growth_mb"] < 60, got


def test_read_audio_stops_at_max_seconds(bombs):
    audio, peak = peak_mb(read_audio, bombs["music"], sample_rate=8000, max_seconds=2.0)
    assert abs(len(audio) - 16000) <= 8 and peak < 2, (len(audio), peak)


def test_short_music_still_loops_and_long_music_mixes_as_before(tmp_path, monkeypatch):
    import soundfile as sf

    import podium.common.media as media
    from podium.lipsync.pipeline import RenderOptions, finish_audio
    from podium.speech.utterance import Utterance

    sr = 24000
    t = np.arange(int(2.5 * sr)) / sr
    voice = (0.2 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0)).astype(np.float32)
    utterance = Utterance(audio=voice, sample_rate=sr, phonemes=(), words=(), sentences=())
    rng = np.random.default_rng(3)
    whole = media.read_audio
    for seconds in (0.7, 6.0):  # loops; cut
        music = tmp_path / f"music_{seconds}.wav"
        sf.write(music, (0.1 * rng.standard_normal(int(seconds * sr))).astype(np.float32), sr)
        options = RenderOptions(music=music)
        bounded_mix = finish_audio(utterance, options)
        monkeypatch.setattr(media, "read_audio", lambda path, *, max_seconds=None, **kw: whole(path, **kw))
        full_mix = finish_audio(utterance, options)
        monkeypatch.setattr(media, "read_audio", whole)
        assert len(bounded_mix) == len(voice)
        assert np.abs(bounded_mix - full_mix).max() < 1e-4, seconds


# --- scenes files ----------------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
scenes:
  - script: *i
"""


def test_a_billion_laughs_scenes_file_is_refused_at_its_first_anchor(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    got = bounded("from podium.lipsync.scenes import load_scenes", f"load_scenes({str(path)!r})")
    assert got["outcome"] == "UserInputError" and "anchor or alias" in got["message"], got
    assert "line 1, column 4" in got["message"] and got["growth_mb"] < 20, got


@pytest.mark.parametrize("text, says", [
    ("scenes:\n  - script: &hi Hello there.\n  - script: *hi\n", "anchor or alias"),
    ("base: &base {slide: a.png}\nscenes:\n  - <<: *base\n    script: Hi.\n", "anchor or alias"),
    ("scenes:\n" + "  - script: Hi.\n" * 201, "has 201 scenes; the most is 200"),
    ("[" * 50_000, "nested too deeply"),
    ("scenes:\n  - script: Hello.\n#" + "x" * (1 << 20) + "\n", "over 1024 KB"),
])
def test_scenes_files_are_bounded(text, says, tmp_path):
    path = tmp_path / "scenes.yaml"
    path.write_text(text)
    outcome, peak = peak_mb(load_scenes, path)
    assert isinstance(outcome, UserInputError) and says in str(outcome), outcome
    assert peak < 12, peak


def test_plain_scenes_files_still_load(tmp_path, monkeypatch):
    path = tmp_path / "scenes.yaml"
    path.write_text("scenes:\n" + "  - script: Hi.\n" * 200)
    assert len(load_scenes(path)) == 200
    path.write_text("scenes:\n" + "  - script: Hi.\n" * 201)
    monkeypatch.setenv("PODIUM_MAX_SCENES", "500")
    assert len(load_scenes(path)) == 201


def test_the_command_line_refuses_a_billion_laughs_in_one_line(photo_avatar, session_home, tmp_path):
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS)
    before = tree_snapshot(tmp_path)
    proc = run_cli("say", "--avatar", photo_avatar.name, "--scenes", str(tmp_path / "laughs.yaml"),
                   "--out", str(tmp_path / "x.mp4"), home=session_home)
    assert one_line(proc) and "anchor or alias" in proc.stderr, proc.stderr
    assert tree_snapshot(tmp_path) == before
