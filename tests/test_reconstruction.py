"""The reconstruction benchmark runs end to end on one shared clip (short neural training)."""

from __future__ import annotations

import math
import re
import sys

import pytest
from conftest import ROOT, needs_shared

sys.path.insert(0, str(ROOT / "benchmarks"))


def _rows(text: str) -> dict[str, list[float]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] == "presenter_d":
            rows[cells[1]] = [float(c) for c in cells[2:]]
    return rows


@pytest.mark.slow
@needs_shared
def test_reconstruction_benchmark_on_one_clip(tmp_path, capsys):
    import reconstruction

    code = reconstruction.main(["--clips", "presenter_d", "--train-steps", "12", "--keep", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert set(rows) == {"frozen", "warp", "oracle", "neural"}, out
    for name, (m_lmd, r, sharp, off, train_s, fps, peak) in rows.items():
        assert 0 < m_lmd < 20 and -1 <= r <= 1 and 0.3 < sharp < 3 and fps > 1 and peak > 50, (name, out)
        assert off == pytest.approx(abs(math.log(sharp)), abs=0.002), (name, out)
    assert rows["frozen"][4] == 0 and rows["neural"][4] > rows["warp"][4] > 0  # training seconds
    # Drawn from the real frames' own lip gaps, the oracle must follow them closely: if it
    # does not, the renderer cannot draw what it is asked to, whatever the timing.
    assert rows["oracle"][1] > 0.8 and rows["oracle"][0] < rows["warp"][0], out
    # The frozen-mouth baseline must lose to the warp renderer on lip distance and aperture
    # correlation on this clip; if not, the metric or the renderer is broken.
    assert rows["warp"][0] < rows["frozen"][0], out
    assert rows["warp"][1] > rows["frozen"][1], out
    assert re.search(r"\| neural \|", out.split("Averages")[1])
    assert "the frozen baseline loses to warp on all three" in out
    for method in ("frozen", "warp", "oracle", "neural"):
        assert (tmp_path / f"presenter_d_{method}.mp4").is_file()


def test_verdict_does_not_let_soft_and_crisp_clips_cancel():
    import reconstruction

    # per clip: frozen 0.5x and 1.5x as sharp as real (ratio averages 1.0); warp 0.9x and 1.1x
    frozen = [3.0, 0.1, 1.0, (abs(math.log(0.5)) + abs(math.log(1.5))) / 2]
    warp = [2.0, 0.4, 1.0, (abs(math.log(0.9)) + abs(math.log(1.1))) / 2]
    text = reconstruction.verdict({"frozen": frozen, "warp": warp})
    assert "the frozen baseline loses to warp on all three: yes" in text
    softer = [2.0, 0.4, 1.0, frozen[3] + 0.01]
    text = reconstruction.verdict({"frozen": frozen, "warp": softer})
    assert "the frozen baseline loses to warp on all three: NO" in text
