"""Personalized batches: variables, one video per row, failures isolated, re-runs idempotent."""

from __future__ import annotations

import csv

import pytest
from conftest import run_cli

from podium.common.errors import ScriptError, UserInputError
from podium.common.media import probe
from podium.lipsync.batch import read_rows
from podium.speech import parse_script
from podium.speech.variables import fill_variables, variable_names

TEMPLATE = "Hello {{first_name}}. Welcome to {{company}}."


def test_fill_variables_replaces_every_placeholder():
    filled = fill_variables("Hi {{ first_name }}, {{first_name}} from {{company}}!",
                            {"first_name": "Ana", "company": "Acme   Ltd", "unused": "x"})
    assert filled == "Hi Ana, Ana from Acme Ltd!"
    assert variable_names(TEMPLATE) == ["first_name", "company"]


@pytest.mark.parametrize("values, needle", [
    ({"first_name": "Ana"}, "{{company}} at line 1, column 34 is not given"),
    ({"first_name": "Ana", "company": "  "}, "{{company}} at line 1, column 34 has no value"),
])
def test_missing_variable_is_an_error_with_position(values, needle):
    with pytest.raises(ScriptError) as err:
        fill_variables(TEMPLATE, values)
    assert needle in str(err.value)


@pytest.mark.parametrize("script, needle", [
    ("Hi {{first_name}}.", "variable {{first_name}} at line 1, column 4 is not filled"),
    ("Hi\n{{ }} there", "bad variable '{{ }}' at line 2, column 1"),
    ("Hi {{name there", "unmatched '{{' at line 1, column 4"),
    ("Hi name}} there", "unmatched '}}' at line 1, column 8"),
])
def test_unfilled_placeholders_are_never_spoken(script, needle):
    with pytest.raises(ScriptError) as err:
        parse_script(script)
    assert needle in str(err.value)


def test_read_rows_names_files_from_a_column_or_the_row_number(tmp_path):
    named = tmp_path / "named.csv"
    named.write_text("\ufefffirst_name;file\nAna;ana smith/1\nBo;\n", "utf-8")
    rows = read_rows(named)
    assert [r.name for r in rows] == ["ana_smith_1", "row-002"]
    assert rows[0].values == {"first_name": "Ana", "file": "ana smith/1"}
    plain = tmp_path / "plain.csv"
    plain.write_text("first_name\nAna\n", "utf-8")
    assert read_rows(plain)[0].name == "row-001"
    for text in ("", "first_name\n"):
        plain.write_text(text, "utf-8")
        with pytest.raises(UserInputError):
            read_rows(plain)


def test_batch_renders_good_rows_reports_bad_one_and_reruns_nothing(photo_avatar, session_home, tmp_path):
    rows = tmp_path / "people.csv"
    with open(rows, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["first_name", "company", "file"])
        w.writerows([["Ana", "Acme", "ana"], ["Bo", "Globex", "bo"], ["Cy", "", "cy"],
                     ["Di", "Initech", "di"], ["Ed", "Umbrella", "ed"]])
    script = tmp_path / "template.txt"
    script.write_text(TEMPLATE, "utf-8")
    out = tmp_path / "videos"
    args = ("batch", "--avatar", photo_avatar.name, "--script", str(script), "--rows", str(rows),
            "--out", str(out), "--size", "256x256")
    first = run_cli(*args, home=session_home, timeout=600)
    assert first.returncode == 2, first.stderr  # a failed row makes the batch exit non-zero
    assert "4 rendered, 0 already there, 1 failed" in first.stdout
    assert sorted(p.name for p in out.glob("*.mp4")) == ["ana.mp4", "bo.mp4", "di.mp4", "ed.mp4"]
    with open(out / "summary.csv", encoding="utf-8") as f:
        summary = list(csv.DictReader(f))
    assert [r["status"] for r in summary] == ["rendered", "rendered", "failed", "rendered", "rendered"]
    assert "{{company}}" in summary[2]["error"] and summary[2]["file"] == ""
    for r in summary:
        if r["status"] == "rendered":
            info = probe(out / r["file"])
            assert (info.width, info.height) == (256, 256) and info.has_audio
            assert abs(info.duration - float(r["duration"])) < 0.15
    # Different names give different lengths: the variables really were spoken.
    assert len({r["duration"] for r in summary if r["duration"]}) > 1
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}

    second = run_cli(*args, home=session_home, timeout=600)
    assert "0 rendered, 4 already there, 1 failed" in second.stdout, second.stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")} == stamps


# --- hardening: values are plain text, CSV is CSV, names are safe, batches tell the truth ---------

