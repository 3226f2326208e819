"""Layouts: aspect ratios, a replaced background, picture-in-picture over slides, scenes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import run_cli, tree_snapshot
from measure import lip_gaps

from podium.avatars.tracking import FaceTracker
from podium.common.media import probe, read_frames

TEXT = "Open wide. Bob ate a big apple by the lake."
BLUE = (31, 78, 121)


@pytest.fixture(scope="module")
def slides(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slides")
    out = []
    for i, bar in enumerate([(31, 78, 121), (40, 140, 40)]):
        img = np.full((720, 1280, 3), 248, np.uint8)
        img[:120] = bar
        cv2.putText(img, f"Module {i + 1}", (40, 85), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (255, 255, 255), 4)
        for k in range(3):
            cv2.putText(img, f"- point {k + 1}", (60, 230 + 90 * k), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (30, 30, 30), 3)
        path = folder / f"slide{i + 1}.png"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        out.append(path)
    return out


def _say(photo_avatar, session_home, out, *args):
    proc = run_cli("say", "--avatar", photo_avatar.name, "--out", str(out), *args, home=session_home)
    assert proc.returncode == 0, proc.stderr
    return list(read_frames(out))


@pytest.mark.parametrize("aspect, size", [("16:9", (1280, 720)), ("9:16", (720, 1280)), ("1:1", (720, 720))])
def test_aspect_ratios_keep_a_talking_face(aspect, size, photo_avatar, session_home, tmp_path):
    out = tmp_path / "v.mp4"
    _say(photo_avatar, session_home, out, "--text", TEXT, "--layout", aspect)
    info = probe(out)
    assert (info.width, info.height) == size
    gaps, found = lip_gaps(out)
    assert found.all()
    assert np.nanmax(gaps) - np.nanmin(gaps) > 0.03  # the mouth still moves after placement


def test_background_colour_cuts_the_person_out_cleanly(photo_avatar, session_home, tmp_path):
    out = tmp_path / "v.mp4"
    frames = _say(photo_avatar, session_home, out, "--text", TEXT, "--layout", "16:9",
                  "--background", "#1f4e79")
    f = frames[len(frames) // 2].astype(int)
    dist = np.abs(f - np.array(BLUE)).sum(axis=2)
    # The sides are pure background (the sample photo's grey wall and flag are gone) ...
    assert np.quantile(dist[:, :200], 0.99) < 25 and np.quantile(dist[:, -200:], 0.99) < 25
    # ... the person is kept ...
    person = (dist > 60).astype(np.uint8)
    assert 0.15 < person.mean() < 0.6
    with FaceTracker(static=True, max_faces=1) as tracker:
        assert tracker.detect(frames[len(frames) // 2])
    # ... and just outside the outline there is no halo of the old wall.
    ring = (cv2.dilate(person, np.ones((9, 9), np.uint8)) - person).astype(bool)
    ring &= np.arange(f.shape[0])[:, None] < 600  # above the bottom edge of the frame
    assert np.median(dist[ring]) < 45, np.median(dist[ring])


def test_slide_with_presenter_in_a_corner(photo_avatar, session_home, slides, tmp_path):
    out = tmp_path / "v.mp4"
    frames = _say(photo_avatar, session_home, out, "--text", TEXT, "--layout", "16:9",
                  "--slide", str(slides[0]))
    slide = cv2.cvtColor(cv2.imread(str(slides[0])), cv2.COLOR_BGR2RGB).astype(int)
    f = frames[len(frames) // 2]
    assert np.abs(f[:400, :700].astype(int) - slide[:400, :700]).mean() < 3  # the slide, untouched
    corner = np.ascontiguousarray(f[360:, 640:])
    with FaceTracker(static=True, max_faces=1) as tracker:
        faces = tracker.detect(corner)
    assert faces, "no presenter in the bottom-right corner"


def test_scenes_change_slides_in_one_video(photo_avatar, session_home, slides, tmp_path):
    from podium import speech

    yaml_path = slides[0].parent / "scenes.yaml"
    scripts = ["Welcome to module one. Always wear gloves.", "Now module two. Keep it dry."]
    yaml_path.write_text("scenes:\n" + "".join(f"  - slide: {s.name}\n    script: {t}\n"
                                              for s, t in zip(slides, scripts)), "utf-8")
    out = tmp_path / "course.mp4"
    frames = _say(photo_avatar, session_home, out, "--scenes", str(yaml_path), "--layout", "16:9")
    speech_s = sum(speech.synthesize(t).duration for t in scripts)
    assert abs(probe(out).duration - (speech_s + 0.8 + 0.75)) < 0.15  # gap between scenes + lead/tail
    bars = [f[20:100, 900:1200].reshape(-1, 3).mean(0) for f in (frames[5], frames[-5])]
    assert np.abs(bars[0] - (31, 78, 121)).max() < 12 and np.abs(bars[1] - (40, 140, 40)).max() < 12
    srt = out.with_suffix(".srt").read_text("utf-8")
    assert "Welcome to module one." in srt and "Keep it dry." in srt


@pytest.mark.parametrize("args, says", [
    (("--layout", "4:3"), "invalid choice"),
    (("--background", "nowhere.png"), "background image not found"),
    (("--slide", "slide.txt"), "is not an image"),
    (("--scenes", "scenes.yaml"), "not valid yaml at line"),
])
def test_layout_errors(args, says, photo_avatar, session_home, tmp_path):
    (tmp_path / "slide.txt").write_text("not an image")
    (tmp_path / "scenes.yaml").write_text("scenes:\n  - slide: [unclosed\n")
    args = tuple(str(tmp_path / a) if a.endswith((".txt", ".yaml", ".png")) else a for a in args)
    extra = () if "--scenes" in args else ("--text", "Hi.")
    before = tree_snapshot(tmp_path)
    proc = run_cli("say", "--avatar", photo_avatar.name, *extra, *args, "--out", str(tmp_path / "x.mp4"),
                   home=session_home)
    assert proc.returncode == 2 and says in proc.stderr.lower(), proc.stderr
    assert "Traceback" not in proc.stderr and tree_snapshot(tmp_path) == before
