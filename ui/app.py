"""The Gradio studio (``podium ui``); see :mod:`ui.studio` for its parts.

``python -m ui.app`` starts it with the defaults (local only, no login unless
``$PODIUM_AUTH`` is set).
"""

from __future__ import annotations

from podium.ui.studio.server import DEFAULT_HOST, DEFAULT_PORT, launch, parse_auth

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "launch", "parse_auth"]

if __name__ == "__main__":
    launch()
