"""``mstack login``, ``whoami``, ``logout`` and ``link`` against the real accounts API."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from mstack_client.cli import main
from mstack_client.config import Credentials
from tests.client.conftest import USERNAME, Cli
from tests.client.test_auth import PAST_ACCESS_TTL, make_key
from tests.client.test_cli import one_line_error
from tests.conftest import PASSWORD, LiveServer


def stored(config_home: Path) -> dict[str, Any]:
    return Credentials(config_home / "mstack").read()


def test_login_prompts_and_keeps_tokens_for_the_owner_alone(
    anon_cli: Cli, live_server: LiveServer, config_home: Path
) -> None:
    result = anon_cli("login", input=f"{USERNAME}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert f"signed in as {USERNAME} <{USERNAME}@example.org> (user) on {live_server.url}" in (
        result.stdout
    )
    path = config_home / "mstack" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert PASSWORD not in text
    data = json.loads(text)
    assert data["default"] == live_server.url
    assert set(data["servers"][live_server.url]["tokens"]) == {
        "access_token",
        "refresh_token",
        "expires_at",
    }
    who = anon_cli("whoami")
    assert who.exit_code == 0
    assert who.stdout.strip() == f"{USERNAME} <{USERNAME}@example.org> (user) on {live_server.url}"


def test_login_for_scripts_and_json(anon_cli: Cli, live_server: LiveServer) -> None:
    result = anon_cli(
        "login", "--email", f"{USERNAME}@example.org", "--password-stdin", "--json",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["server"] == live_server.url
    assert report["user"]["id"] == live_server.user_id
    who = json.loads(anon_cli("whoami", "--json").stdout)
    assert who["user"]["username"] == USERNAME


def test_a_wrong_password_is_one_line_and_stores_nothing(anon_cli: Cli, config_home: Path) -> None:
    result = anon_cli("login", "--username", USERNAME, "--password-stdin", input="wrong\n")
    one_line_error(result, contains="password is wrong")
    assert "mstack login" not in result.stderr
    assert stored(config_home)["servers"] == {}
    usage = anon_cli(
        "login", "--username", "a", "--email", "b@c.d", "--password-stdin", input="x\n"
    )
    assert usage.exit_code == 2


def test_login_with_an_api_key(anon_cli: Cli, live_server: LiveServer, config_home: Path) -> None:
    key = make_key(live_server)["key"]
    result = anon_cli("login", "--api-key", input=key + "\n")
    assert result.exit_code == 0, result.output
    assert stored(config_home)["servers"][live_server.url] == {"api_key": key}
    assert anon_cli("whoami").stdout.startswith(USERNAME)

    bad = anon_cli("login", "--api-key", input=key + "nope\n")
    one_line_error(bad, contains="is not valid")
    assert stored(config_home)["servers"][live_server.url] == {"api_key": key}  # kept the good one


def test_mstack_api_key_in_the_environment(live_server: LiveServer, config_home: Path) -> None:
    key = make_key(live_server)["key"]
    result = CliRunner().invoke(
        main,
        ["whoami"],
        env={
            "MSTACK_URL": live_server.url,
            "MSTACK_API_KEY": key,
            "XDG_CONFIG_HOME": str(config_home),
        },
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(USERNAME)


def test_an_expired_session_is_refreshed_and_saved(
    cli: Cli, live_server: LiveServer, config_home: Path, frozen_clock: Any
) -> None:
    before = stored(config_home)["servers"][live_server.url]["tokens"]
    frozen_clock.offset += PAST_ACCESS_TTL
    result = cli("ls")
    assert result.exit_code == 0, result.output
    after = stored(config_home)["servers"][live_server.url]["tokens"]
    assert after["refresh_token"] != before["refresh_token"]
    assert cli("whoami").exit_code == 0  # the next run uses the saved tokens


def test_logout_ends_the_session_and_forgets_it(
    cli: Cli, live_server: LiveServer, config_home: Path
) -> None:
    access = stored(config_home)["servers"][live_server.url]["tokens"]["access_token"]
    result = cli("logout")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"signed out of {live_server.url}"
    assert stored(config_home)["servers"] == {}
    me = httpx.get(
        f"{live_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"}
    )
    assert me.status_code == 401
    one_line_error(cli("whoami"), contains="not signed in")
    refused = cli("upload", __file__)
    assert refused.exit_code == 1
    assert "sign in first" in refused.stderr
    assert "mstack login" in refused.stderr


def test_upload_when_not_signed_in_says_how_to_sign_in(anon_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    result = anon_cli("upload", str(tmp_path / "a.txt"))
    assert result.exit_code == 1
    assert "mstack login" in result.stderr


def test_link_makes_a_url_that_works_without_signing_in(
    cli: Cli, live_server: LiveServer, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"linked")
    file_id = json.loads(cli("upload", "--json", str(tmp_path / "a.txt")).stdout)[0]["file"]["id"]
    result = cli("link", file_id, "--expires", "120")
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith(live_server.url + "/")
    assert httpx.get(url).content == b"linked"
    as_json = json.loads(cli("link", "--json", file_id).stdout)
    assert set(as_json) == {"url", "expires_at"}
    one_line_error(cli("link", "01aaaaaaaaaaaaaaaaaaaaaaaa"), contains="(404)")


def test_link_with_a_size_signs_a_transformed_image(
    cli: Cli, live_server: LiveServer, tmp_path: Path
) -> None:
    from tests import media

    (tmp_path / "p.jpg").write_bytes(media.jpeg(300, 150))
    file_id = json.loads(cli("upload", "--json", str(tmp_path / "p.jpg")).stdout)[0]["file"]["id"]
    result = cli("link", file_id, "--height", "30", "--format", "jpeg", "--quality", "70")
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith(f"{live_server.url}/api/v1/files/{file_id}/image?")
    got = httpx.get(url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "image/jpeg"
    misuse = cli("link", file_id, "--fit", "cover")
    assert misuse.exit_code == 2
    assert "--fit, --format and --quality need --width or --height" in misuse.stderr


def test_the_server_last_signed_in_to_is_the_default(
    live_server: LiveServer, config_home: Path
) -> None:
    Cli(live_server.url, config_home)(
        "login", "--username", USERNAME, "--password-stdin", input=PASSWORD + "\n"
    )
    result = CliRunner().invoke(
        main, ["whoami"], env={"MSTACK_URL": None, "XDG_CONFIG_HOME": str(config_home)}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"on {live_server.url}")
