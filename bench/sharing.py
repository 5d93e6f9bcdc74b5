"""Listing a folder reached through a group share, against its owner's same list (issue #15).

    .venv/bin/python -m bench.sharing [--files 100000] [--shares 10000] [--folder-files 10000]
        [--samples 300] [--list-samples 100] [--walks 2] [--pages 40] [--backend sqlite|postgresql]

A fresh `mstack serve` (one process, its worker off) on a fresh database. Over HTTP, as any
client would: an admin (the first account), an owner, a studio lead and a recipient; the
lead's group with the recipient as a member; in the owner's space `A/B/C/T` (four folders
below the root) and a share of `A` with the group at `view`, so the recipient reaches `T`
through a group share three folders above it. Then, straight into the tables (set-up, not
what is measured), rows as the ops write them: `--folder-files` files in `T`, the rest of
`--files` spread over a thousand other accounts' folders and a few hundred groups' spaces
(newest-first ids interleaved, 1% public), and `--shares` shares in all (files and
folders, to accounts and groups; some revoked or expired; about 150 to each of the owner
and the recipient, directly or through their groups).

Measured over loopback HTTP (keep-alive), owner and recipient one request after the other
so both see the same machine, each the p50 and p99 of:
- `GET /api/v1/folders/{T}/children?limit=50`, the first page;
- the same, paging on through the whole folder with cursors (`--walks` walks);
- `GET /api/v1/files?limit=50` (the caller's readable files), the first page, and paging on
  for `--pages` pages;
- `GET /api/v1/shares?with=me`, the first page.
Target (issue #15): the recipient's folder pages p99 under 20 ms, within 1.5x the owner's.
`--backend postgresql` uses a throwaway database on the machine's PostgreSQL
(`MSTACK_BENCH_POSTGRES`, default `postgresql://postgres@127.0.0.1:5432`), dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._harness import Caller, mstack_server, workdir

TARGET_P99_MS = 20.0
TARGET_RATIO = 1.5
PG_SERVER = os.environ.get("MSTACK_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
OTHER_USERS = 1000
GROUPS = 300


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


# -- the part made over HTTP ---------------------------------------------------------------


# -- the part written straight into the tables ---------------------------------------------


def _settings(data: Path, database_url: str | None) -> Any:
    from mcore.settings import Settings

    return Settings(data_dir=data, database_url=database_url)


def _cids(n: int) -> Iterator[str]:
    from mcore.cid import file_cid

    for i in range(n):
        yield file_cid(f"bench sharing file {i}\n".encode())


async def _bulk(
    data: Path,
    database_url: str | None,
    *,
    owner: str,
    recipient: str,
    target: str,
    owner_folders: list[str],
    files: int,
    folder_files: int,
    shares: int,
    seed: int,
) -> dict[str, int]:
    """Fill the instance up to ``files`` files and ``shares`` shares, as the ops would."""
    from sqlalchemy import insert, select, text
    from sqlmodel import col

    from mcore.auth.models import User
    from mcore.db import Database
    from mcore.files.models import File
    from mcore.folders.models import Folder
    from mcore.folders.paths import child_path, sibling_key
    from mcore.ids import new_id
    from mcore.sharing.models import Group, GroupMember, Share

    rng = random.Random(seed)
    started = time.monotonic()
    db = Database(_settings(data, database_url))
    now = datetime.now(UTC)

    def when() -> datetime:
        return datetime.now(UTC)

    async with db.engine.begin() as conn:
        password_hash = (
            await conn.execute(select(col(User.password_hash)).where(col(User.id) == owner))
        ).scalar_one()
        paths = dict(
            (
                await conn.execute(
                    select(col(Folder.id), col(Folder.path)).where(
                        col(Folder.id).in_([target, *owner_folders])
                    )
                )
            ).all()
        )

    users: list[dict[str, Any]] = []
    folders: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    file_rows: list[dict[str, Any]] = []
    share_rows: list[dict[str, Any]] = []
    # where each account's files go: (folder id, uploader); a user's own folders
    places: dict[str, list[str]] = {}
    folder_owner: dict[str, str] = {}

    def folder(
        *, name: str, space: str, owner_id: str, group_id: str | None, parent: str | None
    ) -> str:
        folder_id = new_id()
        at = when()
        folders.append(
            {
                "id": folder_id,
                "name": name,
                "name_key": sibling_key(name),
                "space": space,
                "owner_id": owner_id,
                "group_id": group_id,
                "parent_id": parent,
                "path": child_path(paths[parent] if parent else None, folder_id),
                "sibling_scope": parent or f"root:{space}:{group_id or owner_id}",
                "created_at": at,
                "updated_at": at,
                "deleted_at": None,
                "deleted_with": None,
            }
        )
        paths[folder_id] = folders[-1]["path"]
        folder_owner[folder_id] = owner_id
        return folder_id

    others = []
    for i in range(OTHER_USERS):
        user_id = new_id()
        at = when()
        name = f"artist{i:04d}"
        users.append(
            {
                "id": user_id,
                "email": f"{name}@example.org",
                "email_key": f"{name}@example.org",
                "username": name,
                "username_key": name,
                "phone": None,
                "display_name": None,
                "role": "user",
                "disabled": False,
                "password_hash": password_hash,
                "created_at": at,
                "updated_at": at,
                "last_login_at": None,
            }
        )
        others.append(user_id)
        root = folder(name="My files", space="user", owner_id=user_id, group_id=None, parent=None)
        mine = [root]
        for j in range(rng.randint(2, 8)):  # levels 1-3 below the root
            parent = rng.choice([f for f in mine if len(paths[f]) <= 27 * 3])  # levels 0-2
            mine.append(
                folder(
                    name=f"folder {j}",
                    space="user",
                    owner_id=user_id,
                    group_id=None,
                    parent=parent,
                )
            )
        places[user_id] = mine

    group_members: dict[str, list[str]] = {}
    group_folders: dict[str, list[str]] = {}
    recipient_groups = set(rng.sample(range(GROUPS), 4))
    owner_groups = set(rng.sample(range(GROUPS), 4))
    for i in range(GROUPS):
        gid, at, head = new_id(), when(), rng.choice(others)
        root = folder(name="Group files", space="group", owner_id=head, group_id=gid, parent=None)
        groups.append(
            {
                "id": gid,
                "name": f"Studio {i:03d}",
                "name_key": f"studio {i:03d}",
                "owner_id": head,
                "system": None,
                "root_id": root,
                "created_at": at,
                "deleted_at": None,
            }
        )
        crew = [head, *rng.sample([u for u in others if u != head], rng.randint(1, 9))]
        if i in recipient_groups:
            crew.append(recipient)
        if i in owner_groups:
            crew.append(owner)
        group_members[gid] = crew
        for k, user_id in enumerate(crew):
            role = "owner" if k == 0 else rng.choice(["staff", "member", "member", "member"])
            members.append(
                {
                    "group_id": gid,
                    "user_id": user_id,
                    "role": role,
                    "added_by": head,
                    "created_at": at,
                }
            )
        mine = [root]
        for j in range(rng.randint(1, 4)):
            mine.append(
                folder(
                    name=f"project {j}",
                    space="group",
                    owner_id=rng.choice(crew),
                    group_id=gid,
                    parent=rng.choice(mine),
                )
            )
        group_folders[gid] = mine

    # Files, newest-first ids interleaved: the owner's folder gets its share of every stretch.
    cids = _cids(files)
    group_ids = list(group_folders)
    in_target = set(rng.sample(range(files), folder_files))
    owner_elsewhere = set(rng.sample([i for i in range(files) if i not in in_target], 500))
    for i in range(files):
        if i in in_target:
            folder_id, uploader = target, owner
        elif i in owner_elsewhere:
            folder_id, uploader = rng.choice(owner_folders), owner
        elif rng.random() < 0.15:
            gid = rng.choice(group_ids)
            folder_id, uploader = rng.choice(group_folders[gid]), rng.choice(group_members[gid])
        else:
            uploader = rng.choice(others)
            folder_id = rng.choice(places[uploader])
        at = when()
        file_rows.append(
            {
                "id": new_id(),
                "cid": next(cids),
                "owner_id": uploader,
                "filename": f"IMG_{rng.randrange(10**6):06d}.jpg",
                "visibility": "public" if rng.random() < 0.01 else "private",
                "size": rng.randrange(20_000, 8_000_000),
                "content_type": "image/jpeg",
                "declared_type": "image/jpeg",
                "status": "stored",
                "job_id": None,
                "hidden": False,
                "meta": {},
                "created_at": at,
                "updated_at": at,
                "deleted_at": None,
                "folder_id": folder_id,
                "deleted_with": None,
            }
        )

    # Shares: about 150 each to the owner and the recipient (directly or through their
    # groups), the rest between other accounts; some revoked, some expired.
    others_files = [(r["id"], r["owner_id"]) for r in file_rows if r["owner_id"] != owner]
    others_folders = [(f["id"], f["owner_id"]) for f in folders if f["parent_id"] is not None]
    all_groups = [g["id"] for g in groups]
    taken: set[tuple[str, str, str]] = set()
    made = 1  # the share of A with the lead's group, made over HTTP
    while made < shares:
        kind = "file" if rng.random() < 0.6 else "folder"
        object_id, maker = rng.choice(others_files if kind == "file" else others_folders)
        roll = rng.random()
        to_user: str | None = None
        to_group: str | None = None
        if roll < 0.012:
            to_user = recipient
        elif roll < 0.024:
            to_user = owner
        elif roll < 0.75:
            to_user = rng.choice(others)
        else:
            to_group = rng.choice(all_groups)
        recipient_id = to_user or to_group or ""
        if to_user == maker or (kind, object_id, recipient_id) in taken:
            continue
        taken.add((kind, object_id, recipient_id))
        at = when()
        state = rng.random()
        share_rows.append(
            {
                "id": new_id(),
                "object_type": kind,
                "object_id": object_id,
                "user_id": to_user,
                "group_id": to_group,
                "level": rng.choice([1, 1, 1, 2, 3]),
                "created_by": maker,
                "created_at": at,
                "updated_at": at,
                "expires_at": (
                    now - timedelta(days=1)
                    if state < 0.05
                    else now + timedelta(days=30)
                    if state < 0.15
                    else None
                ),
                "revoked_at": at if 0.15 <= state < 0.25 else None,
            }
        )
        made += 1

    print(f"rows made in {time.monotonic() - started:.1f} s", flush=True)
    async with db._write_engine.begin() as conn:  # one transaction (BEGIN IMMEDIATE)
        for table, rows in (
            (User, users),
            (Group, groups),
            (GroupMember, members),
            (Folder, folders),
            (File, file_rows),
            (Share, share_rows),
        ):
            for start in range(0, len(rows), 2000):
                await conn.execute(insert(table), rows[start : start + 2000])
    if not db.is_sqlite:  # autovacuum would analyse tables grown this much; do it now
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    await db.dispose()
    return {
        "accounts": len(users) + 4,
        "groups": len(groups) + 1,
        "folders": len(folders) + len(owner_folders) + 1,
        "files": len(file_rows),
        "shares": len(share_rows) + 1,
    }


# -- timing ----------------------------------------------------------------------------------


def alternate(
    owner: Caller, recipient: Caller, request: Callable[[Caller], None], samples: int
) -> dict[str, list[float]]:
    """Time ``request`` ``samples`` times for each caller, one after the other."""
    out: dict[str, list[float]] = {"owner": [], "recipient": []}
    for who in (owner, recipient):
        request(who)  # warm
    for _ in range(samples):
        for role, who in (("owner", owner), ("recipient", recipient)):
            start = time.perf_counter()
            request(who)
            out[role].append(time.perf_counter() - start)
    return out


def walk(
    who: Caller, path: str, *, pages: int | None, expect: int | None = None, **params: Any
) -> tuple[list[float], int]:
    """Page through a list with cursors: each page's time, and how many items came."""
    times, count, cursor = [], 0, None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        start = time.perf_counter()
        page = who.get(path, **query)
        times.append(time.perf_counter() - start)
        count += (
            len(page.get("items", [])) + len(page.get("files", [])) + len(page.get("folders", []))
        )
        cursor = page["next"]
        if cursor is None or (pages is not None and len(times) >= pages):
            break
    if expect is not None and count != expect:
        raise RuntimeError(f"{who.username} saw {count} items through {path}, not {expect}")
    return times, count


