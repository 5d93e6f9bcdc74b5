"""The server's shell commands, run for real against a data directory."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from mcore.cid import file_cid
from mcore.settings import Settings
from mstack_client.cli import main
from tests.conftest import blob_files, free_port, temp_files
from tests.procs import MSTACK, spawn, wait_until_up


@pytest.fixture
def run(settings: Settings):
    """Invoke ``mstack`` with MSTACK_DATA_DIR pointing at this test's data directory."""

    def invoke(*args: str, input: str | None = None):
        runner = CliRunner()
        env = {
            "MSTACK_DATA_DIR": str(settings.data_dir),
            "MSTACK_DATABASE_URL": settings.db_url,
            "MSTACK_CONFIG": "",
        }
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def test_help_lists_commands(run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for name in ("serve", "db", "ingest", "verify", "gc", "backup"):
        assert name in result.output


def test_ingest_files_and_folders(run, tmp_path: Path, settings: Settings) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub" / "b.txt").write_bytes(b"beta")
    single = tmp_path / "c.txt"
    single.write_bytes(b"alpha")  # same bytes as a.txt: stored once
    result = run("ingest", "--json", "--again", str(src), str(single))
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert sorted(r["cid"] for r in records) == sorted(
        [file_cid(b"alpha"), file_cid(b"alpha"), file_cid(b"beta")]
    )
    assert "3 ingested, 0 already there, 0 failed" in result.stderr
    assert len(blob_files(settings)) == 2
    assert (src / "a.txt").exists()  # copied, not moved


def _file_rows(settings: Settings) -> list[tuple[str, str]]:
    with sqlite3.connect(make_url(settings.db_url).database or "") as db:
        return sorted(db.execute("SELECT filename, cid FROM files"))


@pytest.mark.parametrize("backend", ["sqlite"])  # counts the rows in the embedded database
def test_ingest_twice_skips_what_the_owner_has(run, tmp_path: Path, settings: Settings) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"alpha")
    (src / "b.txt").write_bytes(b"beta")
    (src / "copy-of-a.txt").write_bytes(b"alpha")  # the owner has these bytes once a.txt is in
    first = run("ingest", "--json", str(src))
    assert first.exit_code == 0, first.output
    assert "2 ingested, 1 already there, 0 failed" in first.stderr
    assert f"already there: {src / 'copy-of-a.txt'}" in first.stderr
    ids = {r["filename"]: r["id"] for r in json.loads(first.stdout)}
    assert set(ids) == {"a.txt", "b.txt"}
    again = run("ingest", "--json", str(src))
    assert again.exit_code == 0, again.output
    assert "0 ingested, 3 already there, 0 failed" in again.stderr
    assert sorted(r["id"] for r in json.loads(again.stdout)) == sorted(
        [ids["a.txt"], ids["a.txt"], ids["b.txt"]]
    )
    assert _file_rows(settings) == [("a.txt", file_cid(b"alpha")), ("b.txt", file_cid(b"beta"))]
    assert temp_files(settings) == []
    forced = run("ingest", "--again", str(src / "b.txt"))
    assert forced.exit_code == 0, forced.output
    assert "1 ingested, 0 already there, 0 failed" in forced.stderr
    assert len(_file_rows(settings)) == 3


def test_ingest_move_adopts_files(run, tmp_path: Path, settings: Settings) -> None:
    src = settings.data_dir / "incoming"  # same disk as the archive
    src.mkdir()
    (src / "big.bin").write_bytes(b"\xff\xd8\xff" + os.urandom(300_000))  # looks like a JPEG
    data = (src / "big.bin").read_bytes()
    result = run("ingest", "--move", str(src / "big.bin"))
    assert result.exit_code == 0, result.output
    assert not (src / "big.bin").exists()
    (blob,) = blob_files(settings)
    assert blob.name == file_cid(data)
    assert blob.read_bytes() == data


def test_ingest_reports_refused_files(run, tmp_path: Path, settings: Settings) -> None:
    settings_file = tmp_path / "mstack.yaml"
    settings_file.write_text(
        f"data_dir: {settings.data_dir}\ndatabase_url: {settings.db_url}\n"
        "allowed_content_types: ['image/*']\n"
    )
    (tmp_path / "notes.txt").write_text("not an image")
    runner = CliRunner()
    result = runner.invoke(
        main, ["ingest", str(tmp_path / "notes.txt")], env={"MSTACK_CONFIG": str(settings_file)}
    )
    assert result.exit_code == 1
    assert "text/plain, which this server does not accept" in result.stderr
    assert blob_files(settings) == []


