"""Start the studio: local-only by default, optional login, upload limit, one job at a time;
only expected Host names, throttled logins, gradio's file copies private to the library."""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path

from podium.common.errors import UserInputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_MAX_UPLOAD = "500mb"
AUTH_ENV = "PODIUM_AUTH"
SHARE_SUFFIX = ".gradio.live"


def parse_auth(text: str | None) -> tuple[str, str] | None:
    """``"user:password"`` -> ``("user", "password")``; None or "" -> no login."""
    if text is None or not text.strip():
        return None
    user, sep, password = text.strip().partition(":")
    if not sep or not user or not password:
        raise UserInputError("--auth (or $PODIUM_AUTH) must look like user:password, "
                             "with neither part empty")
    return user, password


def read_auth_file(path: str | Path) -> str:
    """The first line of ``path`` (``user:password``); refused when other users may read or
    change the file."""
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
        first = path.read_text(encoding="utf-8").splitlines()[:1]
    except FileNotFoundError:
        raise UserInputError(f"--auth-file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"--auth-file {path}: cannot read it ({exc})") from None
    if os.name == "posix" and mode & 0o077:
        raise UserInputError(f"--auth-file {path} is open to other users (mode "
                             f"{stat.S_IMODE(mode):03o}); make it yours only: chmod 600 {path}")
    if not first or not first[0].strip():
        raise UserInputError(f"--auth-file {path}: the first line should be user:password")
    return first[0]


def resolve_auth(auth: str | None = None, auth_file: str | Path | None = None) -> tuple[str, str] | None:
    """The login from ``auth``, else ``auth_file``, else ``$PODIUM_AUTH``; None: no login."""
    if auth is not None and auth_file is not None:
        raise UserInputError("give --auth or --auth-file, not both")
    if auth_file is not None:
        return parse_auth(read_auth_file(auth_file))
    return parse_auth(auth if auth is not None else os.environ.get(AUTH_ENV))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(*, home: str | Path | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           auth: str | None = None, auth_file: str | Path | None = None, share: bool = False,
           max_upload: str = DEFAULT_MAX_UPLOAD, allowed_hosts: list[str] | tuple[str, ...] = (),
           throttle=None, temp_max_age_s: int | None = None, block: bool = True, quiet: bool = False):
    """Build the studio and serve it.

    Parameters
    ----------
    host : str
        Address to bind; the loopback address by default, so only this machine can connect.
        Any other address needs a login.
    auth : str, optional
        ``user:password`` for a login page; default ``$PODIUM_AUTH``; none when both are empty.
    auth_file : path, optional
        A file whose first line is ``user:password`` (readable by its owner only), instead of
        ``auth``.
    share : bool
        Ask gradio for a public share link (off unless asked for; needs internet and a login).
    max_upload : str
        Largest accepted upload, e.g. ``"500mb"``; larger ones are refused by the server.
    allowed_hosts : list of str
        More names the page may be opened under (besides 127.0.0.1, localhost, [::1], ``host``
        and ``$PODIUM_ALLOWED_HOSTS``); requests naming any other host get 400.
    throttle : LoginThrottle, optional
        How wrong passwords are throttled (default: 5 in a row lock the address out for 30 s,
        doubling up to 15 min).
    temp_max_age_s : int, optional
        gradio's copies of uploads and renders (in ``HOME/ui/gradio-tmp``) unused for this
        long are deleted (default 24 h); the folder is emptied at start.
    block : bool
        Serve until interrupted (False: return at once, for tests).

    Returns
    -------
    (demo, local_url)
    """
    from podium.ui.studio.guard import (
        TEMP_MAX_AGE_S,
        HostGuard,
        LoginGuard,
        LoginThrottle,
        expected_hosts,
        private_temp_dir,
    )

    # Everything that can refuse to start does so before gradio is imported.
    credentials = resolve_auth(auth, auth_file)
    if credentials is None and not is_loopback(host):
        raise UserInputError(f"serving on {host} without a login would let anyone who can reach "
                             f"this machine use the studio: add --auth-file FILE (or ${AUTH_ENV})")
    if credentials is None and share:
        raise UserInputError(f"--share without a login would let anyone with the link use the "
                             f"studio: add --auth-file FILE (or ${AUTH_ENV})")
    hosts = expected_hosts(host, allowed_hosts)
    throttle = throttle or LoginThrottle()
    age = TEMP_MAX_AGE_S if temp_max_age_s is None else int(temp_max_age_s)

    # Before gradio is imported: no usage statistics or version checks leave this machine.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from podium.ui.studio.handlers import Studio

    studio = Studio(home)
    for folder in studio.served_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    # gradio copies every upload and every file it serves into GRADIO_TEMP_DIR (read when
    # components and the app are made, and by some components at run time).
    os.environ["GRADIO_TEMP_DIR"] = str(private_temp_dir(studio.ui_dir))
    from starlette.middleware import Middleware

    from podium.ui.studio.layout import CSS, build_app, theme

    demo = build_app(studio)
    # gradio deletes the copies it made once unused for `age` seconds, and all of them at exit.
    demo.delete_cache = (max(1, min(3600, age // 2)), max(1, age))
    # One render, dub, batch or training at a time (they share a concurrency id); other
    # events have a limit of one each, and list refreshes and Cancel are never held up.
    demo.queue(default_concurrency_limit=1, max_size=64)
    guards = [Middleware(HostGuard, allowed=hosts, suffixes=(SHARE_SUFFIX,) if share else ()),
              Middleware(LoginGuard, throttle=throttle)]
    _, local_url, _ = demo.launch(
        server_name=host, server_port=port, auth=credentials, share=share,
        max_file_size=max_upload, allowed_paths=[str(p) for p in studio.served_dirs],
        auth_message=(f"Podium studio: log in with the user and password the studio was started "
                      f"with. After {throttle.max_failures} wrong passwords in a row, logins from "
                      f"your address are refused for {throttle.lockout_s:g} s or more."),
        app_kwargs={"middleware": guards}, num_workers=0,
        ssr_mode=False, inbrowser=False, prevent_thread_lock=not block, quiet=quiet,
        footer_links=[], theme=theme(), css=CSS, show_error=False)
    return demo, local_url
