"""What keeps a studio safe on a shared machine, apart from the login itself.

* :class:`HostGuard` serves only requests whose ``Host`` header names this studio (loopback
  names, the address it was started on, names the user allowed), so a web page that points its
  own name at 127.0.0.1 (DNS rebinding) cannot drive it.
* :class:`LoginGuard` and :class:`LoginThrottle` refuse logins from an address for a while after
  a few wrong passwords in a row.
* :func:`private_temp_dir` puts gradio's copies of uploads and renders in a folder of the
  library that only its owner can open, emptied at start.

No gradio here: the middlewares are plain ASGI, the rest is the standard library.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from podium.common.errors import UserInputError

ALLOWED_HOSTS_ENV = "PODIUM_ALLOWED_HOSTS"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
TEMP_DIR_NAME = "gradio-tmp"
#: gradio's copies unused for this long are deleted while the studio runs (and all at start).
TEMP_MAX_AGE_S = 24 * 3600


# --- Host header ---------------------------------------------------------------------------


def host_name(value: str) -> str:
    """The name part of a ``Host`` header or of a user's ``NAME[:PORT]``, lower case:
    ``"[::1]:7860"`` -> ``"::1"``, ``"Studio.Lan:80"`` -> ``"studio.lan"``, ``"::1"`` -> ``"::1"``."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else ""
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def expected_hosts(bind: str, extra: Iterable[str] = (), *, env: str | None = None) -> frozenset[str]:
    """Host names the studio answers to: the loopback names, the address it binds (for
    0.0.0.0 / ``::`` this machine's own names), the ``extra`` names and ``$PODIUM_ALLOWED_HOSTS``
    (comma- or space-separated). Ports are not compared: an ssh tunnel forwards another port."""
    names = set(LOOPBACK_NAMES)
    if bind.strip() in WILDCARD_BINDS:
        for own in (socket.gethostname(), socket.getfqdn()):
            if own:
                names.add(host_name(own))
    else:
        names.add(host_name(bind) if bind.startswith("[") else bind.strip().lower())
    given = list(extra)
    env = os.environ.get(ALLOWED_HOSTS_ENV) if env is None else env
    given += (env or "").replace(",", " ").split()
    for item in given:
        name = host_name(item)
        if not name or any(c in item for c in "/ @*?#"):
            raise UserInputError(f"--allowed-host (or ${ALLOWED_HOSTS_ENV}): {item!r} is not a host "
                                 "name or address; give a name such as studio.lan or 192.168.1.5")
        names.add(name)
    return frozenset(names)


class HostGuard:
    """ASGI middleware: a request whose ``Host`` is not one of ``allowed`` (or does not end
    with one of ``suffixes``) gets 400 and a one-line text; a websocket is closed."""

    def __init__(self, app, allowed: Iterable[str], suffixes: Iterable[str] = ()):
        self.app = app
        self.allowed = frozenset(allowed)
        self.suffixes = tuple(suffixes)

    def allows(self, host: str | None) -> bool:
        if not host:
            return False
        name = host_name(host)
        return name in self.allowed or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            host = _header(scope, b"host")
            if not self.allows(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    shown = (host or "")[:80].encode("ascii", "replace").decode()
                    await _reply(send, 400, f"podium studio: not served under the name {shown!r}. "
                                 f"Open it as http://127.0.0.1:PORT, or start it with --allowed-host "
                                 f"NAME.\n")
                return
        await self.app(scope, receive, send)


# --- login throttling ----------------------------------------------------------------------


@dataclass
class _Record:
    failures: int = 0          # wrong passwords in a row, plus logins still being checked
    lockouts: int = 0
    locked_until: float = 0.0
    seen: float = 0.0


@dataclass
class LoginThrottle:
    """Per client address: after ``max_failures`` wrong passwords in a row, every login from
    that address (the right password too) is refused for ``lockout_s``, doubled at each further
    lockout up to ``max_lockout_s``. A successful login clears the address's record."""

    max_failures: int = 5
    lockout_s: float = 30.0
    max_lockout_s: float = 900.0
    forget_s: float = 24 * 3600.0
    clock: Callable[[], float] = time.monotonic
    _records: dict[str, _Record] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self, addr: str) -> float:
        """Before a login is checked: 0 if it may go ahead (it counts as a failure until
        :meth:`succeeded` says otherwise), else the seconds until the address may try again."""
        now = self.clock()
        with self._lock:
            self._forget_idle(now)
            rec = self._records.setdefault(addr, _Record())
            rec.seen = now
            if now < rec.locked_until:
                return rec.locked_until - now
            if rec.failures >= self.max_failures:   # a burst of logins still being checked
                return self.lockout_s
            rec.failures += 1
            return 0.0

    def succeeded(self, addr: str) -> None:
        with self._lock:
            self._records.pop(addr, None)

    def failed(self, addr: str) -> None:
        now = self.clock()
        with self._lock:
            rec = self._records.setdefault(addr, _Record(failures=1))
            if rec.failures >= self.max_failures:
                rec.lockouts += 1
                rec.locked_until = now + min(self.lockout_s * 2 ** (rec.lockouts - 1), self.max_lockout_s)
                rec.failures = 0

    def not_an_attempt(self, addr: str) -> None:
        """The request was no password check (a malformed form, no login configured)."""
        with self._lock:
            rec = self._records.get(addr)
            if rec is not None:
                rec.failures = max(0, rec.failures - 1)

    def _forget_idle(self, now: float) -> None:
        if len(self._records) < 1000:
            return
        for addr in [a for a, r in self._records.items()
                     if now - r.seen > self.forget_s and now >= r.locked_until]:
            del self._records[addr]


class LoginGuard:
    """ASGI middleware around gradio's ``POST /login``: consults a :class:`LoginThrottle` and
    tells it how each login went (gradio answers 200 for the right password, 400 otherwise)."""

    def __init__(self, app, throttle: LoginThrottle):
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" \
                or scope.get("path", "").rstrip("/") != "/login":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        addr = client[0] if client else "unknown"
        wait = self.throttle.begin(addr)
        if wait > 0:
            seconds = math.ceil(wait)
            await _reply(send, 429, json.dumps({"detail": f"Too many wrong passwords from {addr}; "
                                                          f"try again in {seconds} s."}),
                         content_type=b"application/json", extra=[(b"retry-after", str(seconds).encode())])
            return
        status: list[int] = []

        async def watch(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if status and status[0] == 200:
                self.throttle.succeeded(addr)
            elif status and status[0] in (400, 401):
                self.throttle.failed(addr)
            else:
                self.throttle.not_an_attempt(addr)


# --- gradio's temporary files ----------------------------------------------------------------


def private_temp_dir(ui_dir: Path) -> Path:
    """``ui_dir/gradio-tmp``, created or emptied, mode 0700 (only the owner may open it)."""
    folder = Path(ui_dir) / TEMP_DIR_NAME
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise UserInputError(f"{folder} should be a folder of the studio's own; remove it and start again")
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    _empty(folder)
    return folder


def _empty(folder: Path) -> None:
    """Delete what lies in ``folder``: copies left by an earlier run, which no page refers to."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


# --- ASGI helpers ----------------------------------------------------------------------------


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


async def _reply(send, status: int, text: str, *, content_type: bytes = b"text/plain; charset=utf-8",
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode()
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})
