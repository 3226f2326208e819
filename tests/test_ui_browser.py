"""The studio in a real browser: headless Chromium (Debian's package) driven by Playwright.

The app runs as ``podium ui`` in a child process on a free port with its own library.
The tests run in file order and build on each other: avatar from the shared clip ->
render -> batch -> dub -> jobs. Screenshots of every tab go to /tmp/podium-ui-shots/.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import FOOTAGE_DIR, ROOT

pytest.importorskip("gradio", reason="gradio is not installed (pip install -e '.[ui]')")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install -e '.[test]')")
expect = sync_api.expect

CHROMIUM = os.environ.get("PODIUM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CLIP = FOOTAGE_DIR / "presenter_a.mp4"
SHOTS = Path("/tmp/podium-ui-shots")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--no-first-run"]
LONG = 120_000  # ms: a job on a loaded 2-core machine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set PODIUM_CHROMIUM)"),
    pytest.mark.skipif(not CLIP.is_file(), reason=f"shared clip {CLIP} not found (see tests/conftest.py)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Studio:
    """``podium ui`` in a child process, with its own library; can be killed and restarted."""

    def __init__(self, home: Path):
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PODIUM_HOME": str(self.home), "PYTHONPATH": str(ROOT),
               "GRADIO_ANALYTICS_ENABLED": "False"}
        env.pop("PODIUM_AUTH", None)
        with open(self.home / "server.log", "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "podium.ui.cli", "ui", "--port", str(self.port)],
                                         cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    pytest.fail("the studio did not start:\n" + (self.home / "server.log").read_text()[-3000:])
                time.sleep(0.3)

    def kill(self) -> None:
        """What a crash or a power cut does: no clean-up at all."""
        self.proc.kill()
        self.proc.wait(15)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    studio = Studio(tmp_path_factory.mktemp("studio-home"))
    studio.start()
    yield studio
    studio.stop()


@pytest.fixture(scope="module")
def page(server):
    url = server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        outside = []
        pg.on("request", lambda r: outside.append(r.url)
              if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
        pg.goto(url)
        expect(pg.get_by_role("tab", name="Avatars")).to_be_visible(timeout=30_000)
        yield pg
        assert not outside, f"the page fetched from outside this machine: {outside[:5]}"
        browser.close()


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(300)


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _toast(page, text: str):
    return page.locator(".toast-body").filter(has_text=text)


def _upload(page, elem_id: str, path: Path) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))


def _clear_toasts(page) -> None:
    for close in page.locator(".toast-close").all():
        try:
            close.click(timeout=1000)
        except sync_api.Error:
            pass


def test_text_file_uploaded_as_footage_gives_a_clear_error(page, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("my notes for the shoot, not a video\n")
    _upload(page, "avatar-source", fake)
    expect(_toast(page, "'notes.mp4' is not a video or image ffmpeg can read")).to_be_visible(timeout=30_000)
    _shot(page, "avatars-text-file-error")
    _clear_toasts(page)
    page.locator("#avatar-source button[aria-label='Clear']").first.click()


def test_create_avatar_from_footage_with_consent(page):
    _upload(page, "avatar-source", CLIP)
    report = page.locator("#quality-report")
    expect(report).to_contain_text("Face found", timeout=60_000)
    expect(report).to_contain_text("700×700")
    expect(report).to_contain_text("Ready")
    page.locator("#avatar-name").get_by_role("textbox").fill("presenter")
    page.locator("#consent-name").get_by_role("textbox").fill("Alex Presenter")
    page.locator("#create-avatar").click()  # consent box not ticked yet
    expect(_toast(page, "tick the box confirming that Alex Presenter consented")).to_be_visible(timeout=30_000)
    _clear_toasts(page)
    page.locator("#consent-box input[type=checkbox]").check()
    page.locator("#create-avatar").click()
    # The progress bar shows the library's stages while it works.
    expect(page.locator("#avatar-status")).to_contain_text("tracking face", timeout=30_000)
    _shot(page, "avatars-progress")
    expect(page.locator("#avatar-status")).to_contain_text("Created avatar presenter", timeout=LONG)
    expect(page.locator("#avatar-gallery")).to_contain_text("presenter · footage", timeout=LONG)
    expect(page.locator("#avatar-gallery video").first).to_be_attached()
    expect(page.locator("#avatar-details")).to_contain_text("consent: Alex Presenter")
    _shot(page, "avatars")


def test_cancel_stops_training_at_once(page):
    page.locator("#manage-avatar input").click()
    page.get_by_role("option", name="presenter").click()
    page.locator("#train-avatar").click()
    expect(page.locator("#manage-status")).to_contain_text("training lip renderer", timeout=60_000)
    page.locator("#cancel-avatar").click()
    expect(_toast(page, "training stopped; its last checkpoint is kept")).to_be_visible(timeout=30_000)
    _clear_toasts(page)


def test_render_two_sentences_and_play_in_the_page(page):
    _tab(page, "Create")
    expect(page.locator("#create-avatar-pick input")).to_have_value("presenter")
    page.locator("#create-script textarea").fill("Hello, I am your presenter. This is the second sentence.")
    page.locator("#preview-audio").click()
    expect(page.locator("#preview-player audio, #preview-player [data-testid='waveform-controls'], "
                        "#preview-player button[aria-label='Play']").first).to_be_attached(timeout=60_000)
    page.locator("#render-video").click()
    expect(page.locator("#render-status")).to_contain_text(".mp4", timeout=LONG)
    duration = page.wait_for_function(
        """() => { const v = document.querySelector('#render-player video');
                   return v && v.readyState >= 1 && isFinite(v.duration) && v.duration > 0 ? v.duration : 0; }""",
        timeout=60_000).json_value()
    assert 2.5 < duration < 10, duration
    played = page.evaluate(
        """async () => { const v = document.querySelector('#render-player video');
                         v.muted = true; await v.play();
                         await new Promise(r => setTimeout(r, 1500));
                         const t = v.currentTime; v.pause(); return t; }""")
    assert played > 0.5, f"the video did not play (currentTime {played})"
    links = page.locator("#render-files a").evaluate_all("els => els.map(e => e.textContent + ' ' + e.href)")
    text = " ".join(links)
    assert ".mp4" in text and ".srt" in text and ".vtt" in text, links
    expect(page.locator("#render-timeline img, #render-timeline svg").first).to_be_visible(timeout=30_000)
    page.locator("#render-player").scroll_into_view_if_needed()
    _shot(page, "create")


def test_batch_of_three_rows_gives_a_zip_of_three_videos(page, tmp_path):
    _tab(page, "Batch")
    rows = tmp_path / "people.csv"
    rows.write_text("file,first_name,company\nana,Ana,Acme\nbo,Bo,Globex\ncy,Cy,Initech\n", "utf-8")
    page.locator("#batch-template textarea").fill("Hi {{first_name}}. Welcome to {{company}}.")
    _upload(page, "batch-csv", rows)
    table = page.locator("#batch-table")
    expect(table).to_contain_text("Hi Bo. Welcome to Globex.", timeout=30_000)
    expect(page.locator("#batch-rows input[type=checkbox]:checked")).to_have_count(3)
    page.locator("#batch-run").click()
    expect(page.locator("#batch-message")).to_contain_text("3 video(s) ready", timeout=3 * LONG)
    expect(page.locator("#batch-status")).to_contain_text("rendered")
    href = page.locator("#batch-zip a").first.get_attribute("href")
    body = page.request.get(href).body()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        videos = sorted(n for n in zf.namelist() if n.endswith(".mp4"))
        summary = list(csv.DictReader(io.StringIO(zf.read("summary.csv").decode("utf-8"))))
    assert videos == ["ana.mp4", "bo.mp4", "cy.mp4"]
    assert [r["status"] for r in summary] == ["rendered"] * 3
    _shot(page, "batch")


def test_dub_the_footage_with_a_script(page):
    _tab(page, "Dub")
    expect(page.locator("#dub-avatar input")).to_have_value("presenter")
    _upload(page, "dub-video", CLIP)
    expect(page.locator("#dub-status")).to_contain_text("presenter_a.mp4", timeout=30_000)
    page.get_by_label("A script and a voice").check()
    page.locator("#dub-script textarea").fill("This line was never said on camera.")
    page.locator("#dub-run").click()
    expect(page.locator("#dub-status")).to_contain_text("dubbed.mp4", timeout=LONG)
    duration = page.wait_for_function(
        """() => { const v = document.querySelector('#dub-player video');
                   return v && v.readyState >= 1 && v.duration > 0 ? v.duration : 0; }""",
        timeout=60_000).json_value()
    assert duration > 5.5  # at least the input clip's 6.1 s
    _shot(page, "dub")


def test_jobs_tab_lists_everything_and_reopens_a_video(page):
    _tab(page, "Jobs")
    table = page.locator("#jobs-table")
    expect(table).to_contain_text("presenter-hello-i-am-your-presenter", timeout=30_000)
    for kind in ("avatar", "render", "batch", "dub"):
        expect(table).to_contain_text(kind)
    expect(table).to_contain_text("cancelled")  # the training stopped above
    page.locator("#jobs-pick input").click()
    page.get_by_role("option", name="· render ·").first.click()
    page.locator("#jobs-open").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('#jobs-player video'); return v && v.duration > 0; }",
        timeout=60_000)
    _shot(page, "jobs")


def test_a_job_cut_off_by_a_restart_shows_failed_and_retries(page, server):
    _tab(page, "Create")
    page.locator("#create-script textarea").fill(
        "This render is cut off when the studio stops. Nobody saw it finish. "
        "After the restart it is listed as failed, and Retry makes it again.")
    page.locator("#render-video").click()
    expect(page.locator("#render-status")).to_contain_text("rendering video", timeout=LONG)
    server.kill()
    server.start()
    try:
        page.reload()
    except sync_api.Error:
        # Chromium may drop the old document when its server vanished mid-stream; a fresh
        # navigation is what a user's reload does then.
        page.goto(server.url)
    _tab(page, "Jobs")
    table = page.locator("#jobs-table")
    expect(table).to_contain_text("interrupted: the studio stopped", timeout=30_000)
    expect(table).to_contain_text("presenter-hello-i-am-your-presenter")  # finished ones stay listed
    page.locator("#jobs-pick input").click()
    page.get_by_role("option", name="· failed ·").first.click()
    expect(page.locator("#jobs-retry")).to_be_enabled()
    _shot(page, "jobs-interrupted")
    page.locator("#jobs-retry").click()
    expect(page.locator("#jobs-status")).to_contain_text("presenter-this-render-is-cut-off", timeout=LONG)
    page.wait_for_function(
        "() => { const v = document.querySelector('#jobs-player video'); return v && v.duration > 5; }",
        timeout=60_000)
    expect(table).not_to_contain_text("interrupted", timeout=30_000)


def test_delete_an_avatar_after_confirming(page):
    _tab(page, "Avatars")
    expect(page.locator("#manage-avatar input")).to_have_value("presenter")
    page.locator("#delete-avatar").click()
    yes = page.locator("#confirm-delete-yes")
    expect(yes).to_be_visible()
    expect(page.locator("#confirm-delete").first).to_contain_text("Really delete avatar presenter?")
    page.locator("#confirm-delete-no").click()
    expect(yes).to_be_hidden()
    page.locator("#delete-avatar").click()
    _shot(page, "avatars-delete-confirm")
    page.locator("#confirm-delete-yes").click()
    expect(page.locator("#manage-status")).to_contain_text("Deleted avatar presenter", timeout=30_000)
    expect(page.locator("#avatar-gallery")).not_to_contain_text("presenter · footage")
    expect(page.locator("#manage-avatar input")).to_have_value("")
