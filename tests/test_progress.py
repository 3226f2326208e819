"""The terminal progress bar: a redrawn bar with ETA on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from podium.ui.progress_bar import TerminalProgress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_terminal():
    out = _Tty()
    bar = TerminalProgress(out, min_interval=0.0)
    for i in range(1, 11):
        bar("rendering video", i, 10)
    bar.close()
    text = out.getvalue()
    assert "\r" in text and "rendering video" in text
    assert " 50%" in text and "100%" in text and "ETA" in text
    assert text.endswith("\n")


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    bar = TerminalProgress(out)
    for stage in ("tracking face", "building mouth bank"):
        for i in range(1, 101):
            bar(stage, i, 100)
    bar.close()
    assert out.getvalue().splitlines() == ["tracking face...", "building mouth bank..."]
