"""Record reads over HTTP at scale, next to the same reads as ops in-process and the same
queries run on the database directly.

    .venv/bin/python -m bench.records [--records 10000] [--samples 300] [--data DIR]

Seeds a fresh `mstack serve` with `mstack seed --profile scale --records N` (through the
SDK over HTTP, as any client: batches of 100 records, 4 requests in flight), then
measures, for one of the scale accounts, the p50 and p99 of: a still image by id, the
first list page of 50, a deep list page (keyset cursor), a search (title contains a word),
and a version-history read. Beside each, in the same run on the same database file: the
op itself called in this process (`mart._generated.ops`, its own engine: what the server
spends outside HTTP), and the SQL of the same read with `sqlite3` (the rows of the record,
its list table and its content block), the floor both sit on. `--data DIR` reuses a seeded
data folder (seeding resumes: only what is missing is made). Target (issue #14): p99
under 5 ms for get-by-id and a list page of 50 at 1M records on one server process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench._harness import ROOT, mstack_server, workdir
from mart._generated import ops
from mcore.access import Actor, Role
from mcore.db import Database
from mcore.settings import Settings
from seeder.accounts import SCALE_ACCOUNTS

TARGET_MS = 5.0
_ROW = (
    "SELECT r.id, r.head, r.n, r.owner_id, r.visibility, r.created_at, s.title_full, b.data"
    " FROM records r JOIN mart_still_images s ON s.id = r.id"
    " JOIN blocks b ON b.cid = r.content_cid"
)
_VISIBLE = (
    "r.type = 'mart/still_image' AND r.deleted_at IS NULL"
    " AND (r.owner_id = :me OR r.visibility = 'public')"
)
SQL = {
    "get by id": f"{_ROW} WHERE r.id = :id",
    "list first page": f"{_ROW} WHERE {_VISIBLE} ORDER BY r.created_at DESC, r.id DESC LIMIT 50",
    "list deep page": f"{_ROW} WHERE {_VISIBLE} AND (r.created_at, r.id) < (:at, :after)"
    " ORDER BY r.created_at DESC, r.id DESC LIMIT 50",
    "search": f"{_ROW} WHERE {_VISIBLE} AND s.title_full LIKE :like"
    " ORDER BY r.created_at DESC, r.id DESC LIMIT 50",
    "versions": "SELECT v.cid, v.n, v.content_cid, v.at FROM record_versions v"
    " WHERE v.object_id = :id ORDER BY v.n DESC LIMIT 50",
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def timed(fn: Callable[[], object], samples: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def timed_ops(
    data: Path, me: str, cases: list[tuple[str, Callable[..., Any]]], samples: int
) -> dict[str, list[float]]:
    """Each op case (``await case(session, actor)``) timed ``samples`` times in this
    process, a read session each, on the server's database file."""

    async def run() -> dict[str, list[float]]:
        db = Database(Settings(data_dir=data))
        actor = Actor(id=me, role=Role.user)
        out: dict[str, list[float]] = {}
        try:
            for name, case in cases:
                async with db.session() as session:
                    await case(session, actor)  # warm
                times = []
                for _ in range(samples):
                    start = time.perf_counter()
                    async with db.session() as session:
                        await case(session, actor)
                    times.append(time.perf_counter() - start)
                out[name] = times
        finally:
            await db.dispose()
        return out

    return asyncio.run(run())


