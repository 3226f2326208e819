"""The studio's handlers without a browser: consent, upload checks, quality report, jobs that
survive a restart, cancel, render/dub/batch outputs, the one error translation point, login."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import FOOTAGE_DIR, PORTRAIT, ROOT, needs_shared, tree_snapshot, write_video

from podium.common.errors import FootageError, ScriptError, UserInputError
from podium.common.media import probe
from podium.ui.studio.handlers import Studio, slug
from podium.ui.studio.jobs import INTERRUPTED, JobLog
from podium.ui.studio.progress import Cancelled, CancelToken, ProgressRelay
from podium.ui.studio.timeline import load_timeline, timeline_figure

SCRIPT = "Hello there. This is the second sentence."


@pytest.fixture()
def studio(tmp_path, photo_avatar) -> Studio:
    """A studio whose library holds the sample-portrait avatar 'portrait'."""
    home = tmp_path / "home"
    shutil.copytree(photo_avatar.path, home / "avatars" / photo_avatar.name)
    return Studio(home)


@pytest.fixture(scope="module")
def text_as_video(tmp_path_factory) -> Path:
    fake = tmp_path_factory.mktemp("uploads") / "notes.mp4"
    fake.write_text("these are my notes, not a video\n")
    return fake


# --- avatars: consent, validation, quality report ----------------------------------------


@pytest.mark.parametrize("consent_name, ticked, says", [
    ("", True, "full name of the person shown"),
    ("Eileen Collins", False, "tick the box confirming that Eileen Collins consented"),
])
def test_creation_is_refused_without_name_and_ticked_consent(studio, consent_name, ticked, says):
    before = tree_snapshot(studio.home)
    with pytest.raises(UserInputError) as err:
        studio.create_avatar(str(PORTRAIT), "eileen", consent_name, ticked)
    assert says in str(err.value)
    assert tree_snapshot(studio.home) == before
    assert studio.jobs.list() == []


def test_text_file_uploaded_as_footage_is_refused_clearly(studio, text_as_video):
    with pytest.raises(FootageError, match="'notes.mp4' is not a video or image ffmpeg can read"):
        studio.quality(str(text_as_video))
    before = tree_snapshot(studio.home)
    with pytest.raises(FootageError, match="not a video"):
        studio.create_avatar(str(text_as_video), "notes", "Some Body", True)
    assert tree_snapshot(studio.home) == before


def test_upload_checks_name_what_is_wrong(tmp_path, rendered_footage):
    from podium.ui.studio import uploads

    with pytest.raises(UserInputError, match="upload a CSV file first"):
        uploads.check_csv(None)
    bad = tmp_path / "rows.csv"
    bad.write_bytes(b"name\n\xff\xfe\x00bad\n")
    with pytest.raises(UserInputError, match="not UTF-8"):
        uploads.check_csv(bad)
    silent = write_video(tmp_path / "silent.mp4", [np.zeros((240, 320, 3), np.uint8)] * 30)
    with pytest.raises(UserInputError, match="has no sound"):
        uploads.check_audio(silent)
    path, info = uploads.check_audio(rendered_footage)  # a video with a voice is fine
    assert info.has_audio and path == rendered_footage
    with pytest.raises(FootageError, match="is a photo"):
        uploads.check_video(PORTRAIT)


@needs_shared
def test_quality_report_of_real_footage(tmp_path):
    studio = Studio(tmp_path)
    stages = []
    report = studio.quality(str(FOOTAGE_DIR / "presenter_a.mp4"),
                            progress=lambda s, d, t: stages.append((s, d, t)))
    assert report.ok, report.problems
    assert report.kind == "footage" and report.face_ratio > 0.95
    assert 5.5 < report.duration < 7 and (report.width, report.height) == (700, 700)
    assert report.inter_ocular_px > 60 and report.has_audio
    assert any("10–60 s" in w for w in report.warnings)  # a 6 s clip works but is short
    md = report.markdown()
    assert "Face found" in md and "700×700" in md and "Ready" in md
    assert stages and stages[-1][1] == stages[-1][2]


def test_quality_report_blocks_footage_without_a_face(tmp_path):
    h, w = 360, 480
    yy, xx = np.mgrid[0:h, 0:w]
    frames = [np.dstack([(xx + 3 * i) % 256, yy % 256, np.full_like(xx, 128)]).astype(np.uint8)
              for i in range(100)]
    report = Studio(tmp_path).quality(str(write_video(tmp_path / "noface.mp4", frames)))
    assert not report.ok
    assert "no face in 100% of the frames (at 0.0–4.0 s)" in report.problems[0]
    assert "cannot make an avatar" in report.markdown()


def test_quality_report_of_a_photo(tmp_path):
    report = Studio(tmp_path).quality(str(PORTRAIT))
    assert report.ok and report.kind == "photo" and report.face_ratio == 1.0
    assert any("synthetic" in w for w in report.warnings)


def test_create_from_photo_with_progress_and_preview(tmp_path):
    studio = Studio(tmp_path / "home")
    seen = []
    outcome = studio.create_avatar(str(PORTRAIT), "eileen", "Eileen Collins", True,
                                   sink=lambda frac, text: seen.append((frac, text)))
    assert outcome.record.manifest.consent.name == "Eileen Collins"
    assert "Created avatar **eileen**" in outcome.message
    assert seen and all(f is None or 0 <= f <= 1 for f, _ in seen)
    job = studio.jobs.list()[0]
    assert (job.kind, job.status) == ("avatar", "done")
    assert not (studio.jobs.folder_of(job.id) / "inputs").exists()  # the upload copy is dropped
    clip = studio.preview_clip("eileen")
    assert 1.5 < probe(clip).duration < 3.5
    stamp = clip.stat().st_mtime_ns
    assert studio.preview_clip("eileen").stat().st_mtime_ns == stamp  # cached, not re-rendered
    assert studio.gallery() == [(str(clip), "eileen · photo")]
    assert "Deleted" in studio.delete_avatar("eileen")
    assert studio.avatar_names() == [] and not clip.exists()


# --- render, timeline, job log -----------------------------------------------------------


def test_render_writes_video_captions_and_timeline_and_stays_listed(studio):
    texts = []
    outcome = studio.render("portrait", SCRIPT, "en-us", 175, "the avatar's own", "auto",
                            sink=lambda frac, text: texts.append(text))
    info = probe(outcome.video)
    assert info.video_codec == "h264" and info.has_audio and info.duration > 2
    assert outcome.video.name == "portrait-hello-there-this-is-the-second-sentence.mp4"
    assert {p.suffix for p in outcome.files} == {".mp4", ".srt", ".vtt"}
    assert "second sentence" in outcome.vtt.read_text("utf-8")
    assert any(t.startswith("rendering video") and "left" in t for t in texts) or \
        any(t.startswith("rendering video: done") for t in texts)
    utt, track = load_timeline(outcome.timeline)
    assert [w.text for w in utt.words][:2] == ["Hello", "there"]
    assert len(track.openness) == pytest.approx(info.duration * track.fps, abs=2)
    assert track.openness.max() > 0.3 and track.openness[0] < 0.05  # speaks, starts closed
    fig = timeline_figure(utt, track)
    assert len(fig.axes) == 3
    # A second studio on the same home (an app restart) still lists the finished video.
    again = Studio(studio.home)
    [job] = again.jobs.list()
    assert job.status == "done" and again.job_video(job.id).video == outcome.video


def test_layout_background_and_music(studio, tmp_path):
    from podium import speech

    music = tmp_path / "music.wav"
    speech.synthesize("La la la la la la la la la la.", voice="en-us").write_wav(music)
    outcome = studio.render("portrait", "Short and wide.", "en-us", look={
        "layout": "16:9", "background": "white", "music": str(music), "music_volume": -25})
    info = probe(outcome.video)
    assert (info.width, info.height) == (1280, 720) and info.has_audio
    job = studio.jobs.list()[0]
    assert job.params["look"] == {"layout": "16:9", "background": "white", "music_volume": -25.0}
    assert (studio.jobs.folder_of(job.id) / job.params["inputs"]["music"]).is_file()  # kept for Retry
    with pytest.raises(UserInputError, match="colour or a background image, not both"):
        studio.render("portrait", "Hi.", look={"background": "white", "background_image": str(PORTRAIT)})
    with pytest.raises(UserInputError, match="not one of 16:9"):
        studio.render("portrait", "Hi.", look={"layout": "4:3"})
    with pytest.raises(FootageError, match="'music.wav' is not an image"):
        studio.render("portrait", "Hi.", look={"slide": str(music)})


def test_the_avatars_own_voice_is_the_default(studio):
    studio.library.avatar("portrait").set_speech_defaults(voice="de", rate_wpm=150)
    own = studio.preview_audio("Guten Tag.", "", None, "portrait")
    assert own == studio.preview_audio("Guten Tag.", "de", 150, "portrait")  # same settings, same cached file
    assert own != studio.preview_audio("Guten Tag.", "en-us", None, "portrait")
    with pytest.raises(UserInputError, match="pick an avatar first"):
        studio.preview_audio("Guten Tag.", "de", 150)


@pytest.mark.parametrize("script, error, says", [
    ("", UserInputError, "the script is empty"),
    ("Hi {{name}}.", UserInputError, "use the Batch tab"),
    ("Wait [pause 20s] now.", ScriptError, "pause"),
])
def test_bad_scripts_fail_before_any_job(studio, script, error, says):
    with pytest.raises(error, match=says):
        studio.render("portrait", script, "en-us")
    assert studio.jobs.list() == []


def test_no_avatar_picked_says_so(studio):
    with pytest.raises(UserInputError, match="pick an avatar first"):
        studio.render("", SCRIPT, "en-us")


def test_cancel_stops_a_render_and_leaves_no_video(studio):
    def sink(frac, text):
        if text.startswith("rendering video"):
            studio.cancel("tab-1")

    with pytest.raises(Cancelled):
        studio.render("portrait", SCRIPT * 3, "en-us", sink=sink, session="tab-1")
    [job] = studio.jobs.list()
    assert job.status == "cancelled" and job.retryable
    assert not list(studio.jobs.folder_of(job.id).glob("*.mp4"))
    assert not list(studio.jobs.folder_of(job.id).glob(".podium-*"))  # no temp files either
    assert studio.cancel("tab-1") == "Nothing is running."


_KILL_DURING_RENDER = """
import os, signal, sys
from podium.ui.studio.handlers import Studio
studio = Studio(sys.argv[1])
def sink(frac, text):
    if text.startswith("rendering video"):
        os.kill(os.getpid(), signal.SIGKILL)
