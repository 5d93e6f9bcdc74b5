"""A following feed: the newest 50 posts of 1,000 followed profiles among `--posts` posts,
against the same account's own profile feed of 50, measured in the same run (issue 17).

    .venv/bin/python -m bench.feeds [--posts 1000000] [--profiles 10000] [--follows 1000]
        [--samples 300]

A fresh `mstack serve` (one process, SQLite, its worker off). Over HTTP, as any client
would: a reader account with a profile, and a writer account with a profile that has 50
posts of its own (the baseline's feed; the limit a minute is raised for it). Then,
straight into the tables with the standard `sqlite3` module (set-up, not what is
measured; 1,000,000 posts in about 90 s), rows as the ops write them: `--posts` public
posts (content and version blocks, records, first versions, their projection) spread at
random over `--profiles` profiles with times over the last year, and follows of
`--follows` of those profiles by the reader's profile. Seeded: each run makes the same
choices (authors, ages, nonces, follows); times count back from the start, so the
version CIDs differ from run to run.

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

from bench._harness import Caller, mstack_server, workdir

TARGET_P99_MS = 20.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


class _Template:
    """A block encoded once with placeholders, whose fixed-length parts are swapped for
    each row: the same bytes ``encode`` gives (checked on a sample), for far less time."""

    def __init__(self, block: bytes, parts: list[bytes]) -> None:
        spots = sorted((block.index(part), i, len(part)) for i, part in enumerate(parts))
        self.order = [i for _, i, _ in spots]  # the parts in the order the block holds them
        self.sizes = [len(part) for part in parts]
        self.pieces, at = [], 0
        for where, _, size in spots:
            self.pieces.append(block[at:where])
            at = where + size
        self.pieces.append(block[at:])

    def fill(self, *parts: bytes) -> bytes:
        assert [len(part) for part in parts] == self.sizes
        out = [self.pieces[0]]
        for i, piece in zip(self.order, self.pieces[1:], strict=True):
            out += (parts[i], piece)
        return b"".join(out)


def _stamp(moment: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (naive UTC, always with microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _bulk(
    data: Path, *, reader_profile: str, posts: int, profiles: int, follows: int, seed: int
) -> None:
    """``posts`` public posts over ``profiles`` profiles, ``follows`` of them followed: the
    rows ``create_many`` writes for a post (content and version blocks, the record, its
    first version, the ``msocial_posts`` projection; no tags, so no terms), written with
    the standard ``sqlite3`` module in a few large transactions."""
    import base64
    import sqlite3
    import struct

    from mcore.cid import record_cid
    from mcore.records.encoding import encode, micros
    from mcore.records.versions._chain import NONCE_SIZE, version_value
    from msocial._generated.models import PostBase
    from msocial._generated.ops import POST

    rng = random.Random(seed)
    now = datetime.now(UTC)
    authors = [record_cid(encode({"$type": "bench/profile", "i": i})) for i in range(profiles)]
    raw = [base64.b32decode(a[1:].upper() + "======") for a in authors]  # the link bytes
    owners = [f"bench-owner-{i % 1000:04d}" for i in range(profiles)]
    followed = rng.sample(range(profiles), follows)

    def content(n: int, who: int) -> dict[str, Any]:
        return POST.content_of(PostBase(profile=authors[who], text=f"bench post {n:07d}"))

    def version(content_cid: str, who: int, at: datetime, nonce: bytes) -> dict[str, Any]:
        return version_value(
            content_cid=content_cid, prev=None, by=owners[who], at=at, n=1, nonce=nonce
        )

    nonce0, at0 = bytes(range(NONCE_SIZE)), now - timedelta(days=1)
    cid0 = record_cid(encode(content(0, 0)))
    posts_t = _Template(encode(content(0, 0)), [raw[0], b"bench post 0000000"])
    # a version's keys in canonical order: at, by, content, n, nonce, prev
    versions_t = _Template(
        encode(version(cid0, 0, at0, nonce0)),
        [
            struct.pack(">Q", micros(at0)),
            owners[0].encode(),
            base64.b32decode(cid0[1:].upper() + "======"),
            nonce0,
        ],
    )
    db = sqlite3.connect(data / "mstack.db", isolation_level=None)
    db.execute("PRAGMA busy_timeout=60000")
    db.execute("PRAGMA synchronous=OFF")  # set-up: nothing measured depends on it
    db.execute("PRAGMA cache_size=-1000000")  # 1 GB: the random-key b-trees stay in memory
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO follows (follower_id, followed_id, created_at) VALUES (?, ?, ?)",
        [(reader_profile, authors[i], _stamp(now)) for i in followed],
    )
    db.execute("COMMIT")
    batch = 50_000
    for start in range(0, posts, batch):
        blocks: list[tuple[str, bytes]] = []
        records: list[tuple[Any, ...]] = []
        versions: list[tuple[Any, ...]] = []
        rows: list[tuple[str, str]] = []
        for n in range(start, min(posts, start + batch)):
            who = rng.randrange(profiles)
            at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            nonce = rng.randbytes(NONCE_SIZE)
            block = posts_t.fill(raw[who], f"bench post {n:07d}".encode())
            content_cid = record_cid(block)
            first = versions_t.fill(
                struct.pack(">Q", micros(at)),
                owners[who].encode(),
                base64.b32decode(content_cid[1:].upper() + "======"),
                nonce,
            )
            if n % 25_000 == 0:  # the templates give exactly what the ops encode
                assert block == encode(content(n, who))
                assert first == encode(version(content_cid, who, at, nonce))
            ident, stamp = record_cid(first), _stamp(at)
            blocks += ((content_cid, block), (ident, first))
            records.append(
                (
                    ident,
                    "msocial/post",
                    owners[who],
                    "public",
                    0,
                    ident,
                    1,
                    content_cid,
                    stamp,
                    stamp,
                )
            )
            versions.append((ident, 1, ident, content_cid, owners[who], stamp))
            rows.append((ident, authors[who]))
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO blocks (cid, data) VALUES (?, ?)", sorted(blocks))
        db.executemany(
            "INSERT INTO records (id, type, owner_id, visibility, hidden, head, n,"
            " content_cid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            sorted(records),
        )
        db.executemany(
            'INSERT INTO record_versions (object_id, n, cid, content_cid, "by", at)'
            " VALUES (?, ?, ?, ?, ?, ?)",
            sorted(versions),
        )
        db.executemany("INSERT INTO msocial_posts (id, profile) VALUES (?, ?)", sorted(rows))
        db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _plan(data: Path, *, reader: str, reader_profile: str) -> None:
    """Print how SQLite runs the following feed's list query (as the op builds it, after
    ANALYZE) and what the query alone takes: it should walk ``ix_records_type_created``
    newest first and probe ``msocial_posts`` by id, not sort the followed profiles' posts."""
    import sqlite3

    from sqlalchemy import event

    from mcore.access import Actor
    from mcore.access.roles import Role
    from mcore.db import Database
    from mcore.settings import Settings
    from msocial.social import following_feed

    seen: list[tuple[str, Any]] = []

    async def capture() -> None:
        db = Database(Settings(data_dir=data))
        event.listen(
            db.engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, params, _ctx, _many: seen.append((statement, params)),
        )
        async with db.session() as session:
            await following_feed(
                session, actor=Actor(id=reader, role=Role.user), profile_id=reader_profile
            )
        await db.dispose()

    asyncio.run(capture())
    statement, params = next(s for s in seen if "msocial_posts" in s[0] and "ORDER BY" in s[0])
    db = sqlite3.connect(data / "mstack.db")
    for row in db.execute(f"EXPLAIN QUERY PLAN {statement}", params):
        print(f"plan: {row[3]}")
    db.execute(statement, params).fetchall()
    started = time.perf_counter()
    for _ in range(50):
        db.execute(statement, params).fetchall()
    print(f"the list query alone (sqlite3): {(time.perf_counter() - started) * 20:.2f} ms")
    db.close()


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
        _bulk(
            data,
            reader_profile=mine["id"],
            posts=args.posts,
            profiles=args.profiles,
            follows=args.follows,
            seed=17,
        )
        print(f"set-up: {args.posts} posts in {time.monotonic() - started:.0f} s", flush=True)
        _plan(data, reader=reader.id, reader_profile=mine["id"])
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