def run(args: argparse.Namespace, data: Path, database_url: str | None) -> list[tuple[str, Any]]:
    env = {"MSTACK_JOBS__EMBEDDED_WORKER": "false"}
    if database_url:
        env["MSTACK_DATABASE_URL"] = database_url
    with mstack_server(data, **env) as server:
        Caller(server.url, "benchadmin")  # the first account, an admin: left out of it
        owner = Caller(server.url, "owner")
        lead = Caller(server.url, "lead")
        recipient = Caller(server.url, "recipient")
        group = lead.post("/api/v1/groups", {"name": "Bench studio"})
        lead.post(
            f"/api/v1/groups/{group['id']}/members",
            {"username": recipient.username, "role": "member"},
        )
        (root,) = owner.get("/api/v1/folders")
        recipient.get("/api/v1/folders")
        chain = [root["id"]]
        for name in ("A", "B", "C", "T"):
            chain.append(
                owner.post("/api/v1/folders", {"name": name, "parent_id": chain[-1]})["id"]
            )
        target = chain[-1]
        owner.post(
            "/api/v1/shares",
            {
                "object_type": "folder",
                "object_id": chain[1],
                "group_id": group["id"],
                "level": "view",
            },
        )
        started = time.monotonic()
        counts = asyncio.run(
            _bulk(
                data,
                database_url,
                owner=owner.id,
                recipient=recipient.id,
                target=target,
                owner_folders=chain[:-1],
                files=args.files,
                folder_files=args.folder_files,
                shares=args.shares,
                seed=15,
            )
        )
        print(
            f"made {counts} in {time.monotonic() - started:.0f} s;"
            f" the folder holds {args.folder_files} files"
        )
        children = f"/api/v1/folders/{target}/children"
        rows: list[tuple[str, Any]] = []
        rows.append(
            (
                "children, first page",
                alternate(owner, recipient, lambda c: c.get(children, limit=50), args.samples),
            )
        )
        deep: dict[str, list[float]] = {"owner": [], "recipient": []}
        for _ in range(args.walks):
            for role, who in (("owner", owner), ("recipient", recipient)):
                deep[role] += walk(who, children, pages=None, expect=args.folder_files, limit=50)[0]
        rows.append(("children, paging on", deep))
        rows.append(
            (
                "files, first page",
                alternate(
                    owner, recipient, lambda c: c.get("/api/v1/files", limit=50), args.list_samples
                ),
            )
        )
        paged: dict[str, list[float]] = {"owner": [], "recipient": []}
        seen: dict[str, int] = {}
        for role, who in (("owner", owner), ("recipient", recipient)):
            paged[role], seen[role] = walk(who, "/api/v1/files", pages=args.pages, limit=50)
        rows.append((f"files, paging on ({args.pages} pages)", paged))
        mine = {
            role: who.get("/api/v1/shares", **{"with": "me", "limit": 200})
            for role, who in (("owner", owner), ("recipient", recipient))
        }
        rows.append(
            (
                "shares with me, first page",
                alternate(
                    owner,
                    recipient,
                    lambda c: c.get("/api/v1/shares", **{"with": "me", "limit": 50}),
                    args.list_samples,
                ),
            )
        )
        print(
            "shares with me (first 200): owner "
            f"{len(mine['owner']['items'])}, recipient {len(mine['recipient']['items'])}"
        )
        for who in (owner, lead, recipient):
            who.http.close()
    return rows


