"""The scale profile, small: ``mstack seed --profile scale`` against a real server makes the
planned records and files as its three accounts, with links to what they made, and a
second run adds nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from mstack_client import Client
from mstack_client.cid import file_cid
from mstack_client.errors import ApiError
from seeder.accounts import SCALE_ACCOUNTS
from seeder.scale import plan_counts, small_png
from tests.conftest import LiveServer
from tests.seeder.test_seed import mstack


@pytest.fixture
def backend() -> str:
    """SQLite only, as for the demo profile (tests/seeder/test_seed.py)."""
    return "sqlite"


def test_plan_counts_add_up() -> None:
    for records in (12, 120, 1001, 1_000_000):
        counts = plan_counts(records)
        assert sum(counts.values()) == records
        assert min(counts.values()) >= 1
    assert plan_counts(1_000_000) == {
        "image_file": 250_000,
        "artist": 100_000,
        "still_image": 550_000,
        "image_release": 100_000,
    }


def test_small_pngs_are_distinct_and_deterministic() -> None:
    made = [small_png(0, i) for i in range(50)]
    assert len({file_cid(p) for p in made}) == 50
    assert made == [small_png(0, i) for i in range(50)]
    assert small_png(1, 0) != made[0]
    with Image.open(io.BytesIO(made[0])) as image:
        assert (image.format, image.size) == ("PNG", (8, 8))


def test_scale_seeds_the_planned_records_and_resumes(live_server: LiveServer) -> None:
    args = ["seed", "--server", live_server.url, "--profile", "scale", "--json"]
    args += ["--records", "120", "--files", "6", "--concurrency", "4"]
    done = mstack(live_server.settings, *args)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["records"] == summary["records_added"] == plan_counts(120)
    assert summary["files"] == {"image": 6}
    assert summary["files_added"] == 6
    assert summary["records_per_second"] > 0
    assert [a["username"] for a in summary["accounts"]] == [a.username for a in SCALE_ACCOUNTS]
    assert "records-still_image 66/66" in done.stderr

    total = dict.fromkeys(plan_counts(120), 0)
    for account in SCALE_ACCOUNTS:
        with Client(live_server.url, use_env=False) as client:
            client.login(username=account.username, password=account.password)
            me = client.me().id
            files = {f.cid for f in client.iter_files(mine=True)}
            assert len(files) == 2
            images = list(client.image_files.list(mine=True))
            assert {i.file for i in images} <= files
            own_images = {i.id for i in images}
            for still in client.still_images.list(mine=True):
                assert still.owner_id == me
                assert set(still.image_files) <= own_images
            for name, attr in (
                ("image_file", "image_files"),
                ("artist", "artists"),
                ("still_image", "still_images"),
                ("image_release", "image_releases"),
            ):
                total[name] += len(list(getattr(client, attr).list(mine=True)))
    assert total == plan_counts(120)

    again = mstack(live_server.settings, *args)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["records"] == plan_counts(120)
    assert summary["records_added"] == dict.fromkeys(plan_counts(120), 0)
    assert summary["files_added"] == 0


MODEL_CALLS = {
    "image_file": "image_files",
    "artist": "artists",
    "still_image": "still_images",
    "image_release": "image_releases",
}


def test_ten_thousand_records_seed_once_and_read_in_pages(live_server: LiveServer) -> None:
    """The scale path at 10,000 records: the planned counts, a second run that adds
    nothing, and list pages (first, keyset-deep, filtered) and reads by id at that size."""
    args = ["seed", "--server", live_server.url, "--profile", "scale", "--json"]
    args += ["--records", "10000"]
    done = mstack(live_server.settings, *args)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    planned = plan_counts(10_000)
    assert summary["records"] == summary["records_added"] == planned
    assert summary["files"] == {"image": 100}
    assert summary["files_added"] == 100
    assert summary["versions_added"] == 10_000

    owners = []
    for account in SCALE_ACCOUNTS:
        client = Client(live_server.url, use_env=False)
        client.login(username=account.username, password=account.password)
        owners.append(client)
    try:
        total = dict.fromkeys(planned, 0)
        mine: dict[str, list[Any]] = {}
        for k, client in enumerate(owners):
            for model, attr in MODEL_CALLS.items():
                items = list(getattr(client, attr).list(mine=True, page_size=200))
                assert len({i.id for i in items}) == len(items)
                total[model] += len(items)
                if k == 0:
                    mine[model] = items
        assert total == planned

        # newest first, 50 a page, as another scale account sees them: its own and the
        # others' public ones; the cursor walks on with no repeats to the end
        stills = owners[1].still_images
        seen: list[str] = []
        page = stills.page(limit=50)
        assert len(page.items) == 50
        while True:
            seen += [s.id for s in page.items]
            times = [s.created_at for s in page.items]
            assert times == sorted(times, reverse=True)
            if page.next is None:
                break
            page = stills.page(limit=50, cursor=page.next)
        assert len(seen) == len(set(seen))
        own = planned["still_image"] // 3 + (1 if planned["still_image"] % 3 > 1 else 0)
        others = planned["still_image"] - own
        assert own + others // 2 <= len(seen) <= own + others  # about half of others' public

        # by id, each read equals what the list showed; filtered lists find what they hold
        sample = mine["still_image"][:: len(mine["still_image"]) // 20]
        for listed in sample:
            got = owners[0].still_images.get(listed.id)
            assert got == listed
            for tag in got.tags[:1]:
                found = owners[0].still_images.page(tags=tag, mine=True, limit=50)
                assert found.items
                assert all(tag in s.tags for s in found.items)
        release = mine["image_release"][0]
        assert owners[0].image_releases.get(release.id) == release
    finally:
        for client in owners:
            client.close()

    again = mstack(live_server.settings, *args)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["records"] == planned
    assert summary["records_added"] == dict.fromkeys(planned, 0)
    assert summary["files_added"] == 0


def test_scale_reset_removes_through_the_api_and_seeds_again(live_server: LiveServer) -> None:
    args = ["seed", "--server", live_server.url, "--profile", "scale", "--json"]
    args += ["--records", "120", "--files", "6"]
    first = json.loads(mstack(live_server.settings, *args).stdout)
    assert first["records_added"] == plan_counts(120)
    account = SCALE_ACCOUNTS[0]
    with Client(live_server.url, use_env=False) as client:
        client.login(username=account.username, password=account.password)
        before = list(client.still_images.list(mine=True))
        files_before = {f.id for f in client.iter_files(mine=True)}
    assert before
    assert len(files_before) == 2

    done = mstack(live_server.settings, *args, "--reset")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["removed"] == {**plan_counts(120), "file": 6}
    assert summary["records_added"] == plan_counts(120)
    assert summary["records"] == plan_counts(120)
    assert summary["files_added"] == 6

    with Client(live_server.url, use_env=False) as client:
        client.login(username=account.username, password=account.password)
        after = list(client.still_images.list(mine=True))
        assert len(after) == len(before)
        assert not {s.id for s in after} & {s.id for s in before}
        # the removed ones are tombstones with their history, as for any user's delete
        gone = before[0]
        with pytest.raises(ApiError) as refused:
            client.still_images.get(gone.id)
        assert refused.value.status == 410
        history = list(client.still_images.versions(gone.id))
        assert [v.n for v in history] == [2, 1]
        assert history[0].deleted
        trashed = {f.id for f in client.iter_files(mine=True, trashed=True)}
        assert files_before <= trashed
        assert not files_before & {f.id for f in client.iter_files(mine=True)}
