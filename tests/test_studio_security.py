"""The studio on a shared machine: only expected Host names are served (DNS rebinding), gradio's
copies of uploads live in a private folder of the library and are cleaned up, wrong passwords
are throttled, the login can come from a file, and no address beyond loopback without a login.

One real server (session-scoped, 127.0.0.1 only, in this process) answers the HTTP checks; the
refusals that happen before gradio starts run the real command line in a child process."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from podium.common.errors import UserInputError
from podium.ui.studio.guard import LoginThrottle, expected_hosts, host_name
from podium.ui.studio.server import read_auth_file, resolve_auth

LOCKOUT_S = 1.5
MAX_FAILURES = 3
TEMP_MAX_AGE_S = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _auth_file(folder: Path, text: str = "ann:s3cret\n", mode: int = 0o600) -> Path:
    path = folder / "studio-login"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def _podium(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PODIUM_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False"}
    for name in ("PODIUM_AUTH", "PODIUM_DEBUG", "PODIUM_ALLOWED_HOSTS"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "podium.ui.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


# --- pure parts: no server -------------------------------------------------------------------


def test_host_names_and_the_expected_set():
    assert host_name("[::1]:7860") == "::1" and host_name("LocalHost:7860") == "localhost"
    assert host_name("studio.lan.") == "studio.lan" and host_name("::1") == "::1"
    hosts = expected_hosts("127.0.0.1", ["Studio.Lan:8443"], env="a.lan, b.lan")
    assert {"127.0.0.1", "localhost", "::1", "studio.lan", "a.lan", "b.lan"} <= hosts
    assert "evil.example" not in hosts
    assert "192.168.1.5" in expected_hosts("192.168.1.5", env="")
    assert socket.gethostname().lower() in expected_hosts("0.0.0.0", env="")
    with pytest.raises(UserInputError, match="not a host name"):
        expected_hosts("127.0.0.1", ["http://x/"], env="")


def test_throttle_locks_out_doubles_and_a_success_clears():
    now = [0.0]
    t = LoginThrottle(max_failures=3, lockout_s=10, max_lockout_s=25, clock=lambda: now[0])
    for _ in range(3):
        assert t.begin("a") == 0
        t.failed("a")
    assert t.begin("a") == pytest.approx(10) and t.begin("b") == 0   # only that address
    t.not_an_attempt("b")
    now[0] = 10.5
    for _ in range(3):
        assert t.begin("a") == 0
        t.failed("a")
    assert t.begin("a") == pytest.approx(20)                           # doubled
    now[0] = 31
    for _ in range(3):
        t.begin("a")
        t.failed("a")
    assert t.begin("a") == pytest.approx(25)                           # capped
    now[0] = 60
    assert t.begin("a") == 0
    t.succeeded("a")
    assert t.begin("a") == 0 and t.begin("a") == 0 and t.begin("a") == 0
    assert t.begin("a") > 0                                            # a burst still in flight


def test_auth_file_first_line_and_its_permissions(tmp_path):
    good = _auth_file(tmp_path, "ann:pa:ss\nignored\n")
    assert resolve_auth(auth_file=good) == ("ann", "pa:ss")
    os.chmod(good, 0o644)
    with pytest.raises(UserInputError, match="chmod 600"):
        read_auth_file(good)
    with pytest.raises(UserInputError, match="no such file"):
        read_auth_file(tmp_path / "missing")
    with pytest.raises(UserInputError, match="not both"):
        resolve_auth("a:b", good)


def test_the_ui_command_passes_the_new_options_to_launch(monkeypatch, tmp_path):
    pytest.importorskip("gradio")
    from podium.ui import cli
    from podium.ui.studio import server

    seen = {}
    monkeypatch.setattr(server, "launch", lambda **kw: seen.update(kw))
    args = cli.build_parser().parse_args(["ui", "--auth-file", str(tmp_path / "f"), "--allowed-host", "a.lan",
                                          "--allowed-host", "b.lan", "--home", str(tmp_path)])
    assert cli.cmd_ui(args) == 0
    assert seen["auth_file"] == str(tmp_path / "f") and seen["allowed_hosts"] == ["a.lan", "b.lan"]


# --- refusals of the real command line, before any server starts ------------------------------


@pytest.mark.parametrize("args, says", [(["--host", "0.0.0.0"], "0.0.0.0"),
                                        (["--host", "192.168.1.5"], "192.168.1.5"),
                                        (["--share"], "--share")])
def test_a_non_loopback_address_without_a_login_is_refused(tmp_path, args, says):
    pytest.importorskip("gradio")
    proc = _podium("ui", *args, "--port", str(_free_port()), home=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "--auth-file" in lines[0], proc.stderr


def test_a_world_readable_auth_file_is_refused(tmp_path):
    pytest.importorskip("gradio")
    path = _auth_file(tmp_path, mode=0o644)
    proc = _podium("ui", "--host", "0.0.0.0", "--auth-file", str(path), "--port", str(_free_port()),
                   home=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "open to other users" in lines[0] and "chmod 600" in lines[0], proc.stderr


# --- one real server ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    pytest.importorskip("gradio")
    from podium.ui.studio.server import launch

    home = tmp_path_factory.mktemp("secure-home")
    stale = home / "ui" / "gradio-tmp" / "0123abcd" / "old-render.mp4"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    login = _auth_file(tmp_path_factory.mktemp("secrets"))
    saved = {k: os.environ.get(k) for k in ("GRADIO_TEMP_DIR", "PODIUM_ALLOWED_HOSTS", "PODIUM_AUTH")}
    os.environ["PODIUM_ALLOWED_HOSTS"] = "other.lan"
    os.environ.pop("PODIUM_AUTH", None)
    port = _free_port()
    demo, url = launch(home=home, port=port, auth_file=login, allowed_hosts=["studio.lan"],
                       throttle=LoginThrottle(max_failures=MAX_FAILURES, lockout_s=LOCKOUT_S),
                       temp_max_age_s=TEMP_MAX_AGE_S, block=False, quiet=True)
    try:
        yield {"url": url.rstrip("/"), "port": port, "home": home, "stale": stale}
    finally:
        demo.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _client():
    import httpx

    return httpx.Client(timeout=30)


def test_only_expected_host_names_are_served(server):
    url, port = server["url"], server["port"]
    with _client() as c:
        for host in (f"evil.example:{port}", "127.0.0.1.evil.example", ""):
            r = c.get(f"{url}/", headers={"host": host})
            assert r.status_code == 400 and "--allowed-host" in r.text, (host, r.status_code, r.text)
            assert c.get(f"{url}/config", headers={"host": host}).status_code == 400
        r = c.post(f"{url}/login", headers={"host": "evil.example"}, data={"username": "ann", "password": "s3cret"})
        assert r.status_code == 400 and "access-token" not in r.headers.get("set-cookie", "")
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "studio.lan", "other.lan:80",
                     "localhost:9999"):     # an ssh tunnel's port
            r = c.get(f"{url}/", headers={"host": host})
            assert r.status_code == 200 and "<html" in r.text.lower(), (host, r.status_code)


def test_gradio_copies_live_in_a_private_folder_of_the_library(server):
    tmp = server["home"] / "ui" / "gradio-tmp"
    assert stat.S_IMODE(tmp.stat().st_mode) == 0o700
    assert os.environ["GRADIO_TEMP_DIR"] == str(tmp)
    assert not server["stale"].exists() and not server["stale"].parent.exists()   # emptied at start
    with _client() as c:
        assert c.post(f"{server['url']}/login", data={"username": "ann", "password": "s3cret"}).status_code == 200
        r = c.post(f"{server['url']}/gradio_api/upload", files={"files": ("clip.mp4", b"x" * 2000)})
    assert r.status_code == 200, r.text
    landed = Path(r.json()[0])
    assert landed.is_file() and landed.resolve().is_relative_to(tmp.resolve()), landed
    # Unused for longer than the bound: deleted while the studio runs.
    deadline = time.monotonic() + TEMP_MAX_AGE_S + 10
    while landed.exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not landed.exists()


def test_wrong_passwords_lock_the_address_out(server):
    url = server["url"]
    with _client() as c:
        for _ in range(MAX_FAILURES):
            assert c.post(f"{url}/login", data={"username": "ann", "password": "guess"}).status_code == 400
        locked = [c.post(f"{url}/login", data={"username": "ann", "password": p}) for p in ("guess", "s3cret")]
        assert [r.status_code for r in locked] == [429, 429]                # the right one too, for now
        assert int(locked[1].headers["retry-after"]) >= 1 and "try again" in locked[1].json()["detail"]
        assert c.get(f"{url}/config").status_code == 401
        time.sleep(LOCKOUT_S + 0.2)
        ok = c.post(f"{url}/login", data={"username": "ann", "password": "s3cret"})   # from the auth file
        assert ok.status_code == 200, ok.text
        assert c.get(f"{url}/config").status_code == 200
        # The success cleared the record: a typo now is an ordinary wrong password.
        assert c.post(f"{url}/login", data={"username": "ann", "password": "typo"}).status_code == 400
        c.post(f"{url}/login", data={"username": "ann", "password": "s3cret"})