def report(rows: list[tuple[str, dict[str, list[float]]]], args: argparse.Namespace) -> None:
    print(
        f"\n{args.files} files, {args.shares} shares, a folder of {args.folder_files};"
        f" {args.backend}; one server process"
    )
    print(
        f"{'read':<28} {'owner p50':>10} {'p99':>8} {'recip. p50':>11} {'p99':>8}"
        f" {'ratio p50':>10} {'p99':>6}  target"
    )
    for name, times in rows:
        o50, o99 = percentiles(times["owner"])
        r50, r99 = percentiles(times["recipient"])
        target = ""
        if name.startswith("children"):
            met = r99 < TARGET_P99_MS and r99 / o99 <= TARGET_RATIO
            target = (
                f"p99 < {TARGET_P99_MS:.0f} ms, <= {TARGET_RATIO}x: {'met' if met else 'MISSED'}"
            )
        print(
            f"{name:<28} {o50:>8.2f}ms {o99:>6.2f}ms {r50:>9.2f}ms {r99:>6.2f}ms"
            f" {r50 / o50:>9.2f}x {r99 / o99:>5.2f}x  {target}"
        )


def _pg(sql: str) -> None:
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--shares", type=int, default=10_000)
    parser.add_argument("--folder-files", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument(
        "--list-samples", type=int, default=100, help="samples of the /files and /shares pages"
    )
    parser.add_argument("--walks", type=int, default=2)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    data = workdir("sharing") / "data"
    data.mkdir(parents=True)
    if args.backend == "sqlite":
        rows = run(args, data, None)
    else:
        name = f"mstack_bench_sharing_{os.getpid()}"
        _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _pg(f"CREATE DATABASE {name}")
        try:
            rows = run(args, data, f"postgresql+asyncpg://{PG_SERVER.split('://')[1]}/{name}")
        finally:
            _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    report(rows, args)


if __name__ == "__main__":
    main()