def seed(server_url: str, data: Path, records: int) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    env["MSTACK_DATA_DIR"] = str(data)
    command = [str(ROOT / ".venv" / "bin" / "mstack"), "seed", "--server", server_url]
    done = subprocess.run(
        [*command, "--profile", "scale", "--records", str(records), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--data", type=Path, help="a data folder to reuse (seeding resumes)")
    args = parser.parse_args()
    data = args.data or workdir("records") / "data"
    data.mkdir(parents=True, exist_ok=True)
    rng = random.Random(14)
    rows = []
    with mstack_server(data, MSTACK_JOBS__EMBEDDED_WORKER="false") as server:
        started = time.monotonic()
        summary = seed(server.url, data, args.records)
        print(
            f"seeded {args.records} records in {time.monotonic() - started:.0f} s"
            f" ({summary['records_per_second']} records/s for those made in this run)"
        )
        account = SCALE_ACCOUNTS[0]
        login = httpx.post(
            f"{server.url}/api/v1/auth/login",
            json={"username": account.username, "password": account.password},
        )
        login.raise_for_status()
        token = login.json()["access_token"]
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})
        me = http.get("/api/v1/auth/me").json()["id"]

        url = "/api/v1/still-images"
        pages = [http.get(url, params={"limit": 50, "mine": True}).json()]
        while pages[-1]["next"] and len(pages) < 40:
            nxt = pages[-1]["next"]
            pages.append(http.get(url, params={"limit": 50, "mine": True, "cursor": nxt}).json())
        ids = [item["id"] for page in pages for item in page["items"]]
        deep = pages[-2]["next"] if len(pages) > 1 else None
        last = pages[-2]["items"][-1] if len(pages) > 1 else pages[0]["items"][-1]
        word = pages[0]["items"][0]["title"]["full"].split()[0].lower()

        db = sqlite3.connect(f"file:{data / 'mstack.db'}?mode=ro", uri=True)
        at = db.execute("SELECT created_at FROM records WHERE id = ?", (last["id"],)).fetchone()[0]

        def one(sql: str, **params: object) -> Callable[[], object]:
            return lambda: db.execute(sql, {"me": me, **params}).fetchall()

        def pick() -> str:
            return rng.choice(ids)

        cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
            (
                "get by id",
                lambda: http.get(f"{url}/{pick()}").raise_for_status(),
                lambda: db.execute(SQL["get by id"], {"id": pick()}).fetchall(),
            ),
            (
                "list first page",
                lambda: http.get(url, params={"limit": 50}).raise_for_status(),
                one(SQL["list first page"]),
            ),
            (
                "list deep page",
                lambda: http.get(
                    url, params={"limit": 50, "mine": True, "cursor": deep}
                ).raise_for_status(),
                one(SQL["list deep page"], at=at, after=last["id"]),
            ),
            (
                "search",
                lambda: http.get(url, params={"limit": 50, "title_full": word}).raise_for_status(),
                one(SQL["search"], like=f"%{word}%"),
            ),
            (
                "versions",
                lambda: http.get(f"{url}/{pick()}/versions").raise_for_status(),
                lambda: db.execute(SQL["versions"], {"id": pick()}).fetchall(),
            ),
        ]
        deep_cursor = deep

        async def op_get(session: Any, actor: Actor) -> object:
            return await ops.get_still_image(session, actor=actor, still_image_id=pick())

        async def op_first(session: Any, actor: Actor) -> object:
            return await ops.list_still_images(session, actor=actor, limit=50)

        async def op_deep(session: Any, actor: Actor) -> object:
            return await ops.list_still_images(
                session, actor=actor, limit=50, mine=True, cursor=deep_cursor
            )

        async def op_search(session: Any, actor: Actor) -> object:
            return await ops.list_still_images(session, actor=actor, limit=50, title_full=word)

        async def op_versions(session: Any, actor: Actor) -> object:
            return await ops.still_image_versions(session, actor=actor, still_image_id=pick())

        op_cases = [
            ("get by id", op_get),
            ("list first page", op_first),
            ("list deep page", op_deep),
            ("search", op_search),
            ("versions", op_versions),
        ]
        in_process = timed_ops(data, me, op_cases, args.samples)
        for name, over_http, direct in cases:
            rows.append(
                (
                    name,
                    percentiles(timed(over_http, args.samples)),
                    percentiles(in_process[name]),
                    percentiles(timed(direct, args.samples)),
                )
            )
        http.close()
        db.close()
    size = sum(f.stat().st_size for f in data.glob("mstack.db*"))
    print(f"\n{args.records} records, {args.samples} samples each, one server process;")
    print(f"database {size / 2**20:.0f} MiB (with its WAL)")
    print(
        f"{'read':<16} {'HTTP p50':>9} {'HTTP p99':>9} {'op p50':>9} {'op p99':>9}"
        f" {'SQL p50':>9} {'SQL p99':>9}  target (HTTP)"
    )
    for name, (h50, h99), (o50, o99), (d50, d99) in rows:
        target = (
            f"p99 < {TARGET_MS:.0f} ms: {'met' if h99 < TARGET_MS else 'missed'}"
            if name in ("get by id", "list first page")
            else ""
        )
        print(
            f"{name:<16} {h50:>7.2f}ms {h99:>7.2f}ms {o50:>7.2f}ms {o99:>7.2f}ms"
            f" {d50:>7.3f}ms {d99:>7.3f}ms  {target}"
        )


if __name__ == "__main__":
    main()
