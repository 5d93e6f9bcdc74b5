"""Ingest and reads on an S3 bucket against the same on local disk, in the same run.

The bucket is moto's stand-alone server on loopback (an in-memory S3 written in Python:
it measures what mstack's S3 path costs against its disk path on this machine, not what
AWS or MinIO would give). One `mstack serve` on local disk and one on the bucket, the
same uploads (curl, a raw body) and the same reads (wrk).

    .venv/bin/python -m bench.s3 --size-mib 256 --runs 3 --seconds 5
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator

import boto3
import httpx

from bench._harness import (
    free_port,
    mstack_server,
    require,
    reset_peak,
    rss_kib,
    sign_in,
    timed,
    wait_for_http,
    workdir,
    wrk,
)

JPEG = b"\xff\xd8\xff\xe0"
KEY, SECRET = "bench", "bench-secret"


@contextlib.contextmanager
def moto() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url, "moto", 30)
        boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        ).create_bucket(Bucket="bench")
        yield url
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    require("curl", "wrk")
    work = workdir("s3")
    src = work / "big.jpg"
    with open(src, "wb") as f:
        f.write(JPEG)
        for _ in range(args.size_mib):
            f.write(os.urandom(2**20))
    results: dict[str, dict[str, list[float]]] = {}
    try:
        with moto() as endpoint:
            s3_env = {
                "MSTACK_STORAGE__BACKEND": "s3",
                "MSTACK_STORAGE__S3_ENDPOINT": endpoint,
                "MSTACK_STORAGE__S3_BUCKET": "bench",
                "AWS_ACCESS_KEY_ID": KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET,
            }
            for name, env in (("local", {}), ("s3", s3_env)):
                got = results.setdefault(name, {"upload_s": [], "growth_mib": []})
                data = work / f"data-{name}"
                with mstack_server(data, MSTACK_JOBS__EMBEDDED_WORKER="false", **env) as server:
                    token = sign_in(server)
                    auth = {"Authorization": f"Bearer {token}"}
                    for run in range(args.runs):
                        # a different file each run (no dedupe): one byte changes
                        with open(src, "r+b") as f:
                            f.seek(len(JPEG))
                            f.write(bytes([run]))
                        before, _ = rss_kib(server.pid)
                        reset_peak(server.pid)
                        got["upload_s"].append(
                            timed(
                                [
                                    "curl",
                                    "-sf",
                                    "-H",
                                    f"Authorization: Bearer {token}",
                                    "-X",
                                    "POST",
                                    "-T",
                                    str(src),
                                    f"{server.url}/api/v1/files?filename=big.jpg",
                                ]
                            )
                        )
                        _, peak = rss_kib(server.pid)
                        got["growth_mib"].append((peak - before) / 1024)
                    http = httpx.Client(base_url=server.url, headers=auth)
                    # text, not an image: a public image is served to others only once
                    # processing has made its copy without metadata (no worker runs here)
                    small = http.post(
                        "/api/v1/files",
                        params={"filename": "s.txt"},
                        content=(b"4 KiB of public text. " * 200)[:4096],
                    ).json()[0]
                    # and 1 MiB, past the small-blob memory cache: each read reaches the store
                    large = http.post(
                        "/api/v1/files",
                        params={"filename": "l.txt"},
                        content=os.urandom(2**19).hex().encode(),
                    ).json()[0]
                    for key, made, connections in (
                        ("small_rps", small, 16),
                        ("large_rps", large, 4),
                    ):
                        http.patch(f"/api/v1/files/{made['id']}", json={"visibility": "public"})
                        url = f"{server.url}/blobs/{made['cid']}"
                        assert httpx.get(url).status_code == 200
                        load = wrk(url, connections=connections, seconds=args.seconds)
                        got[key] = [load.requests_per_s]
                shutil.rmtree(data, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mib = args.size_mib
    local, s3 = results["local"], results["s3"]
    up_l, up_s = statistics.median(local["upload_s"]), statistics.median(s3["upload_s"])
    print(f"{mib} MiB raw uploads over loopback, median of {args.runs}; reads {args.seconds}s")
    print(
        f"  upload, local disk: {up_l:.2f} s ({mib / up_l:.0f} MiB/s), growth "
        f"{max(local['growth_mib']):.1f} MiB"
    )
    print(
        f"  upload, S3 (moto):  {up_s:.2f} s ({mib / up_s:.0f} MiB/s), growth "
        f"{max(s3['growth_mib']):.1f} MiB -> {up_l / up_s:.2f}x local's speed"
    )
    rl, rs = local["small_rps"][0], s3["small_rps"][0]
    print(
        f"  4 KiB public reads (served from memory after the first): local {rl:,.0f} req/s,"
        f" S3 {rs:,.0f} req/s -> {rs / rl:.2f}x"
    )
    rl, rs = local["large_rps"][0], s3["large_rps"][0]
    print(
        f"  1 MiB public reads (each from the store): local {rl:,.0f} req/s,"
        f" S3 {rs:,.0f} req/s -> {rs / rl:.2f}x"
    )


if __name__ == "__main__":
    main()
