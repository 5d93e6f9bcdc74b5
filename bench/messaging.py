"""Message delivery: from send to receipt on another account's events socket, with 200
sockets open, against an HTTP round trip measured in the same run.

    .venv/bin/python -m bench.messaging [--sockets 200] [--samples 500] [--group 10]

A fresh `mstack serve` (one process, SQLite, its worker off) gets accounts registered
over HTTP; `--sockets` event sockets are opened (the receivers' and, for the rest, idle
accounts' ones: the server's one events reader fans every new row out to them all). Then,
one message at a time, the sender posts a message and the clock runs until the receiver's
socket has it: in a private conversation, and in a group of `--group` members each with a
socket open (every one of them gets the event; the time is the last receipt). Baselines in
the same run, on the same connections: the message POST's own round trip, and `GET
/health`'s. Target (issue 17): delivery p99 under 50 ms on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench._harness import BENCH_ACCOUNT, mstack_server, workdir

PASSWORD = BENCH_ACCOUNT["password"]


async def _account(http: httpx.AsyncClient, username: str) -> tuple[str, str]:
    """Register ``username``; return its id and access token."""
    body = {"email": f"{username}@example.org", "username": username, "password": PASSWORD}
    (await http.post("/api/v1/auth/register", json=body)).raise_for_status()
    login = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    login.raise_for_status()
    token = login.json()["access_token"]
    me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    me.raise_for_status()
    return str(me.json()["id"]), str(token)


async def _socket(url: str, token: str) -> ClientConnection:
    ws = await connect(url.replace("http://", "ws://") + "/api/v1/events", max_queue=None)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    while json.loads(await ws.recv())["type"] != "ready":
        pass
    return ws


async def _until_message(ws: ClientConnection, message_id: str) -> float:
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if event["type"] == "message.created" and event["data"]["message"]["id"] == message_id:
            return time.perf_counter()


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max": ordered[-1] * 1000,
    }


async def run(url: str, *, sockets: int, samples: int, group: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        _, sender_token = await _account(http, "bench-sender")
        members = [await _account(http, f"bench-member-{i}") for i in range(group)]
        idle_accounts = [await _account(http, f"bench-idle-{i}") for i in range(10)]
        auth = {"Authorization": f"Bearer {sender_token}"}
        private = await http.post(
            "/api/v1/conversations", json={"members": [members[0][0]]}, headers=auth
        )
        private.raise_for_status()
        crowd = await http.post(
            "/api/v1/conversations",
            json={"members": [m[0] for m in members], "name": "bench"},
            headers=auth,
        )
        crowd.raise_for_status()
        receivers = [await _socket(url, token) for _, token in members]
        idle = [
            await _socket(url, idle_accounts[i % len(idle_accounts)][1])
            for i in range(max(0, sockets - len(receivers)))
        ]
        results: dict[str, list[float]] = {
            "health": [],
            "folder": [],
            "post": [],
            "private": [],
            "crowd": [],
        }

        async def send(conversation_id: str, targets: list[ClientConnection]) -> None:
            started = time.perf_counter()
            reply = await http.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"text": f"message at {started}"},
                headers=auth,
            )
            answered = time.perf_counter()
            reply.raise_for_status()
            message_id = reply.json()["id"]
            got = await asyncio.gather(*(_until_message(ws, message_id) for ws in targets))
            private = len(targets) == 1
            if private:
                results["post"].append(answered - started)
            results["private" if private else "crowd"].append(max(got) - started)

        for i in range(samples + 20):  # the first 20 warm up
            started = time.perf_counter()
            (await http.get("/health")).raise_for_status()
            if i >= 20:
                results["health"].append(time.perf_counter() - started)
            started = time.perf_counter()
            made = await http.post("/api/v1/folders", json={"name": f"f{i}"}, headers=auth)
            made.raise_for_status()
            if i >= 20:
                results["folder"].append(time.perf_counter() - started)
            await send(private.json()["id"], receivers[:1])
            await send(crowd.json()["id"], receivers)
            if i == 19:
                results["post"].clear()
                results["private"].clear()
                results["crowd"].clear()
        for ws in receivers + idle:
            await ws.close()
        return {
            "sockets": len(receivers) + len(idle),
            "samples": samples,
            "group": group,
            **{k: _ms(v) for k, v in results.items()},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--group", type=int, default=10)
    args = parser.parse_args()
    work = workdir("messaging")
    env = {
        "MSTACK_JOBS__EMBEDDED_WORKER": "false",
        "MSTACK_MESSAGING__MESSAGES_PER_MINUTE": "1000000",
        "MSTACK_REGISTRATIONS_PER_ADDRESS": "1000",  # every account comes from 127.0.0.1
        "MSTACK_ARGON2_MEMORY_COST": "1024",
        "MSTACK_ARGON2_TIME_COST": "1",
    }
    with mstack_server(work / "data", **env) as server:
        out = asyncio.run(
            run(server.url, sockets=args.sockets, samples=args.samples, group=args.group)
        )
    print(f"{out['sockets']} sockets open, {out['samples']} messages each way")
    rows = [
        ("GET /health round trip (baseline)", out["health"]),
        ("POST /api/v1/folders round trip (baseline)", out["folder"]),
        ("private message POST round trip (baseline)", out["post"]),
        ("private: send to receipt", out["private"]),
        (f"group of {out['group']}: send to the last receipt", out["crowd"]),
    ]
    for name, ms in rows:
        print(f"  {name:48} p50 {ms['p50']:6.2f} ms  p99 {ms['p99']:6.2f} ms  max {ms['max']:6.1f}")
    verdict = "meets" if out["private"]["p99"] < 50 else "misses"
    print(f"private delivery p99 {out['private']['p99']:.1f} ms: {verdict} the 50 ms target")


if __name__ == "__main__":
    main()
