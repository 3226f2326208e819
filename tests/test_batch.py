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
