"""Blob reads by CID over loopback HTTP, against nginx serving the same bytes in the same run.

    .venv/bin/python bench/reads.py [--seconds 10]

Targets (one mstack process): 4 KiB at >= 0.25x nginx's requests/s, 10 MiB at >= 0.6x its
throughput. wrk runs on the same 2 cores as both servers.
"""

from __future__ import annotations

import argparse
import os
import shutil

import httpx

from bench._harness import mstack_server, nginx, require, verdict, workdir, wrk

JPEG = b"\xff\xd8\xff"  # the bytes must pass type detection; the rest is random


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--nginx-workers", default="auto")
    args = parser.parse_args()
    require("nginx", "wrk")
    work = workdir("reads")
    www = work / "www"
    www.mkdir()
    samples = {"4 KiB": JPEG + os.urandom(4096 - 3), "10 MiB": JPEG + os.urandom(10 * 2**20 - 3)}
    rows = []
    try:
        with mstack_server(work / "data") as server:
            cids = {}
            for name, data in samples.items():
                r = httpx.post(
                    f"{server.url}/api/v1/files", params={"filename": "s.jpg"}, content=data
                )
                r.raise_for_status()
                cids[name] = r.json()[0]["cid"]
                (www / cids[name]).write_bytes(data)
                assert httpx.get(f"{server.url}/blobs/{cids[name]}").content == data
            with nginx(www, args.nginx_workers) as ngx:
                for name, cid in cids.items():
                    conns = 32 if name == "4 KiB" else 8
                    ours = wrk(f"{server.url}/blobs/{cid}", connections=conns, seconds=args.seconds)
                    theirs = wrk(f"{ngx}/{cid}", connections=conns, seconds=args.seconds)
                    rows.append((name, ours, theirs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"blob reads by CID, {args.seconds}s each, nginx workers={args.nginx_workers}")
    for name, ours, theirs in rows:
        if name == "4 KiB":
            ratio, target = ours.requests_per_s / theirs.requests_per_s, 0.25
            print(
                f"  {name}: mstack {ours.requests_per_s:,.0f} req/s, nginx"
                f" {theirs.requests_per_s:,.0f} req/s -> {ratio:.2f}x"
                f" (target {target}x: {verdict(ratio, target)})"
            )
        else:
            ratio, target = ours.bytes_per_s / theirs.bytes_per_s, 0.6
            print(
                f"  {name}: mstack {ours.bytes_per_s / 2**30:.2f} GiB/s, nginx"
                f" {theirs.bytes_per_s / 2**30:.2f} GiB/s -> {ratio:.2f}x"
                f" (target {target}x: {verdict(ratio, target)})"
            )


if __name__ == "__main__":
    main()
