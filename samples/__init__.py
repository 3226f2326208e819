"""Demo material shipped with Podium: a public-domain portrait (NASA) and a demo script."""

from __future__ import annotations

from pathlib import Path

#: The folder holding the sample files, inside the installed package.
SAMPLES_DIR = Path(__file__).resolve().parent
PORTRAIT = SAMPLES_DIR / "portrait.jpg"
DEMO_SCRIPT = SAMPLES_DIR / "demo_script.txt"