studio.render("portrait", "This render is cut off by a crash.", "en-us", sink=sink)
"""


def test_job_cut_off_by_a_crash_shows_failed_and_retries(studio):
    proc = subprocess.run([sys.executable, "-c", _KILL_DURING_RENDER, str(studio.home)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    restarted = Studio(studio.home)
    [job] = restarted.jobs.list()
    assert job.status == "failed" and job.error == INTERRUPTED and job.retryable
    # The encoder's hidden temp file of the killed render is cleaned up on restart.
    assert not list(restarted.jobs.folder_of(job.id).rglob("*.mp4"))
    outcome = restarted.retry(job.id)
    assert outcome.video.is_file() and probe(outcome.video).duration > 1.5
    assert restarted.jobs.get(job.id).status == "done"
    with pytest.raises(UserInputError, match="only failed or cancelled jobs"):
        restarted.retry(job.id)


def test_job_log_survives_a_corrupt_file(tmp_path):
    log = JobLog(tmp_path)
    job = log.start("render", "one", {"script": "hi"})
    log.finish(job.id, {"video": tmp_path / "a.mp4"})
    assert json.loads((tmp_path / "jobs.json").read_text())["jobs"][0]["status"] == "done"
    (tmp_path / "jobs.json").write_text('{"jobs": [{"id": ')  # cut off mid-write by hand
    fresh = JobLog(tmp_path)
    assert fresh.list() == [] and list(tmp_path.glob("jobs.broken-*.json"))
    fresh.start("dub", "two", {})
    assert len(JobLog(tmp_path).list()) == 1


def test_job_log_keeps_finished_jobs_and_drops_old_failures(tmp_path, monkeypatch):
    from podium.ui.studio import jobs

    monkeypatch.setattr(jobs, "MAX_UNFINISHED", 2)
    log = JobLog(tmp_path)
    done = log.finish(log.start("render", "kept", {}).id, {"video": "v.mp4"})
    failed = []
    for k in range(3):
        failed.append(log.fail(log.start("render", f"failed {k}", {}).id, "no").id)
        time.sleep(0.01)
    log.start("dub", "newest", {})
    ids = {j.id for j in JobLog(tmp_path).list()}
    assert done.id in ids and failed[0] not in ids and set(failed[1:]) <= ids
    assert not log.folder_of(failed[0]).exists() and log.folder_of(done.id).exists()


def test_progress_relay_eta_throttle_and_cancel():
    now = [0.0]
    seen = []
    token = CancelToken()
    relay = ProgressRelay(lambda f, t: seen.append((f, t)), token, min_interval=0.5, clock=lambda: now[0])
    relay("rendering video", 0, 100)
    for i in range(1, 51):
        now[0] += 0.1
        relay("rendering video", i, 100)
    assert 5 <= len(seen) <= 12  # throttled to about two calls a second
    frac, text = seen[-1]
    assert frac == pytest.approx(0.5, abs=0.06)
    assert "about 5 s left" in text
    relay("rendering video", 100, 100)
    assert seen[-1] == (1.0, "rendering video: done in 5 s")
    token.cancel()
    with pytest.raises(Cancelled):
        relay("rendering video", 1, 1)


def test_slug_names_files_after_the_script():
    assert slug("Welcome to the course! [pause 1s] Let's go.") == "welcome-to-the-course-let-s-go"
    assert slug("{{name}} ") == "video"
    assert slug("Hello, I am your presenter. This is the second sentence.") == \
        "hello-i-am-your-presenter-this-is-the"  # cut at a word, at most 40 characters


# --- dub and batch -----------------------------------------------------------------------


def test_dub_with_a_script(studio, rendered_footage):
    outcome = studio.dub("portrait", str(rendered_footage), script="A brand new line.", voice="en-us")
    src, out = probe(rendered_footage), probe(outcome.video)
    assert (out.width, out.height) == (src.width, src.height) and out.duration >= src.duration - 0.1
    assert outcome.duration == pytest.approx(out.duration, abs=0.15)  # the video's, not the speech's
    assert outcome.video.name == "portrait_talking-dubbed.mp4"
    assert studio.jobs.list()[0].kind == "dub"
    with pytest.raises(UserInputError, match="give the new speech"):
        studio.dub("portrait", str(rendered_footage))


def test_dub_with_a_recording_and_its_transcript(studio, rendered_footage):
    said = ("Hello there. This clip was rendered by the test suite itself, so the footage path works "
            "anywhere. Open wide, then rest.")
    outcome = studio.dub("portrait", str(rendered_footage), audio=str(rendered_footage), transcript=said,
                         language="en")
    utt, _ = load_timeline(outcome.timeline)
    assert [w.text for w in utt.words][:3] == ["Hello", "there", "This"]
    assert probe(outcome.video).has_audio
    job = studio.jobs.list()[0]
    assert set(job.params["inputs"]) == {"video", "audio"} and job.params["transcript"] == said


def test_batch_preview_skips_unfillable_rows_and_renders_ticked_ones(studio, tmp_path):
    rows = tmp_path / "people.csv"
    rows.write_text("file,first_name,company\nana,Ana,Acme\nbo,Bo,\ncy,Cy,Initech\n", "utf-8")
    template = "Hi {{first_name}}. Welcome to {{company}}."
    preview = studio.batch_preview(str(rows), template)
    assert [r[2] for r in preview.table()][0] == "Hi Ana. Welcome to Acme."
    assert preview.table()[1][2].startswith("⚠") and "company" in preview.table()[1][2]
    assert preview.ready() == [1, 3]
    finished = []
    outcome = studio.render_batch("portrait", template, str(rows), [3], on_row=finished.append)
    assert [(r.index, r.status) for r in finished] == [(3, "rendered")]
    with zipfile.ZipFile(outcome.zip) as zf:
        names = sorted(zf.namelist())
    assert names == ["cy.mp4", "cy.srt", "cy.vtt", "summary.csv"]
    assert "1 video(s) ready" in outcome.message
    with pytest.raises(UserInputError, match="no rows are selected"):
        studio.render_batch("portrait", template, str(rows), [])


# --- the gradio side: one error translation point, server safety -------------------------


def test_library_errors_become_gr_error_in_one_place():
    gr = pytest.importorskip("gradio")
    import inspect

    from podium.ui.studio.gradio_errors import shown_as_gr_error

    @shown_as_gr_error
    def handler(x, request: gr.Request = None, progress=gr.Progress()):  # noqa: B008 - gradio injects it
        raise FootageError(f"no face in '{x}'")

    with pytest.raises(gr.Error) as err:
        handler("clip.mp4")
    assert err.value.message == "no face in 'clip.mp4'"
    assert list(inspect.signature(handler).parameters) == ["x", "request", "progress"]

    @shown_as_gr_error
    def stream():
        yield 1
        raise Cancelled("cancelled")

    gen = stream()
    assert next(gen) == 1
    with pytest.raises(gr.Error, match="Cancelled"):
        next(gen)

    @shown_as_gr_error
    def broken():
        raise KeyError("x")

    with pytest.raises(gr.Error, match="internal error: KeyError"):
        broken()


def test_ui_sources_send_errors_through_the_decorator():
    """Every event handler is attached with ``listen`` (which wraps it), never raw."""
    import re

    for path in (ROOT / "ui" / "studio").glob("tab_*.py"):
        text = path.read_text("utf-8")
        raw = re.findall(r"\.(?:click|upload|change|select)\((?!lambda)(\w+)", text)
        assert not raw, f"{path.name} attaches {raw} without listen()"


def test_auth_parsing_and_loopback():
    from podium.ui.studio.server import is_loopback, parse_auth

    assert parse_auth("ann:s3cr:et") == ("ann", "s3cr:et")
    assert parse_auth("") is None and parse_auth(None) is None
    with pytest.raises(UserInputError, match="user:password"):
        parse_auth("justaname")
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_binds_loopback_requires_login_and_limits_uploads(tmp_path, monkeypatch):
    pytest.importorskip("gradio")
    import httpx

    from podium.ui.studio.server import launch

    monkeypatch.setenv("PODIUM_AUTH", "ann:secret")
    port = _free_port()
    demo, url = launch(home=tmp_path, port=port, block=False, quiet=True, max_upload="10kb")
    base = url.rstrip("/")
    try:
        assert url.startswith(f"http://127.0.0.1:{port}")
        with httpx.Client(timeout=20) as client:
            assert client.get(f"{base}/config").status_code == 401
            assert client.post(f"{base}/login", data={"username": "ann", "password": "wrong"}).status_code == 400
            assert client.post(f"{base}/login", data={"username": "ann", "password": "secret"}).status_code == 200
            assert client.get(f"{base}/config").status_code == 200
            small = client.post(f"{base}/gradio_api/upload", files={"files": ("a.mp4", b"x" * 1000)})
            big = client.post(f"{base}/gradio_api/upload", files={"files": ("b.mp4", b"x" * 50_000)})
        assert small.status_code == 200 and big.status_code == 413, (small.text, big.text)
        # Not reachable on other addresses of this machine.
        with socket.socket() as s:
            s.settimeout(2)
            other = socket.gethostbyname(socket.gethostname())
            if not other.startswith("127."):
                assert s.connect_ex((other, port)) != 0
        assert demo.max_file_size is not None and demo.share is False
    finally:
        demo.close()


def test_scenes_one_slide_per_part_of_the_script(studio, tmp_path):
    import cv2

    slides = []
    for k, bar in enumerate([(31, 78, 121), (40, 140, 40)], start=1):
        img = np.full((720, 1280, 3), 248, np.uint8)
        img[:120] = bar
        path = tmp_path / f"slide{k}.png"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        slides.append(str(path))
    script = "First, the safety rules.\n---\nThen, the storage rules."
    outcome = studio.render("portrait", script, "en-us", look={"slides": slides})
    from podium.common.media import read_frames

    frames = list(read_frames(outcome.video))
    assert (frames[0].shape[1], frames[0].shape[0]) == (1280, 720)  # slides get a wide frame
    bars = [f[20:100, 900:1200].reshape(-1, 3).mean(0) for f in (frames[3], frames[-3])]
    assert np.abs(bars[0] - (31, 78, 121)).max() < 12 and np.abs(bars[1] - (40, 140, 40)).max() < 12
    utt, _ = load_timeline(outcome.timeline)
    assert [w.text for w in utt.words] == "First the safety rules Then the storage rules".split()
    srt = outcome.video.with_suffix(".srt").read_text("utf-8")
    assert "First, the safety rules." in srt and "Then, the storage rules." in srt
    with pytest.raises(UserInputError, match="2 slide"):
        studio.render("portrait", "Only one part.", "en-us", look={"slides": slides})
