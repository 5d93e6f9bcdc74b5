"""JSON logs of a real `mstack serve`: one object a line, the request id returned as a
header and carried into the job the request queued, and no secret in any line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests import media
from tests.conftest import free_port
from tests.procs import spawn, wait_until_up


def test_json_logs_carry_the_request_id_into_the_job_and_no_secrets(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MSTACK_DATA_DIR": str(tmp_path / "data"),
        "MSTACK_CONFIG": "",
        "MSTACK_LOG_FORMAT": "json",
        "MSTACK_LOG_LEVEL": "info",
        "MSTACK_ACCESS_LOG": "true",
    }
    log_path = tmp_path / "server.log"  # the logs go to stderr; stdout says where it serves
    with open(log_path, "wb") as log_file:
        proc = spawn(["serve", "--port", str(port)], env, log_file, stdout=subprocess.DEVNULL)
        secrets_seen: list[str] = []
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, proc, said=log_path.read_text)
            password = "a rather secret passphrase 42"
            account = {"email": "a@example.org", "username": "artist", "password": password}
            assert httpx.post(f"{url}/api/v1/auth/register", json=account).status_code == 201
            wrong = {"username": "artist", "password": "wrong horse battery staple"}
            assert httpx.post(f"{url}/api/v1/auth/login", json=wrong).status_code == 401
            login = httpx.post(
                f"{url}/api/v1/auth/login", json={"username": "artist", "password": password}
            ).json()
            token, refresh = login["access_token"], login["refresh_token"]
            headers = {"Authorization": f"Bearer {token}"}
            key = httpx.post(
                f"{url}/api/v1/auth/keys",
                json={"name": "ci", "scopes": ["files:read"]},
                headers=headers,
            ).json()["key"]
            secrets_seen += [password, "wrong horse battery staple", token, refresh, key]

            r = httpx.post(
                f"{url}/api/v1/files",
                params={"filename": "p.jpg"},
                content=media.jpeg(320, 240),
                headers=headers | {"X-Request-ID": "upload-req-1"},
            )
            assert r.status_code == 201
            assert r.headers["x-request-id"] == "upload-req-1"
            record = r.json()[0]
            link = httpx.post(
                f"{url}/api/v1/links", json={"file_id": record["id"]}, headers=headers
            )
            assert link.status_code == 201, link.text
            signed = link.json()["url"]
            assert (
                httpx.get(signed if signed.startswith("http") else url + signed).status_code == 200
            )
            secrets_seen.append(signed.split("?", 1)[1])
            odd = httpx.get(f"{url}/health", headers={"X-Request-ID": "has spaces\tand tabs"})
            assert odd.headers["x-request-id"] != "has spaces\tand tabs"
            assert len(odd.headers["x-request-id"]) == 16
            deadline = time.monotonic() + 60
            while httpx.get(f"{url}/api/v1/files/{record['id']}", headers=headers).json()[
                "status"
            ] not in ("ready", "failed"):
                assert time.monotonic() < deadline, "processing did not finish"
                time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    job_lines = [e for e in entries if e.get("job_id") == record["job_id"]]
    assert job_lines, "no log line of the job"
    assert all(e.get("request_id") == "upload-req-1" for e in job_lines)
    text = log_path.read_text()
    for secret in secrets_seen:
        assert secret not in text
