"""The demo profile's plan: a pure function of the seed, and the README's demo logins are
the accounts ``mstack seed`` makes."""

import re
from pathlib import Path

from seeder.accounts import DEMO_ACCOUNTS
from seeder.plan import OWNERS, demo_plan

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()

# Hard-coded: the names the plan gives for seed 0 (its artists and works).
GOLDEN_ARTISTS = [
    "Maren Haugen",
    "Jonas Lindqvist",
    "Collective Bryggen",
    "Aksel Berg",
    "Halvor Berg",
    "Workshop Laksevåg",
]


def test_the_same_seed_gives_the_same_plan() -> None:
    first, second = demo_plan(0), demo_plan(0)
    assert first == second
    assert [r.key for r in first.records if r.model == "artist"] == GOLDEN_ARTISTS
    other = demo_plan(1)
    assert [r.key for r in other.records if r.model == "artist"] != GOLDEN_ARTISTS


def test_the_plan_covers_every_model_owner_and_visibility() -> None:
    plan = demo_plan(0)
    for model in ("image_file", "artist", "still_image", "image_release"):
        records = [r for r in plan.records if r.model == model]
        assert {r.owner for r in records} == set(OWNERS), model
        assert {r.public for r in records} == {True, False}, model
    assert sum(1 for r in plan.records if r.edits) >= 6
    keys = [(r.model, r.key) for r in plan.records]
    assert len(keys) == len(set(keys))


def test_a_record_links_only_what_comes_before_it_and_its_owner_has() -> None:
    plan = demo_plan(0)
    made: dict[tuple[str, str], str] = {}
    files = {f.medium.name: f.owner for f in plan.files}

    def refs(value: object) -> list[tuple[str, str]]:
        if isinstance(value, tuple):
            return [value]  # type: ignore[list-item]
        if isinstance(value, list):
            return [x for v in value for x in refs(v)]
        if isinstance(value, dict):
            return [x for v in value.values() for x in refs(v)]
        return []

    for r in plan.records:
        for kind, key in refs([r.content, *r.edits]):
            owner = files[key] if kind == "file" else made[(kind, key)]
            assert owner == r.owner, (r.model, r.key, kind, key)
        made[(r.model, r.key)] = r.owner


def test_the_readme_lists_the_demo_logins() -> None:
    section = README.split("## Demo data", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| `([^`]+)` \|$", section, re.M)
    assert rows == [(a.username, a.role, a.password) for a in DEMO_ACCOUNTS]
    assert all(a.email == f"{a.username}@example.org" for a in DEMO_ACCOUNTS)
    assert "mstack seed" in section