@pytest.mark.parametrize("value", [
    "{Alice|you are fired}", "[pause 10s]" * 30, "[rate 50%]slow[/rate]", "{{company}}", "[[h@loU]]",
    "<speak>hi</speak>", "a { b", "back\\slash \\{x\\}", "Dr. Who | [pause 1s",
])
def test_a_csv_value_is_plain_text_never_markup(value):
    from podium.speech import TextSegment
    from podium.speech.markup import pieces, written

    for template in ("Hi {{v}}.", "{{v}} is here.", "<speak>Hi <s>{{v}}</s></speak>"):
        segments = parse_script(fill_variables(template, {"v": value, "company": "Acme"}))
        texts = [s for s in segments if isinstance(s, TextSegment)]
        assert all(s.rate is None for s in texts)
        # No value adds a pause of its own (only natural sentence pauses, at most 0.35 s).
        assert all(s.seconds <= 0.35 for s in segments if not isinstance(s, TextSegment))
        shown = " ".join(written(s.text) for s in texts)
        spoken = " ".join("".join(p.spoken for p in pieces(s.text)) for s in texts)
        assert value in shown, shown
        # The voice is given what the captions show, never an engine's [[phoneme]] block.
        assert "[[" not in spoken and spoken.replace("[ [", "[[").replace("] ]", "]]") == shown


def test_a_csv_value_is_spoken_as_written_in_the_audio():
    from podium.speech import FAST_VOICE, synthesize

    tts = synthesize(fill_variables("Hi {{v}}.", {"v": "{Alice|you are fired}"}), voice=FAST_VOICE)
    assert tts.sentences[0].text == "Hi {Alice|you are fired}."
    assert "Alice" in " ".join(w.text for w in tts.words)
    long = synthesize(fill_variables("Hi {{v}}.", {"v": "[pause 10s]" * 3}), voice=FAST_VOICE)
    assert len(long.audio) / long.sample_rate < 10  # spoken words, not 30 s of silence


def test_script_escapes_make_markup_characters_plain():
    from podium.speech.markup import escape, written

    assert escape("{a|b} [pause 1s] \\") == "\\{a\\|b\\} \\[pause 1s\\] \\\\"
    (seg,) = parse_script("Say \\[pause 1s\\] and \\{a\\|b\\}.")
    assert written(seg.text) == "Say [pause 1s] and {a|b}."
    # An escaped brace is no variable either, in the template or in the script.
    assert variable_names("\\{\\{x\\}\\} {{y}}") == ["y"]
    assert fill_variables("\\{\\{x\\}\\} {{y}}", {"y": "Y"}) == "\\{\\{x\\}\\} Y"


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def test_csv_quoted_newlines_and_unicode_line_breaks_stay_in_their_cell(tmp_path):
    path = _write_csv(tmp_path / "p.csv", [["first_name", "note"], ["Bob\u2028Smith", "a\nb"],
                                           ["Ann\u0085Lee", "c\r\nd"], ["", ""], ["Cy", "e\u2029f"]])
    rows = read_rows(path)
    assert [r.values["first_name"] for r in rows] == ["Bob\u2028Smith", "Ann\u0085Lee", "Cy"]
    assert [r.values["note"] for r in rows] == ["a\nb", "c\r\nd", "e\u2029f"]
    assert [r.index for r in rows] == [1, 2, 3]
    assert fill_variables("Hi {{first_name}}.", rows[0].values) == "Hi Bob Smith."


def test_csv_size_is_bounded(tmp_path):
    from podium.limits import MAX_BATCH_CELL_CHARS, MAX_BATCH_FILE_BYTES, MAX_BATCH_ROWS

    assert (MAX_BATCH_FILE_BYTES, MAX_BATCH_ROWS, MAX_BATCH_CELL_CHARS) == (10_000_000, 10_000, 2_000)
    path = tmp_path / "p.csv"
    path.write_text("first_name\n" + "a\n" * MAX_BATCH_ROWS, "utf-8")
    assert len(read_rows(path)) == MAX_BATCH_ROWS
    path.write_text("first_name\n" + "a\n" * (MAX_BATCH_ROWS + 1), "utf-8")
    with pytest.raises(UserInputError, match="more than 10000 rows"):
        read_rows(path)
    path.write_text("first_name,note\nAna," + "x" * (MAX_BATCH_CELL_CHARS + 1) + "\n", "utf-8")
    with pytest.raises(UserInputError, match="row 1, column 'note'.* longer than 2000"):
        read_rows(path)
    with open(path, "wb") as f:
        f.write(b"first_name\n")
        f.truncate(MAX_BATCH_FILE_BYTES + 1)
    with pytest.raises(UserInputError, match="larger than 10 MB"):
        read_rows(path)