def test_ingest_through_the_mstack_script_ends_cleanly(tmp_path: Path, settings: Settings) -> None:
    """The script ends `ingest` without interpreter teardown: output, exit codes and the
    database must still be whole."""
    script = Path(sys.executable).parent / "mstack"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env |= {"MSTACK_DATA_DIR": str(settings.data_dir), "MSTACK_DATABASE_URL": settings.db_url}
    env["MSTACK_ALLOWED_CONTENT_TYPES"] = '["text/plain"]'
    src = tmp_path / "src"
    src.mkdir()
    for n in range(150):  # JSON well past a pipe's buffer: all of it must be flushed
        (src / f"note-{n:03}.txt").write_text(f"note {n}\n")
    done = subprocess.run(
        [script, "ingest", "--json", str(src)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 150
    assert "150 ingested, 0 already there, 0 failed" in done.stderr
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    refused = subprocess.run(
        [script, "ingest", str(tmp_path / "photo.png")], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "which this server does not accept" in refused.stderr
    checked = subprocess.run([script, "verify"], env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "checked 150 blobs" in checked.stdout


@pytest.mark.parametrize("backend", ["sqlite"])  # about the process, not the database
def test_ctrl_c_during_an_ingest_leaves_nothing_behind(tmp_path: Path, settings: Settings) -> None:
    script = Path(sys.executable).parent / "mstack"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env |= {"MSTACK_DATA_DIR": str(settings.data_dir), "MSTACK_DATABASE_URL": settings.db_url}
    env["MSTACK_ALLOWED_CONTENT_TYPES"] = '["*/*"]'
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(1024**3)  # sparse: quick to make, a whole GiB to copy
    ingest = subprocess.Popen(
        [script, "ingest", str(big)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while not any(settings.tmp_dir.glob("*.part")):  # the copy has begun
        assert ingest.poll() is None, ingest.communicate()
        assert time.monotonic() < deadline, "the copy never started"
        time.sleep(0.002)
    ingest.send_signal(signal.SIGINT)
    _, err = ingest.communicate(timeout=30)
    assert ingest.returncode == 1, err
    assert "Aborted" in err.decode()
    assert temp_files(settings) == [], err.decode()  # the copy stopped, its temp file went
    assert blob_files(settings) == []
    listed = subprocess.run([script, "verify"], env=env, capture_output=True, text=True)
    assert "checked 0 blobs" in listed.stdout


def test_verify_and_gc_commands(run, tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "f.txt").write_bytes(b"verify me")
    assert run("ingest", str(tmp_path / "f.txt")).exit_code == 0
    ok = run("verify")
    assert ok.exit_code == 0
    assert "checked 1 blobs (9 bytes): 0 mismatched, 0 missing" in ok.output
    (blob,) = blob_files(settings)
    os.chmod(blob, 0o600)
    blob.write_bytes(b"verify mE")
    bad = run("verify")
    assert bad.exit_code == 1
    assert (
        f"MISMATCH {file_cid(b'verify me')}: bytes hash to {file_cid(b'verify mE')}" in bad.output
    )
    gc = run("gc", "--dry-run")
    assert gc.exit_code == 0
    assert "would remove 0 blobs" in gc.output


@pytest.mark.parametrize("backend", ["sqlite"])  # backup copies the embedded database
def test_backup_command(run, tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "f.txt").write_bytes(b"back me up")
    run("ingest", str(tmp_path / "f.txt"))
    result = run("backup", "--blobs", str(tmp_path / "bk"))
    assert result.exit_code == 0, result.output
    assert "manifest of 1 blobs" in result.output
    assert (tmp_path / "bk" / "mstack.db").exists()
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["blobs"] == [{"cid": file_cid(b"back me up"), "size": 10}]


def test_db_upgrade_on_a_fresh_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"MSTACK_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mstack.db").exists()


def test_bad_configuration_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["gc"], env={"MSTACK_MAX_UPLOAD_SIZE": "lots"})
    assert result.exit_code != 0
    assert "configuration error" in result.output
    assert "Traceback" not in result.output


def test_serve_migrates_and_serves(tmp_path: Path) -> None:
    """`mstack serve` on an empty data directory: migrate, then serve uploads."""
    port = free_port()
    env = {**os.environ, "MSTACK_DATA_DIR": str(tmp_path / "data"), "MSTACK_CONFIG": ""}
    log = tmp_path / "serve.log"
    proc = spawn(["serve", "--port", str(port)], env, log.open("wb"))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, proc, said=log.read_text)
        account = {"email": "first@example.org", "username": "first", "password": "a fine password"}
        assert httpx.post(f"{url}/api/v1/auth/register", json=account).status_code == 201
        credentials = {"email": account["email"], "password": account["password"]}
        login = httpx.post(f"{url}/api/v1/auth/login", json=credentials).json()
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        r = httpx.post(
            f"{url}/api/v1/files", params={"filename": "x"}, content=b"served", headers=headers
        )
        assert r.status_code == 201
        assert r.json()[0]["cid"] == file_cid(b"served")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_a_full_disk_is_a_clear_507_and_keeps_nothing(tmp_path: Path) -> None:
    """A disk that refuses the bytes (here a file-size limit; ENOSPC when full)."""
    port = free_port()
    data_dir = tmp_path / "data"
    env = {**os.environ, "MSTACK_DATA_DIR": str(data_dir), "MSTACK_CONFIG": ""}
    env["MSTACK_JOBS__EMBEDDED_WORKER"] = "false"
    env["MSTACK_ALLOWED_CONTENT_TYPES"] = '["*/*"]'
    # files of at most 8 MiB, and a write past that fails (EFBIG) instead of killing
    limited = 'trap "" XFSZ; ulimit -f 8192; exec "$0" -c "$2" serve --port "$1"'
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        ["bash", "-c", limited, sys.executable, str(port), MSTACK],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, proc, said=log.read_text)
        account = {"email": "full@example.org", "username": "full", "password": "a fine password"}
        httpx.post(f"{url}/api/v1/auth/register", json=account).raise_for_status()
        credentials = {"username": "full", "password": account["password"]}
        login = httpx.post(f"{url}/api/v1/auth/login", json=credentials).json()
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        big = os.urandom(12 * 2**20)
        reply = httpx.post(
            f"{url}/api/v1/files", params={"filename": "big.bin"}, content=big, headers=headers
        )
        assert reply.status_code == 507, reply.text
        assert reply.headers["content-type"] == "application/problem+json"
        assert "no room left to store this; nothing was kept" in reply.json()["detail"]
        listed = httpx.get(f"{url}/api/v1/files", headers=headers).json()
        assert listed["items"] == []
        assert list((data_dir / "tmp").iterdir()) == []
        small = httpx.post(
            f"{url}/api/v1/files", params={"filename": "s.bin"}, content=b"fits", headers=headers
        )
        assert small.status_code == 201  # the server carries on
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_ingest_for_an_owner(run, tmp_path: Path) -> None:
    made = run(
        "admin",
        "create-user",
        "--email",
        "ann@example.org",
        "--username",
        "ann",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert made.exit_code == 0, made.output
    (tmp_path / "hers.txt").write_bytes(b"ann's file")
    result = run("ingest", "--json", "--owner", "ANN@example.org", str(tmp_path / "hers.txt"))
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    listed = run("admin", "list-users")
    assert record["owner_id"] in listed.output
    unknown = run("ingest", "--owner", "nobody", str(tmp_path / "hers.txt"))
    assert unknown.exit_code == 1
    assert "no user with the id, email or username 'nobody'" in unknown.output
    assert "Traceback" not in unknown.output


def test_ingest_refuses_a_guest_owner(run, tmp_path: Path, settings: Settings) -> None:
    made = run(
        "admin",
        "create-user",
        "--email",
        "g@example.org",
        "--username",
        "gus",
        "--role",
        "guest",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert made.exit_code == 0, made.output
    (tmp_path / "x.txt").write_bytes(b"guest's")
    result = run("ingest", "--owner", "gus", str(tmp_path / "x.txt"))
    assert result.exit_code == 1
    assert "guests cannot upload" in result.output  # unless guest_uploads is on
    assert blob_files(settings) == []
