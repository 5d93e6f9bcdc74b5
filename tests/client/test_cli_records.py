"""The generated command groups (``mstack artists ...``) against the real server: success
output, ``--json``, and one-line errors for what the server refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.client.conftest import Cli
from tests.client.test_cli import one_line_error
from tests.conftest import PASSWORD, LiveServer


def create_artist(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("artists", "create", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_artists_from_create_to_revert(cli: Cli, frozen_clock: Any) -> None:
    made = cli("artists", "create", "--name-full", "Maren Økland", "--bio", "Painter.",
               "--links", "https://example.org/a", "--links", "https://example.org/b")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.stderr.startswith("created ")
    artist_id = made.stderr.split()[1]
    assert f"id          {artist_id}" in made.stdout
    assert '"full": "Maren Økland"' in made.stdout
    first = json.loads(cli("artists", "get", "--json", artist_id).stdout)
    assert first["links"] == ["https://example.org/a", "https://example.org/b"]

    frozen_clock.offset += 60
    # one part of the embedded name: the rest is read and kept
    short = cli("artists", "update", "--json", artist_id, "--name-short", "Økland")
    assert short.exit_code == 0, short.output
    second = json.loads(short.stdout)
    named = {k: v for k, v in second["name"].items() if v is not None}
    assert named == {"full": "Maren Økland", "short": "Økland"}
    assert second["n"] == 2

    stale = cli("artists", "update", artist_id, "--if-match", first["cid"], "--bio", "stale")
    one_line_error(stale, contains="(412)")

    frozen_clock.offset += 60
    cleared = json.loads(cli("artists", "update", "--json", artist_id, "--clear", "bio").stdout)
    assert cleared.get("bio") is None
    assert cleared["n"] == 3

    listed = cli("artists", "list")
    assert listed.exit_code == 0
    header, row = listed.stdout.splitlines()
    assert header.split() == ["ID", "N", "UPDATED", "VISIBILITY", "NAME"]
    assert row.startswith(artist_id)
    assert row.endswith("Maren Økland")

    at = cli("artists", "get", "--json", artist_id, "--at", first["updated_at"])
    assert json.loads(at.stdout)["n"] == 1
    version = cli("artists", "get", "--json", artist_id, "--version", second["cid"])
    assert json.loads(version.stdout)["name"]["short"] == "Økland"

    history = cli("artists", "versions", artist_id)
    assert [line.split()[0] for line in history.stdout.splitlines()[1:]] == ["3", "2", "1"]
    as_json = json.loads(cli("artists", "versions", "--json", "--limit", "1", artist_id).stdout)
    assert [v["n"] for v in as_json["items"]] == [3]
    assert as_json["next"]

    back = cli("artists", "revert", "--json", artist_id, "--to", first["cid"])
    assert json.loads(back.stdout)["bio"] == "Painter."

    deleted = cli("artists", "delete", artist_id)
    assert deleted.exit_code == 0
    assert deleted.stdout.startswith(f"deleted {artist_id} (version 5, ")
    one_line_error(cli("artists", "get", artist_id), contains="was deleted")


def test_create_from_a_json_file_with_options_winning(cli: Cli, tmp_path: Path) -> None:
    artist = create_artist(cli, "--name-full", "Studio Kallio")
    body = {
        "title": {"full": "From a file"},
        "creators": [{"artist": artist["id"], "role": "painter"}],
        "year": 1999,
        "tags": ["b", "a"],
    }
    (tmp_path / "work.json").write_text(json.dumps(body))
    made = cli("still-images", "create", "--json", "--data", f"@{tmp_path / 'work.json'}",
               "--year", "2001", "--visibility", "public")  # fmt: skip
    assert made.exit_code == 0, made.output
    work = json.loads(made.stdout)
    assert work["creators"] == body["creators"]
    assert (work["year"], work["tags"], work["visibility"]) == (2001, ["a", "b"], "public")
    found = json.loads(
        cli("still-images", "list", "--json", "--creators-artist", artist["id"]).stdout
    )
    assert [w["id"] for w in found["items"]] == [work["id"]]
    piped = cli("artists", "create", "--json", "--data", "-", input='{"name": {"full": "Piped"}}')
    assert json.loads(piped.stdout)["name"]["full"] == "Piped"


def test_lists_page_and_sort(cli: Cli) -> None:
    for name in ("Cecilie", "Anna", "Bjørn"):
        create_artist(cli, "--name-full", name)
    page = cli("artists", "list", "--sort", "name-full", "--limit", "2")
    assert [line.rsplit(None, 1)[-1] for line in page.stdout.splitlines()[1:]] == ["Anna", "Bjørn"]
    hint = page.stderr.splitlines()[-1]
    assert hint.startswith("more: mstack artists list --limit 2 --sort name-full --cursor ")
    rest = cli(*hint.split()[2:])  # the hint runs as it stands: the next page, same order
    assert [line.rsplit(None, 1)[-1] for line in rest.stdout.splitlines()[1:]] == ["Cecilie"]
    snake = cli("artists", "list", "--json", "--sort", "-name_full")  # the API's spelling too
    assert [a["name"]["full"] for a in json.loads(snake.stdout)["items"]] == [
        "Cecilie",
        "Bjørn",
        "Anna",
    ]
    every = json.loads(cli("artists", "list", "--json", "--all", "--limit", "1").stdout)
    assert len(every["items"]) == 3
    assert every["next"] is None
    filtered = json.loads(cli("artists", "list", "--json", "--name-full", "CEC").stdout)
    assert [a["name"]["full"] for a in filtered["items"]] == ["Cecilie"]


def test_refusals_are_one_line_errors(cli: Cli) -> None:
    one_line_error(cli("artists", "create", "--data", '{"name": {}}'), contains="(422)")
    one_line_error(
        cli("still-images", "create", "--title-full", "x", "--year", "99999"), contains="year"
    )
    one_line_error(
        cli("artists", "get", "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"),
        contains="(404)",
    )
    as_json = cli("artists", "get", "--json", "nope")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stderr)["status"] in (404, 422)

    nothing = cli(
        "artists", "update", "bafyr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
    )
    assert nothing.exit_code == 2
    assert "nothing to change" in nothing.stderr
    bad_json = cli("artists", "create", "--data", "{not json")
    assert bad_json.exit_code == 2
    assert "not JSON" in bad_json.stderr
    bad_time = cli("artists", "get", "x", "--at", "2026-01-01T00:00:00")
    assert bad_time.exit_code == 2
    assert "no time zone" in bad_time.stderr


def test_a_moderator_hides_and_shows_with_update(
    cli: Cli, live_server: LiveServer, tmp_path: Path
) -> None:
    artist = create_artist(cli, "--name-full", "Seen", "--visibility", "public")
    one_line_error(cli("artists", "update", artist["id"], "--hidden"), contains="(403)")
    live_server.sign_in("moderator", username="mod")
    moderator = Cli(live_server.url, tmp_path / "mod")
    login = moderator("login", "--username", "mod", "--password-stdin", input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output

    hidden = moderator("artists", "update", artist["id"], "--hidden", "--if-match", artist["cid"])
    assert hidden.exit_code == 0, hidden.output
    assert "visibility  public, hidden" in hidden.stdout
    assert '"hidden"' not in hidden.stdout  # metadata, not content
    listed = cli("artists", "list").stdout.splitlines()[1]  # the owner still sees it
    assert listed.startswith(artist["id"])
    assert "  public, hidden  " in listed
    shown = json.loads(moderator("artists", "update", "--json", artist["id"], "--no-hidden").stdout)
    assert (shown["hidden"], shown["cid"], shown["n"]) == (False, artist["cid"], 1)
    assert "visibility  public\n" in cli("artists", "get", artist["id"]).stdout


def test_help_lists_the_generated_groups(cli: Cli) -> None:
    result = cli("--help")
    for group in ("artists", "image-files", "still-images", "image-releases"):
        assert f"  {group} " in result.stdout
    sub = cli("still-images", "--help")
    for command in ("list", "get", "create", "update", "delete", "versions", "revert"):
        assert f"  {command} " in sub.stdout


def test_still_image_creators_from_options(cli: Cli) -> None:
    painter = create_artist(cli, "--name-full", "Maren Økland")
    printer = create_artist(cli, "--name-full", "Ola Berg")
    made = cli("still-images", "create", "--json", "--title-full", "Harbour",
               "--creators", f"{painter['id']}:painter",
               "--creators", f"{printer['id']}:printer: second state")  # fmt: skip
    assert made.exit_code == 0, made.output
    work = json.loads(made.stdout)
    assert work["creators"] == [
        {"artist": painter["id"], "role": "painter"},
        {"artist": printer["id"], "role": "printer: second state"},  # the last part keeps ':'
    ]
    updated = cli("still-images", "update", "--json", work["id"],
                  "--creators", f"{printer['id']}:photographer")  # fmt: skip
    assert json.loads(updated.stdout)["creators"] == [
        {"artist": printer["id"], "role": "photographer"}
    ]
    cleared = cli("still-images", "update", "--json", work["id"], "--clear", "creators")
    assert json.loads(cleared.stdout).get("creators") in (None, [])
    tagged = cli("still-images", "update", "--json", work["id"], "--tags", "a")
    assert tagged.exit_code == 0, tagged.output
    kebab = cli("still-images", "update", "--json", work["id"], "--clear", "image-files")
    assert kebab.exit_code == 0, kebab.output
    bad = cli("still-images", "create", "--title-full", "X", "--creators", painter["id"])
    assert bad.exit_code == 2
    assert "is not ARTIST:ROLE" in bad.stderr


def test_a_mistyped_version_cid_is_named_before_anything_is_sent(cli: Cli) -> None:
    artist = create_artist(cli, "--name-full", "Cid Checked")
    version = artist["cid"]
    assert version.startswith("bafyr4i")
    file_cid = "bafkr4ibsrhoak26obwqomtsimxh2ttjp6raff4lt3532zkvjkbka225m3u"
    for args, option in (
        (("get", artist["id"], "--version", version[:-1]), "--version"),
        (("update", artist["id"], "--name-full", "X", "--if-match", "Qm" + "a" * 44), "--if-match"),
        (("delete", artist["id"], "--if-match", version.upper()), "--if-match"),
        (("revert", artist["id"], "--to", file_cid), "--to"),
    ):
        result = cli("artists", *args)
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '{option}'" in result.stderr, result.stderr
        assert "Traceback" not in result.output
    assert "CIDv0" in cli("artists", "get", artist["id"], "--version", "Qm" + "a" * 44).stderr
    assert "record block" in cli("artists", "revert", artist["id"], "--to", file_cid).stderr
    # the artist is as it was: nothing was sent
    shown = cli("artists", "get", "--json", artist["id"], "--version", version)
    assert shown.exit_code == 0, shown.output
