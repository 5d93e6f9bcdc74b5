"""Shared pieces of the benchmarks: servers, load generators, timing, memory."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / ".out"  # on the same disk as the repository


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        sys.exit(
            f"missing {', '.join(missing)}: install for benchmarking only, e.g."
            " `apt-get install b3sum nginx-light wrk curl`"
        )


def workdir(name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=OUT))
    path.chmod(0o755)  # nginx's workers run as an unprivileged user
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(cmd: list[str] | str, **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def rss_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process in KiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def reset_peak(pid: int) -> None:
    """Reset VmHWM so the next peak reading covers only what follows (Linux >= 4.0)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class Server:
    url: str
    pid: int
    data_dir: Path


@contextlib.contextmanager
def mstack_server(data_dir: Path, *args: str, **env: str) -> Iterator[Server]:
    """`mstack serve` (uvloop + httptools; one process unless ``--workers N`` is among
    ``args``) on a free loopback port."""
    port = free_port()
    environ = {
        **os.environ,
        "MSTACK_DATA_DIR": str(data_dir),
        "MSTACK_PORT": str(port),
        "MSTACK_LOG_LEVEL": "warning",
        **env,
    }
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "mstack"), "serve", *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"mstack serve did not start:\n{err}")
            time.sleep(0.05)
        yield Server(url=url, pid=proc.pid, data_dir=data_dir)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


BENCH_ACCOUNT = {
    "email": "bench@example.org",
    "username": "bench",
    "password": "quiet harbour at dawn 42",
}


def sign_in(server: Server) -> str:
    """Register the instance's first account on a fresh server and return its access token."""
    httpx.post(f"{server.url}/api/v1/auth/register", json=BENCH_ACCOUNT).raise_for_status()
    credentials = {"email": BENCH_ACCOUNT["email"], "password": BENCH_ACCOUNT["password"]}
    login = httpx.post(f"{server.url}/api/v1/auth/login", json=credentials)
    login.raise_for_status()
    return str(login.json()["access_token"])


class Caller:
    """A new account on a bench's server, signed in: JSON calls that raise on a refusal."""

    def __init__(self, url: str, username: str) -> None:
        self.username = username
        body = {
            "email": f"{username}@example.org",
            "username": username,
            "password": BENCH_ACCOUNT["password"],
        }
        httpx.post(f"{url}/api/v1/auth/register", json=body).raise_for_status()
        credentials = {"email": body["email"], "password": body["password"]}
        login = httpx.post(f"{url}/api/v1/auth/login", json=credentials)
        login.raise_for_status()
        token = login.json()["access_token"]
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300
        )
        self.id: str = self.ok(self.http.get("/api/v1/auth/me"))["id"]

    @staticmethod
    def ok(reply: httpx.Response) -> Any:
        if reply.status_code >= 400:
            raise RuntimeError(f"{reply.request.method} {reply.request.url}: {reply.text}")
        return reply.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.ok(self.http.post(path, json=body))

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.ok(self.http.patch(path, json=body))

    def get(self, path: str, **params: Any) -> Any:
        return self.ok(self.http.get(path, params=params))


@contextlib.contextmanager
def nginx(root: Path, workers: str = "auto") -> Iterator[str]:
    """nginx (Debian's, default-like settings, sendfile on, no access log) serving ``root``."""
    port = free_port()
    conf_dir = Path(tempfile.mkdtemp(prefix="nginx-", dir=OUT))
    conf = conf_dir / "nginx.conf"
    conf.write_text(
        f"""worker_processes {workers};
daemon off;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
"""
    )
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-e", str(conf_dir / "error.log")])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url, "nginx", 10)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(conf_dir, ignore_errors=True)


def wait_for_http(url: str, what: str, seconds: float) -> None:
    """Wait until something answers HTTP at ``url``; RuntimeError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.TransportError):
            httpx.get(url)
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


@dataclass
class Load:
    requests_per_s: float
    bytes_per_s: float


_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    threads: int = 1,
    headers: dict[str, str] | None = None,
) -> Load:
    """Run wrk against one URL and parse requests/s and transfer/s."""
    extra = [arg for k, v in (headers or {}).items() for arg in ("-H", f"{k}: {v}")]
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", *extra, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out).groups()  # type: ignore[union-attr]
    return Load(requests_per_s=rps, bytes_per_s=float(value) * _UNITS[unit])


def verdict(ratio: float, target: float) -> str:
    return "ok" if ratio >= target else "BELOW TARGET"
