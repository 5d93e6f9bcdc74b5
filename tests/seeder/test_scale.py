"""The scale profile, small: ``mstack seed --profile scale`` against a real server makes the
planned records and files as its three accounts, with links to what they made, and a
second run adds nothing."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from mstack_client import Client
from mstack_client.cid import file_cid
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
