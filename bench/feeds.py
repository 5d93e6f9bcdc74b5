"""A following feed: the newest 50 posts of 1,000 followed profiles among `--posts` posts,
against the same account's own profile feed of 50, measured in the same run (issue 17).

    .venv/bin/python -m bench.feeds [--posts 1000000] [--profiles 10000] [--follows 1000]
        [--samples 300]

A fresh `mstack serve` (one process, SQLite, its worker off). Over HTTP, as any client
would: a reader account with a profile, and a writer account with a profile that has 50
posts of its own (the baseline's feed; the limit a minute is raised for it). Then,
straight into the tables (set-up, not what is measured), rows as the ops write them:
`--posts` public posts (content blocks, records, their projection) spread at random over
`--profiles` profiles with times over the last year, and follows of `--follows` of those
profiles by the reader's profile.

Measured over loopback HTTP (keep-alive), one request after the other, each the p50 and
p99 of: `GET /api/v1/feeds/following/{reader}?limit=50` (first page, and the page after
it) and the baseline `GET /api/v1/feeds/profiles/{writer}?limit=50`. Target (issue 17):
the following feed's p99 under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench._harness import mstack_server, workdir

TARGET_P99_MS = 20.0
PASSWORD = "quiet harbour at dawn 42"


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


class Caller:
    def __init__(self, url: str, username: str) -> None:
        body = {"email": f"{username}@example.org", "username": username, "password": PASSWORD}
        httpx.post(f"{url}/api/v1/auth/register", json=body).raise_for_status()
        credentials = {"username": username, "password": PASSWORD}
        login = httpx.post(f"{url}/api/v1/auth/login", json=credentials)
        login.raise_for_status()
        token = login.json()["access_token"]
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300
        )
        self.id: str = self.ok(self.http.get("/api/v1/auth/me"))["id"]

    @staticmethod
    def ok(reply: httpx.Response) -> Any:
        if reply.status_code >= 400:
            raise RuntimeError(f"{reply.request.method} {reply.request.url}: {reply.text}")
        return reply.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.ok(self.http.post(path, json=body))

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.ok(self.http.patch(path, json=body))

    def get(self, path: str, **params: Any) -> Any:
        return self.ok(self.http.get(path, params=params))


async def _bulk(
    data: Path, *, reader_profile: str, posts: int, profiles: int, follows: int, seed: int
) -> None:
    """``posts`` public posts over ``profiles`` profiles, ``follows`` of them followed."""
    from multiformats import CID
    from sqlalchemy import insert

    from mcore.cid import record_cid
    from mcore.db import Database
    from mcore.records.encoding import encode
    from mcore.records.models import Block, Record
    from mcore.settings import Settings
    from msocial._generated.models import Post
    from msocial.social import Follow

    rng = random.Random(seed)
    db = Database(Settings(data_dir=data))
    now = datetime.now(UTC)
    authors = [record_cid(encode({"$type": "bench/profile", "i": i})) for i in range(profiles)]
    owners = [f"bench-owner-{i % 1000:04d}" for i in range(profiles)]
    followed = rng.sample(range(profiles), follows)
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(Follow),
            [
                {"follower_id": reader_profile, "followed_id": authors[i], "created_at": now}
                for i in followed
            ],
        )
    batch = 20_000
    for start in range(0, posts, batch):
        blocks, records, rows = [], [], []
        for n in range(start, min(posts, start + batch)):
            who = rng.randrange(profiles)
            content = encode(
                {
                    "$type": "msocial/post",
                    "profile": CID.decode(authors[who]),
                    "text": f"bench post {n}",
                }
            )
            content_cid = record_cid(content)
            first = record_cid(encode({"$type": "bench/version", "n": n}))
            at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            blocks.append({"cid": content_cid, "data": content})
            records.append(
                {
                    "id": first,
                    "type": "msocial/post",
                    "owner_id": owners[who],
                    "visibility": "public",
                    "hidden": False,
                    "head": first,
                    "n": 1,
                    "content_cid": content_cid,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            rows.append({"id": first, "profile": authors[who]})
        async with db.engine.begin() as conn:
            await conn.execute(insert(Block), blocks)
            await conn.execute(insert(Record), records)
            await conn.execute(insert(Post), rows)
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    await db.dispose()


def _time(call: Any, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def run(args: argparse.Namespace, data: Path) -> dict[str, list[float]]:
    env = {"MSTACK_JOBS__EMBEDDED_WORKER": "false", "MSTACK_SOCIAL__POSTS_PER_MINUTE": "100"}
    with mstack_server(data, **env) as server:
        Caller(server.url, "benchadmin")  # the first account, an admin: left out of it
        reader, writer = Caller(server.url, "reader"), Caller(server.url, "writer")
        mine = reader.post("/api/v1/profiles", {"handle": "reader", "display_name": "R"})
        theirs = writer.post("/api/v1/profiles", {"handle": "writer", "display_name": "W"})
        writer.patch(f"/api/v1/profiles/{theirs['id']}", {"visibility": "public"})
        made = writer.post(
            "/api/v1/posts/batch",
            {
                "items": [
                    {"profile": theirs["id"], "text": f"own {i}", "visibility": "public"}
                    for i in range(50)
                ]
            },
        )
        assert len(made["items"]) == 50
        started = time.monotonic()
        asyncio.run(
            _bulk(
                data,
                reader_profile=mine["id"],
                posts=args.posts,
                profiles=args.profiles,
                follows=args.follows,
                seed=17,
            )
        )
        print(f"set-up: {args.posts} posts in {time.monotonic() - started:.0f} s", flush=True)
        following = f"/api/v1/feeds/following/{mine['id']}"
        own = f"/api/v1/feeds/profiles/{theirs['id']}"
        first = reader.get(following, limit=50)
        assert len(first["items"]) == 50, len(first["items"])
        assert len(reader.get(own, limit=50)["items"]) == 50
        for _ in range(20):  # warm caches and connections
            reader.get(following, limit=50)
            reader.get(own, limit=50)
        return {
            "following feed, first 50": _time(
                lambda: reader.get(following, limit=50), args.samples
            ),
            "following feed, next 50": _time(
                lambda: reader.get(following, limit=50, cursor=first["next"]), args.samples
            ),
            "baseline: a profile's own feed of 50": _time(
                lambda: reader.get(own, limit=50), args.samples
            ),
        }


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    data = workdir("feeds") / "data"
    data.mkdir(parents=True)
    results = run(args, data)
    base = percentiles(results["baseline: a profile's own feed of 50"])
    print(f"{args.posts} posts, {args.profiles} profiles, {args.follows} followed (SQLite)")
    for name, samples in results.items():
        p50, p99 = percentiles(samples)
        print(
            f"{name:40} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
            f"  ({p50 / base[0]:.2f}x / {p99 / base[1]:.2f}x the baseline)"
        )
    worst = max(percentiles(results[k])[1] for k in results if k.startswith("following"))
    verdict = "met" if worst < TARGET_P99_MS else "NOT met"
    print(f"target: following feed p99 under {TARGET_P99_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
