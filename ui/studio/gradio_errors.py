"""The one place where errors become what the page shows.

Every event handler of the layout is wrapped in :func:`shown_as_gr_error`:
a :class:`common.errors.PodiumError` (bad input, no face, unknown voice...) becomes a
``gr.Error`` with the library's message, which already says what to do; Cancel
becomes a short notice; anything else is logged with its traceback and shown as an
internal error, never as a raw traceback in the page.
"""

from __future__ import annotations

import functools
import inspect
import logging

import gradio as gr

from podium.common.errors import PodiumError, UserInputError
from podium.ui.studio.progress import Cancelled

log = logging.getLogger("podium.ui")


def as_gr_error(exc: BaseException) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, Cancelled):
        return gr.Error(f"Cancelled: {exc}", title="Cancelled", duration=8, print_exception=False)
    if isinstance(exc, UserInputError):
        return gr.Error(str(exc), title="Please check", print_exception=False)
    if isinstance(exc, PodiumError):
        return gr.Error(str(exc), title="Failed")
    log.exception("internal error in a studio handler", exc_info=exc)
    return gr.Error(f"internal error: {type(exc).__name__}: {exc} (details in the studio's log)",
                    title="Internal error")


def shown_as_gr_error(fn):
    """Wrap an event handler (function or generator) so errors reach the page as ``gr.Error``.

    ``functools.wraps`` keeps the signature, so gradio still injects ``gr.Request`` and
    ``gr.Progress`` parameters.
    """
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except GeneratorExit:
                raise
            except Exception as exc:  # noqa: BLE001 - this is the translation point
                raise as_gr_error(exc) from exc
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is the translation point
            raise as_gr_error(exc) from exc
    return wrapper
