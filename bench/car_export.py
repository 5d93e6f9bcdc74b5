"""CAR export of a record with a long history, against two baselines of the same run.

    .venv/bin/python -m bench.car_export [--versions 1000] [--runs 7]

Makes one artist on a fresh `mstack serve` (its worker off) and edits it until it has
`--versions` versions (each PATCH a new name, so every version has its own content
block), then times, `--runs` times each, median first:
- `GET /api/v1/artists/{id}/export.car`: the CAR v1 streamed over loopback HTTP (every
  version block and content block, the head as its root), read whole by the client;
- baseline 1, the JSON history of the same versions over the same HTTP:
  `GET .../versions?limit=200`, page after page until `next` is null;
- baseline 2, the floor in one process: the same blocks read from the same SQLite file
  with `sqlite3` and written into a CAR in memory by the plainest writer (varint, binary
  CID, block), no HTTP and no access checks.
The export is checked before it is timed: libipld (the independent Rust reader the tests
use) decodes it, and it must hold 2 x versions blocks whose CIDs match their bytes.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench._harness import mstack_server, sign_in, workdir
from mcore.records.car import cid_bytes, varint


def _median(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(median, min, max) seconds of ``runs`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def _make_history(http: httpx.Client, versions: int) -> str:
    made = http.post("/api/v1/artists", json={"name": {"full": "Bench Artist 1"}})
    made.raise_for_status()
    artist_id = str(made.json()["id"])
    for n in range(2, versions + 1):
        http.patch(
            f"/api/v1/artists/{artist_id}", json={"name": {"full": f"Bench Artist {n}"}}
        ).raise_for_status()
    return artist_id


def _check(car: bytes, versions: int) -> None:
    import libipld

    header, blocks = libipld.decode_car(car)
    if len(blocks) != 2 * versions or len(header["roots"]) != 1:
        raise SystemExit(f"the export holds {len(blocks)} blocks, not {2 * versions}")


def _floor_car(db_path: Path, artist_id: str) -> Callable[[], bytes]:
    """The plainest export of the same blocks: SQLite reads and bytes joined in memory."""

    def run() -> bytes:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT v.cid, vb.data, v.content_cid, cb.data FROM record_versions v"
                " JOIN blocks vb ON vb.cid = v.cid LEFT JOIN blocks cb ON cb.cid = v.content_cid"
                " WHERE v.object_id = ? ORDER BY v.n DESC",
                (artist_id,),
            ).fetchall()
        finally:
            db.close()
        import dag_cbor
        from multiformats import CID

        header = dag_cbor.encode({"version": 1, "roots": [CID.decode(rows[0][0])]})
        out = [varint(len(header)), header]
        for version_cid, version_data, content_cid, content_data in rows:
            for cid, data in ((version_cid, version_data), (content_cid, content_data)):
                if cid is None:
                    continue
                binary = cid_bytes(cid)
                out += [varint(len(binary) + len(data)), binary, data]
        return b"".join(out)

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = workdir("car-export")
    data = work / "data"
    data.mkdir(parents=True)
    try:
        results, size, made_in = _run(data, args.versions, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _report(results, size, made_in, args.versions, args.runs)


Timing = tuple[float, float, float]


def _run(data: Path, versions: int, runs: int) -> tuple[dict[str, Timing], int, float]:
    with mstack_server(data, MSTACK_JOBS__EMBEDDED_WORKER="false") as server:
        token = sign_in(server)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as http:
            started = time.perf_counter()
            artist_id = _make_history(http, versions)
            made_in = time.perf_counter() - started
            url = f"/api/v1/artists/{artist_id}/export.car"
            car = http.get(url)
            car.raise_for_status()
            _check(car.content, versions)

            def export() -> int:
                with http.stream("GET", url) as reply:
                    reply.raise_for_status()
                    return sum(len(chunk) for chunk in reply.iter_bytes())

            def history() -> int:
                count, cursor = 0, None
                while True:
                    params: dict[str, str | int] = {"limit": 200}
                    if cursor:
                        params["cursor"] = cursor
                    page = http.get(f"/api/v1/artists/{artist_id}/versions", params=params)
                    page.raise_for_status()
                    body = page.json()
                    count += len(body["items"])
                    cursor = body["next"]
                    if not cursor:
                        return count

            if history() != versions:
                raise SystemExit("the history does not list every version")
            floor = _floor_car(data / "mstack.db", artist_id)
            if len(floor()) != len(car.content):
                raise SystemExit("the floor's CAR and the export differ in length")
            results = {
                "export.car over HTTP": _median(export, runs),
                "JSON history over HTTP": _median(history, runs),
                "CAR from sqlite3 in-process": _median(floor, runs),
            }
    return results, len(car.content), made_in


def _report(
    results: dict[str, Timing], size: int, made_in: float, versions: int, runs: int
) -> None:
    print(
        f"\none artist with {versions} versions ({2 * versions} blocks, CAR"
        f" {size / 1024:.0f} KiB), made by {versions - 1} PATCHes in {made_in:.1f} s;"
        f" {runs} runs each, median (min-max)"
    )
    for name, (med, low, high) in results.items():
        print(f"{name:<30} {med * 1000:8.1f} ms ({low * 1000:.1f}-{high * 1000:.1f})")
    export_s = results["export.car over HTTP"][0]
    print(
        f"export / JSON history: {export_s / results['JSON history over HTTP'][0]:.2f}x the time;"
        f" export / in-process floor: {export_s / results['CAR from sqlite3 in-process'][0]:.1f}x;"
        f" export throughput {size / export_s / 1024 / 1024:.1f} MiB/s,"
        f" {2 * versions / export_s:,.0f} blocks/s"
    )


if __name__ == "__main__":
    main()