def test_csv_rows_are_streamed_and_refused_past_the_bound(tmp_path):
    import tracemalloc

    path = tmp_path / "many.csv"
    path.write_text("first_name\n" + "a\n" * 200_000, "utf-8")  # 400 kB, 200 000 rows
    tracemalloc.start()
    try:
        with pytest.raises(UserInputError, match="more than 10000 rows"):
            read_rows(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30_000_000, peak  # the rows up to the bound, never the whole file


def test_file_names_keep_every_language_and_never_collide(tmp_path):
    path = _write_csv(tmp_path / "p.csv", [
        ["first_name", "file"], ["a", "Zoë"], ["b", "Zoé"], ["c", "-rf"], ["d", ".hidden"],
        ["e", "../../etc/passwd"], ["f", ""], ["g", "row-006"], ["h", "x" * 300], ["i", "日本語 名前"],
        ["j", "हिन्दी"], ["k", "a\tb\x00c\u2028d"], ["l", "Zoe\u0301"], ["m", "CON"], ["n", "ROW-006-2"],
        ["o", "..."]])
    names = [r.name for r in read_rows(path)]
    assert names[:5] == ["Zoë", "Zoé", "rf", "hidden", "etc_passwd"]
    assert names[6] == "row-006" and names[5] not in ("row-006", "ROW-006-2") and names[5].startswith("row-006")
    assert 0 < len(names[7]) <= 80
    assert names[8:10] == ["日本語_名前", "हिन्दी"]
    assert names[10] == "a_b_c_d"
    assert names[11] == "Zoé"  # NFC: the same name as row 2 (the batch reports the clash)
    assert names[12] != "CON" and names[12].startswith("CON")
    assert names[14] == "row-015"
    for name in names:
        assert name[0] not in "-." and "/" not in name and "\\" not in name
        assert all(c.isprintable() for c in name) and len(name.encode()) <= 160
    upper = _write_csv(tmp_path / "u.csv", [["first_name", "file"], ["a", ""], ["b", "ROW-001"]])
    assert [r.name.casefold() for r in read_rows(upper)][0] != "row-001"


def test_summary_cells_cannot_be_spreadsheet_formulas(tmp_path):
    from pathlib import Path

    from podium.lipsync.batch import RowResult, write_summary

    out = tmp_path / "summary.csv"
    write_summary([RowResult(1, "=cmd", Path("=cmd.mp4"), 1.0, "rendered"),
                   RowResult(2, "x", None, None, "failed", "+SUM(A1)"),
                   RowResult(3, "y", None, None, "failed", "@x"),
                   RowResult(4, "z", None, None, "failed", "\tx"),
                   RowResult(5, "w", Path("ok.mp4"), 2.0, "rendered", "-1")], out)
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["file"] == "'=cmd.mp4"
    assert [r["error"] for r in rows[1:]] == ["'+SUM(A1)", "'@x", "'\tx", "'-1"]
    assert rows[4]["file"] == "ok.mp4" and rows[4]["duration"] == "2.00"


def _make_clip(path, seconds=2, audio=True):
    import subprocess

    from podium.common.media import ffmpeg_exe

    args = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=64x64:rate=25:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}", "-c:a", "aac"]
    subprocess.run(args + ["-c:v", "libx264", "-movflags", "+faststart", str(path)], check=True)
    return path


def test_a_damaged_video_is_not_already_there(tmp_path):
    from podium.lipsync.batch import existing_video

    good = _make_clip(tmp_path / "good.mp4")
    assert existing_video(good) == pytest.approx(2.0, abs=0.1)
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "junk.mp4").write_bytes(b"not a video" * 100)
    data = good.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[:len(data) // 2])
    _make_clip(tmp_path / "silent.mp4", audio=False)
    for name in ("empty", "junk", "cut", "silent", "missing"):
        assert existing_video(tmp_path / f"{name}.mp4") is None, name


def test_batch_rerenders_a_damaged_video(photo_avatar, tmp_path):
    from podium.lipsync import RenderOptions
    from podium.lipsync.batch import BatchRow, render_batch
    from podium.speech import FAST_VOICE

    out = tmp_path / "out"
    out.mkdir()
    (out / "ana.mp4").write_bytes(b"")
    summary = render_batch(photo_avatar, "Hi {{first_name}}.", [BatchRow(1, "ana", {"first_name": "Ana"})],
                           out, options=RenderOptions(voice=FAST_VOICE, size=(128, 128)))
    assert [r.status for r in summary.results] == ["rendered"]
    info = probe(out / "ana.mp4")
    assert info.has_audio and info.duration > 0


def test_sigterm_stops_a_batch_like_ctrl_c(photo_avatar, session_home, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    rows = _write_csv(tmp_path / "p.csv", [["first_name", "file"]] + [[n, n.lower()] for n in
                                                                       ("Ana", "Bo", "Cy", "Di", "Ed")])
    script = tmp_path / "t.txt"
    script.write_text("Hello {{first_name}}. This is a longer message, so that every row takes a while "
                      "to render, and the batch is still busy when it is told to stop.", "utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PODIUM_HOME": str(session_home)}
    env.pop("PODIUM_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "podium.ui.cli", "batch", "--avatar", photo_avatar.name,
                             "--script", str(script), "--rows", str(rows), "--out", str(out),
                             "--voice", "en-us", "--size", "128x128"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (out / "ana.mp4").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "podium: interrupted; " in stderr and " of 5 videos written, summary in " in stderr, stderr
    with open(out / "summary.csv", encoding="utf-8") as f:
        summary = list(csv.DictReader(f))
    assert summary[0]["status"] == "rendered" and len(summary) == 5
    assert {r["status"] for r in summary[1:]} <= {"rendered", "interrupted"}
    assert not list(out.glob(".podium-*")) and not list(out.glob(".*.tmp")), list(out.iterdir())
