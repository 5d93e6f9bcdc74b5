"""Blob reads over loopback HTTP, against nginx serving the same bytes in the same run.

    .venv/bin/python -m bench.reads [--seconds 10]

Targets (one mstack process): a 4 KiB public blob by CID at >= 0.25x nginx's requests/s;
a 10 MiB blob at >= 0.6x its throughput; a 4 KiB private blob through a signed link at
>= 0.25x and with a bearer token at >= 0.1x. wrk runs on the same 2 cores as the servers.
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass

import httpx

from bench._harness import Load, mstack_server, nginx, require, sign_in, verdict, workdir, wrk


@dataclass
class Case:
    name: str
    path: str  # on mstack; nginx serves /<cid>
    cid: str
    connections: int
    measure: str  # "rps" or "throughput"
    target: float
    headers: dict[str, str] | None = None


def _text(size: int) -> bytes:
    """``size`` bytes of text no other call gives."""
    return os.urandom(size // 2).hex().encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--nginx-workers", default="auto")
    parser.add_argument("--workers", type=int, default=1, help="mstack API processes")
    args = parser.parse_args()
    require("nginx", "wrk")
    work = workdir("reads")
    www = work / "www"
    www.mkdir()
    rows: list[tuple[Case, Load, Load]] = []
    try:
        serve_args = ("--workers", str(args.workers)) if args.workers > 1 else ()
        with mstack_server(work / "data", *serve_args) as server:
            token = sign_in(server)
            http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})

            def put(data: bytes, *, public: bool) -> str:
                r = http.post("/api/v1/files", params={"filename": "s.txt"}, content=data)
                r.raise_for_status()
                record = r.json()[0]
                if public:
                    http.patch(f"/api/v1/files/{record['id']}", json={"visibility": "public"})
                (www / record["cid"]).write_bytes(data)
                return str(record["cid"])

            # text, not images: others get a public image only once processing has made
            # its copy without metadata, and the bytes' kind does not matter to a read
            small_public = put(_text(4096), public=True)
            large_public = put(_text(10 * 2**20), public=True)
            small_private = put(_text(4096), public=False)
            link = http.post("/api/v1/links", json={"cid": small_private, "expires_in": 86400})
            link.raise_for_status()
            bearer = {"Authorization": f"Bearer {token}"}
            cases = [
                Case(
                    "4 KiB public, by CID", f"/blobs/{small_public}", small_public, 32, "rps", 0.25
                ),
                Case(
                    "10 MiB public, by CID",
                    f"/blobs/{large_public}",
                    large_public,
                    8,
                    "throughput",
                    0.6,
                ),
                Case(
                    "4 KiB private, signed link", link.json()["url"], small_private, 32, "rps", 0.25
                ),
                Case(
                    "4 KiB private, bearer token",
                    f"/blobs/{small_private}",
                    small_private,
                    32,
                    "rps",
                    0.1,
                    bearer,
                ),
            ]
            for case in cases:  # each once through the full route, then the load
                r = httpx.get(server.url + case.path, headers=case.headers)
                assert r.status_code == 200, (case.name, r.status_code, r.text[:200])
            with nginx(www, args.nginx_workers) as ngx:
                for case in cases:
                    ours = wrk(
                        server.url + case.path,
                        connections=case.connections,
                        seconds=args.seconds,
                        headers=case.headers,
                    )
                    theirs = wrk(
                        f"{ngx}/{case.cid}", connections=case.connections, seconds=args.seconds
                    )
                    rows.append((case, ours, theirs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"blob reads, {args.seconds}s each, {args.workers} mstack process(es),"
        f" nginx workers={args.nginx_workers}"
    )
    for case, ours, theirs in rows:
        if case.measure == "rps":
            ratio = ours.requests_per_s / theirs.requests_per_s
            figures = f"{ours.requests_per_s:,.0f} vs nginx {theirs.requests_per_s:,.0f} req/s"
        else:
            ratio = ours.bytes_per_s / theirs.bytes_per_s
            gib = 2**30
            figures = f"{ours.bytes_per_s / gib:.2f} vs nginx {theirs.bytes_per_s / gib:.2f} GiB/s"
        ok = verdict(ratio, case.target)
        print(f"  {case.name}: {figures} -> {ratio:.2f}x (target {case.target}x: {ok})")


if __name__ == "__main__":
    main()
