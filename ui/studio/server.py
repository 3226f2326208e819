"""Start the studio: local-only by default, optional login, upload limit, one job at a time."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from podium.common.errors import UserInputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_UPLOAD = "500mb"
AUTH_ENV = "PODIUM_AUTH"


def parse_auth(text: str | None) -> tuple[str, str] | None:
    """``"user:password"`` -> ``("user", "password")``; None or "" -> no login."""
    if text is None or not text.strip():
        return None
    user, sep, password = text.strip().partition(":")
    if not sep or not user or not password:
        raise UserInputError("--auth (or $PODIUM_AUTH) must look like user:password, "
                             "with neither part empty")
    return user, password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(*, home: str | Path | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           auth: str | None = None, share: bool = False, max_upload: str = DEFAULT_MAX_UPLOAD,
           block: bool = True, quiet: bool = False):
    """Build the studio and serve it.

    Parameters
    ----------
    host : str
        Address to bind; the loopback address by default, so only this machine can connect.
    auth : str, optional
        ``user:password`` for a login page; default ``$PODIUM_AUTH``; none when both are empty.
    share : bool
        Ask gradio for a public share link (off unless asked for; needs internet).
    max_upload : str
        Largest accepted upload, e.g. ``"500mb"``; larger ones are refused by the server.
    block : bool
        Serve until interrupted (False: return at once, for tests).

    Returns
    -------
    (demo, local_url)
    """
    # Before gradio is imported: no usage statistics or version checks leave this machine.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from podium.ui.studio.handlers import Studio
    from podium.ui.studio.layout import CSS, build_app, theme

    credentials = parse_auth(auth if auth is not None else os.environ.get(AUTH_ENV))
    if not is_loopback(host) and credentials is None:
        print(f"podium ui: warning: serving on {host} without a login; anyone who can reach this "
              f"machine can use the studio. Add --auth user:password (or ${AUTH_ENV}).",
              file=sys.stderr)
    studio = Studio(home)
    for folder in studio.served_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    demo = build_app(studio)
    # One render, dub, batch or training at a time (they share a concurrency id); other
    # events have a limit of one each, and list refreshes and Cancel are never held up.
    demo.queue(default_concurrency_limit=1, max_size=64)
    _, local_url, _ = demo.launch(
        server_name=host, server_port=port, auth=credentials, share=share,
        max_file_size=max_upload, allowed_paths=[str(p) for p in studio.served_dirs],
        auth_message="Podium studio: log in with the user and password the studio was started with.",
        ssr_mode=False, inbrowser=False, prevent_thread_lock=not block, quiet=quiet,
        footer_links=[], theme=theme(), css=CSS, show_error=False)
    return demo, local_url
