"""Small helpers shared by the tab modules: error wrapping, sessions, progress, queues."""

from __future__ import annotations

import gradio as gr

from podium.ui.studio.gradio_errors import shown_as_gr_error
from podium.ui.studio.progress import Sink

#: Every job that renders or trains shares one slot: one at a time, the rest wait in the queue.
HEAVY = {"concurrency_id": "studio-jobs", "concurrency_limit": 1}
#: Cheap events (list refreshes, Cancel) never wait behind a render.
LIGHT = {"concurrency_limit": None, "show_progress": "hidden"}


def session_of(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "local"


def sink_of(progress: gr.Progress) -> Sink:
    """Our ``(fraction, text)`` sink drawn by gradio's progress bar."""

    def sink(frac, text):
        progress(frac, desc=text)

    return sink


def listen(event, fn, inputs=None, outputs=None, *, heavy: bool = False, light: bool = False, **kwargs):
    """``event(fn, ...)`` with ``fn``'s errors shown as ``gr.Error`` and the right queue."""
    extra = HEAVY if heavy else LIGHT if light else {}
    return event(shown_as_gr_error(fn), inputs=inputs, outputs=outputs, **{**extra, **kwargs})


def dropdown_update(choices, current=None, *, prefer=None):
    """Keep the current choice when it still exists, else ``prefer``, else the first one."""
    values = [c[1] if isinstance(c, tuple) else c for c in choices]
    for want in (prefer, current):
        if want in values:
            return gr.update(choices=choices, value=want)
    return gr.update(choices=choices, value=values[0] if values else None)
