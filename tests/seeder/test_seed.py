"""``mstack seed`` against a real server (uvicorn on loopback, its job worker running), run
as the real command in its own process: what it makes, who owns it, who may see and change
it, that a second run adds nothing and that ``--reset`` removes what it made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mcore.settings import DEFAULT_ALLOWED_TYPES, Settings
from mstack_client import Client
from mstack_client.errors import Forbidden, Gone, NotFound
from seeder.accounts import DEMO_ACCOUNTS
from seeder.plan import demo_plan
from tests.apphelpers import fast
from tests.conftest import FAST_PASSWORDS, LiveServer
from tests.seeder.test_media import GOLDEN as GOLDEN_FILES

# Hard-coded: the content CIDs of the demo's image files (seed 0). They link only file CIDs,
# so they are the same on every machine; records that link other records hold ids (the CID
# of a first version, which has a nonce) and differ from run to run by design.
GOLDEN_IMAGE_FILE_CONTENTS = [
    "bafyr4ia3rva53bbpbiwdmbxzc2jfxkg6jwidukfx4ziybsvjfzmm46g73q",
    "bafyr4ia5d4bzth4bcqwsn7dqo37cpttunojjnqzaiw5iir6akyr6owjjye",
    "bafyr4ia6wtoo72manxpe6hzz5rkiq6rtiu2ucihndn7lgsv5kczlhve25m",
    "bafyr4iak7rkp32c3xdp7tgd7qu4qwcpivbp4w7bko7bq2qaldnfo4kjl7i",
    "bafyr4ialjr37mldcpk7xpohapkhx6gxlxtwgsr5y3q55arpzqgfbbqnom4",
    "bafyr4iaq2yd6nehblta7tjgz4sistac4ogiuy7ehkbnpjxt75elua6clcm",
    "bafyr4iaqv3uzjni3bi5szed54egcdpirygsnxbub3njev4efx4bcaqosa4",
    "bafyr4ib53nmer4eyjggolngrygbh3btxi26sv4t2oznwp4sfnsqljufh4y",
    "bafyr4ib72cz7r2zksrdmvrdgvghc7v6r7qv6jarf4qau2g6cgajblnpnsm",
    "bafyr4ic2vikhhvgi323yj4bnywrpoqbcvg7vlfg7guqf4oe57gxfcw4qaq",
    "bafyr4ic53x3z7eb5brdbsowz6vzjle3iuckjjtej7zwixt4ubzpie5njje",
    "bafyr4id62ecg5xjf4u7pad5kmu23daoblyudvbqow5sbpl2ao7dh3vstbu",
    "bafyr4ie53vyzleto6plmufjcglymdkglnsdjostgh5krl6aqgfyo32wvv4",
    "bafyr4ielixmfkzstkzubnx6dqpgtfq5xmmhdxkw7zp4yfv34v7khsn77f4",
    "bafyr4iet4kyq5q4bewzutjx3rytevqcrn3wzav5uktap6mtnokdy7nn36m",
    "bafyr4if6rvizs7aaabnddc47ltt427qvicm6ocmml5i3en33pyv6srbkmi",
    "bafyr4ifamvq46hmgfmni5isb2bozslxtkg2v6xoeuiand7yncdafrdpt6q",
    "bafyr4ifdne2bn6b3uaf3lc2yuqqpte44thuq2h4ljv4gzavgzcwitidcvi",
    "bafyr4ifvnra6pmbmpq6mntasonefz33x2c53hb5gvsmz5pu5xdx6enisnm",
    "bafyr4iglgmkhmxnfpf3j3clenlruziu6kzzpb3jvhvt2jwpdd5ojtfuova",
    "bafyr4igoojqwlee24xrwqb4pcrqh46k7waycckwqarwh57anredbnimb7u",
    "bafyr4igvk5342dv3crrq46uu43gc7q7mqb74cktxjp2ptrf5d4wiv7irjq",
    "bafyr4ihlwvwnjthkeeu2lnotlfxvvrqqp2bcgrmzxh6ganc6ooycsnpf2i",
    "bafyr4ihwroile7wz4y3u7x2ei3s7njcf3cmi7gvznfv5jvh42h7xztimda",
]

PLANNED = {"image_file": 24, "artist": 6, "still_image": 12, "image_release": 3}
EDITS = sum(len(r.edits) for r in demo_plan(0).records)


@pytest.fixture
def backend() -> str:
    """SQLite only: the seeder is a client of the HTTP API, and the API's tests already run
    on both databases; a seeding run takes about twenty seconds."""
    return "sqlite"


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env |= {
        "MSTACK_DATA_DIR": str(settings.data_dir),
        "MSTACK_DATABASE_URL": settings.db_url,
        **{f"MSTACK_{k.upper()}": str(v) for k, v in FAST_PASSWORDS.items()},
        **extra,
    }
    return env


def mstack(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The ``mstack`` command in its own process, configured like the server."""
    launch = "from mstack_client._launch import main; main()"
    return subprocess.run(
        [sys.executable, "-c", launch, *args],
        env=_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def seed(server: LiveServer, *args: str) -> dict[str, Any]:
    done = mstack(server.settings, "seed", "--server", server.url, "--json", *args)
    assert done.returncode == 0, done.stderr
    assert "files 34/34" in done.stderr  # progress goes to standard error
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


@pytest.fixture
def seeded_server(settings: Settings) -> Iterator[LiveServer]:
    """A live server that processes its uploads and accepts only the default types."""
    jobs = settings.jobs.model_copy(update={"embedded_worker": True})
    live = fast(settings).model_copy(
        update={"jobs": jobs, "allowed_content_types": list(DEFAULT_ALLOWED_TYPES)}
    )
    server = LiveServer(live)
    server.start()
    yield server
    server.stop()


def client_as(server: LiveServer, username: str) -> Client:
    account = next(a for a in DEMO_ACCOUNTS if a.username == username)
    client = Client(server.url, use_env=False)
    client.login(username=username, password=account.password)
    return client


def mine(client: Client) -> dict[str, list[Any]]:
    return {
        "image_file": list(client.image_files.list(mine=True)),
        "artist": list(client.artists.list(mine=True)),
        "still_image": list(client.still_images.list(mine=True)),
        "image_release": list(client.image_releases.list(mine=True)),
    }


def test_seed_fills_adds_nothing_again_and_resets(seeded_server: LiveServer) -> None:
    server = seeded_server
    first = seed(server)

    # the summary: accounts with their passwords, files by kind, records by model
    assert first["accounts"] == [
        {"username": a.username, "email": a.email, "role": a.role, "password": a.password}
        for a in DEMO_ACCOUNTS
    ]
    assert [a["role"] for a in first["accounts"]] == [
        "admin",
        "moderator",
        "user",
        "user",
        "guest",
    ]
    assert first["files"] == {"broken": 3, "document": 3, "image": 24, "refused": 1, "video": 3}
    assert first["files_added"] == 33
    assert [r.split(":")[0] for r in first["refused"]] == ["refused-program.exe"]
    assert sum(first["file_states"].values()) == 33
    assert first["file_states"]["failed"] >= 2  # the broken video and PDF
    assert first["records"] == first["records_added"] == PLANNED
    assert first["versions_added"] == sum(PLANNED.values()) + EDITS

    # every account signs in with its documented password and has its role
    clients = {a.username: client_as(server, a.username) for a in DEMO_ACCOUNTS}
    try:
        for account in DEMO_ACCOUNTS:
            assert clients[account.username].me().role == account.role

        # every record is owned by the account that made it, as the plan says
        owned = {name: mine(clients[name]) for name in ("demo-alice", "demo-bob", "demo-admin")}
        ids = {name: clients[name].me().id for name in owned}
        for name, records in owned.items():
            for model, items in records.items():
                assert {r.owner_id for r in items} <= {ids[name]}
                planned = [r for r in demo_plan(0).records if r.owner == name and r.model == model]
                assert len(items) == len(planned), (name, model)

        # the files are the golden ones, each owned by its uploader
        files = {f.filename: f for name in owned for f in clients[name].iter_files(mine=True)}
        assert {n: f.cid for n, f in files.items()} == {
            n: c for n, c in GOLDEN_FILES.items() if n != "refused-program.exe"
        }
        contents = sorted(r.content_cid for rs in owned.values() for r in rs["image_file"])
        assert contents == GOLDEN_IMAGE_FILE_CONTENTS

        # history: the edited records have their versions
        alice = owned["demo-alice"]
        edited = [r for r in alice["still_image"] if r.n > 1]
        assert edited
        for record in edited:
            versions = list(clients["demo-alice"].still_images.versions(record))
            assert [v.n for v in versions] == list(range(record.n, 0, -1))

        # a user can neither change nor delete another's records and files
        theirs = alice["still_image"][0]
        bob = clients["demo-bob"]
        with pytest.raises((Forbidden, NotFound)):
            bob.still_images.update(theirs.id, description="mine now")
        with pytest.raises((Forbidden, NotFound)):
            bob.still_images.delete(theirs.id)
        alice_file = next(f for f in files.values() if f.owner_id == ids["demo-alice"])
        with pytest.raises((Forbidden, NotFound)):
            bob.delete_file(alice_file.id)

        # a guest reads public records only
        guest = clients["demo-guest"]
        seen = list(guest.still_images.list())
        stills = [r for rs in owned.values() for r in rs["still_image"]]
        public = [r for r in stills if r.visibility == "public"]
        private = [r for r in stills if r.visibility != "public"]
        assert public
        assert private
        assert {r.id for r in seen} == {r.id for r in public}
        with pytest.raises(NotFound):
            guest.still_images.get(private[0].id)
        with pytest.raises((Forbidden, NotFound)):
            guest.artists.create(name={"full": "A guest"})

        # an admin reads and changes another's private record
        admin = clients["demo-admin"]
        others = [r for r in private if r.owner_id != ids["demo-admin"]]
        target = others[0] if others else theirs
        assert admin.still_images.get(target.id).content_cid == target.content_cid
        changed = admin.still_images.update(target.id, description="Checked by the admin.")
        assert changed.n == target.n + 1

        # a second run adds nothing
        again = seed(server)
        assert again["files_added"] == 0
        assert again["records"] == PLANNED
        assert again["records_added"] == dict.fromkeys(PLANNED, 0)
        assert again["versions_added"] == 0
        assert {n: [r.id for r in rs] for n, rs in mine(clients["demo-alice"]).items()} == {
            n: [r.id for r in rs] for n, rs in alice.items()
        }

        # --reset removes what it made (tombstones, trash), then seeds anew
        reset = seed(server, "--reset")
        assert reset["removed"] == {**PLANNED, "file": 33}
        assert reset["records_added"] == PLANNED
        assert reset["files_added"] == 33
        with pytest.raises((Gone, NotFound)):
            clients["demo-alice"].still_images.get(theirs.id)
        assert any(
            f.id == alice_file.id for f in clients["demo-alice"].iter_files(mine=True, trashed=True)
        )
        fresh = mine(clients["demo-alice"])
        assert {r.id for r in fresh["still_image"]}.isdisjoint(r.id for r in alice["still_image"])
        assert sorted(r.content_cid for r in fresh["image_file"]) == sorted(
            r.content_cid for r in alice["image_file"]
        )
    finally:
        for client in clients.values():
            client.close()


PRODUCTION = {
    "MSTACK_MODE": "production",
    "MSTACK_TOKEN_KEYS": json.dumps({"dev": "t" * 48}),
    "MSTACK_LINK_KEYS": json.dumps({"dev": "l" * 48}),
}


def test_demo_accounts_are_refused_in_production(settings: Settings) -> None:
    done = mstack(settings, "admin", "demo-accounts", **PRODUCTION)
    assert done.returncode == 1
    assert "refused in production mode" in done.stderr
    seeding = mstack(settings, "seed", "--server", "http://127.0.0.1:9", **PRODUCTION)
    assert seeding.returncode == 1
    assert "the demo accounts were not made" in seeding.stderr
    assert "refused in production mode" in seeding.stderr
    listed = mstack(settings, "admin", "list-users")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == ""
