"""The access matrix: every cell of ``access_matrix.md`` is a test, over real HTTP.

One world per worker (a live server on loopback, real SQLite), built once: accounts of
every kind, a group, files and folders in three spaces, shares at every level, an expired
one, an API key with narrow scopes, and signed links. Each cell does its action as its
principal, checks the status and the effect, and then the admin undoes what it changed,
so the next cell finds the world as it was.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcore.settings import Settings
from tests.conftest import FAST_PASSWORDS, PASSWORD, LiveServer, create_account

TABLE = Path(__file__).with_name("access_matrix.md")
ACTIONS = ("list", "read", "download", "update", "move", "delete", "share", "restore")
OBJECTS = ("file", "nested file", "folder", "record", "system folder", "group folder")
ROLES = {
    "owner": "user",
    "other": "user",
    "guest": "guest",
    "group-owner": "user",
    "group-staff": "user",
    "group-member": "user",
    "share-view": "user",
    "share-edit": "user",
    "share-manage": "user",
    "share-expired": "user",
    "moderator": "moderator",
    "admin": "admin",
    "bystander": "user",
}
ARTIST = {"name": {"full": "Ann Example"}}


def read_table() -> dict[tuple[str, str, str], str]:
    """(object, principal, action) -> the expected answer, from the Markdown tables."""
    cells: dict[tuple[str, str, str], str] = {}
    obj = None
    for line in TABLE.read_text().splitlines():
        heading = re.match(r"^## (.+)$", line)
        if heading:
            obj = heading.group(1).strip()
            continue
        if obj not in OBJECTS or not line.startswith("| ") or line.startswith("| principal"):
            continue
        parts = [p.strip() for p in line.strip("|").split("|")]
        principal, answers = parts[0], parts[1:]
        assert len(answers) == len(ACTIONS), line
        for action, answer in zip(ACTIONS, answers, strict=True):
            cells[(obj, principal, action)] = answer
    return cells


CELLS = read_table()


def test_the_table_covers_every_cell() -> None:
    principals = {p for _, p, _ in CELLS}
    assert len(principals) == 15
    assert len(CELLS) == len(principals) * len(OBJECTS) * len(ACTIONS)
    assert set(CELLS.values()) <= {"ok", "seen", "unseen", "401", "403", "404", "-"}


@dataclass
class World:
    url: str
    clients: dict[str, httpx.Client]
    ids: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=itertools.count)

    def http(self, principal: str) -> httpx.Client:
        return self.clients[principal]

    @property
    def admin(self) -> httpx.Client:
        return self.clients["admin"]


def _ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json() if reply.content else None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[World]:
    data = tmp_path_factory.mktemp("matrix")
    shutil.copyfile(template_db, data / "mstack.db")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite+aiosqlite:///{data / 'mstack.db'}",
        allowed_content_types=["*/*"],
        jobs={"embedded_worker": False},
        **FAST_PASSWORDS,
    )
    server = LiveServer(settings)
    server.start()

    async def make_accounts() -> dict[str, str]:
        from api.app import create_app

        app = create_app(settings)
        async with app.lifespan():
            made = {}
            for name, role in ROLES.items():
                user = await create_account(app, role=role, username=name.replace("-", ""))
                made[name] = str(user.id)
            return made

    users = asyncio.run(make_accounts())
    clients: dict[str, httpx.Client] = {}
    for name in ROLES:
        http = httpx.Client(base_url=server.url, timeout=30)
        tokens = _ok(
            http.post(
                "/api/v1/auth/login",
                json={"username": name.replace("-", ""), "password": PASSWORD},
            )
        )
        http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        clients[name] = http
    clients["anonymous"] = httpx.Client(base_url=server.url, timeout=30)
    clients["link"] = httpx.Client(base_url=server.url, timeout=30)
    w = World(url=server.url, clients=clients, users=users)
    ann, gowner, admin = clients["owner"], clients["group-owner"], clients["admin"]
    key = _ok(
        ann.post(
            "/api/v1/auth/keys",
            json={"name": "narrow", "scopes": ["files:read", "records:read"]},
        ),
        201,
    )
    clients["key-read"] = httpx.Client(
        base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {key['key']}"}
    )

    (root,) = _ok(ann.get("/api/v1/folders"))
    shared = _ok(ann.post("/api/v1/folders", json={"name": "Shared"}), 201)
    sub = _ok(ann.post("/api/v1/folders", json={"name": "Sub", "parent_id": shared["id"]}), 201)
    target = _ok(
        ann.post("/api/v1/folders", json={"name": "Target", "parent_id": shared["id"]}), 201
    )
    (x,) = _ok(ann.post("/api/v1/files?filename=x.txt", content=b"x bytes"), 201)
    (n,) = _ok(
        ann.post(f"/api/v1/files?filename=n.txt&folder_id={sub['id']}", content=b"n bytes"), 201
    )
    artist = _ok(ann.post("/api/v1/artists", json=ARTIST), 201)
    group = _ok(gowner.post("/api/v1/groups", json={"name": "Studio"}), 201)
    for name, role in (("group-staff", "staff"), ("group-member", "member")):
        _ok(
            gowner.post(
                f"/api/v1/groups/{group['id']}/members",
                json={"user_id": users[name], "role": role},
            ),
            201,
        )
    board = _ok(
        gowner.post("/api/v1/folders", json={"name": "Board", "parent_id": group["root_id"]}), 201
    )
    other = _ok(
        gowner.post("/api/v1/folders", json={"name": "Other", "parent_id": group["root_id"]}), 201
    )
    assets = _ok(admin.post("/api/v1/folders", json={"name": "Assets", "space": "system"}), 201)
    sys_other = _ok(admin.post("/api/v1/folders", json={"name": "Other", "space": "system"}), 201)
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    for sharer, kind, object_id in (
        (ann, "file", x["id"]),
        (ann, "folder", shared["id"]),
        (ann, "record", artist["id"]),
        (gowner, "folder", board["id"]),
    ):
        for level in ("view", "edit", "manage"):
            body = {"object_type": kind, "object_id": object_id, "level": level}
            _ok(
                sharer.post("/api/v1/shares", json=body | {"user_id": users[f"share-{level}"]}), 201
            )
        body = {"object_type": kind, "object_id": object_id, "level": "manage", "expires_at": soon}
        _ok(sharer.post("/api/v1/shares", json=body | {"user_id": users["share-expired"]}), 201)
    for name, file in (("file", x), ("nested file", n)):
        w.links[name] = _ok(ann.post("/api/v1/links", json={"file_id": file["id"]}), 201)["url"]
    w.ids.update(
        {
            "root": root["id"],
            "shared": shared["id"],
            "target": target["id"],
            "file": x["id"],
            "nested file": n["id"],
            "folder": sub["id"],
            "record": artist["id"],
            "group folder": board["id"],
            "group other": other["id"],
            "system folder": assets["id"],
            "system other": sys_other["id"],
        }
    )
    w.ids["file parent"] = root["id"]
    w.ids["nested file parent"] = sub["id"]
    w.ids["folder parent"] = shared["id"]
    w.ids["group folder parent"] = group["root_id"]
    w.ids["system folder parent"] = assets["parent_id"]
    time.sleep(max(0.0, (datetime.fromisoformat(soon) - datetime.now(UTC)).total_seconds() + 0.2))
    yield w
    for http in clients.values():
        http.close()
    server.stop()


KIND = {
    "file": "file",
    "nested file": "file",
    "folder": "folder",
    "system folder": "folder",
    "group folder": "folder",
    "record": "record",
}
MOVE_TO = {
    "file": "target",
    "nested file": "target",
    "folder": "target",
    "group folder": "group other",
    "system folder": "system other",
}


def _url(w: World, obj: str) -> str:
    kind = KIND[obj]
    base = {"file": "/api/v1/files", "folder": "/api/v1/folders", "record": "/api/v1/artists"}
    return f"{base[kind]}/{w.ids[obj]}"


def _trash(w: World, obj: str) -> str | None:
    """The admin puts the object in the trash; for a record, the version to revert to."""
    url = _url(w, obj)
    if KIND[obj] == "record":
        head = _ok(w.admin.get(url))["cid"]
        _ok(w.admin.delete(url))
        return str(head)
    _ok(w.admin.delete(url))
    return None


def _untrash(w: World, obj: str, head: str | None) -> None:
    url = _url(w, obj)
    if KIND[obj] == "record":
        if w.admin.get(url).status_code == 410:
            _ok(w.admin.post(f"{url}/revert", json={"to": head}))
        return
    reply = w.admin.post(f"{url}/restore")
    assert reply.status_code == 200, reply.text


def _do(w: World, principal: str, obj: str, action: str) -> tuple[httpx.Response, Any]:
    """Do the action; return the reply and what the admin needs to undo it."""
    http, url, kind = w.http(principal), _url(w, obj), KIND[obj]
    if action == "list":
        if kind == "folder":
            return http.get(f"{url}/children"), None
        return http.get("/api/v1/files" if kind == "file" else "/api/v1/artists?limit=200"), None
    if action == "read":
        return http.get(url), None
    if action == "download":
        if principal == "link":
            return http.get(w.links[obj]), None
        return http.get(f"{url}/content"), None
    if action == "update":
        n = next(w.counter)
        body = {
            "file": {"filename": f"renamed {n}.txt"},
            "folder": {"name": f"renamed {n}"},
            "record": {"bio": f"Edited {n} times."},
        }[kind]
        return http.patch(url, json=body), None
    if action == "move":
        key = "folder_id" if kind == "file" else "parent_id"
        return http.patch(url, json={key: w.ids[MOVE_TO[obj]]}), key
    if action == "delete":
        head = _ok(w.admin.get(url))["cid"] if kind == "record" else None
        return http.delete(url), head
    if action == "share":
        body = {
            "object_type": kind,
            "object_id": w.ids[obj],
            "user_id": w.users["bystander"],
            "level": "view",
        }
        return http.post("/api/v1/shares", json=body), None
    assert action == "restore"
    head = _trash(w, obj)
    if kind == "record":
        return http.post(f"{url}/revert", json={"to": head}), head
    return http.post(f"{url}/restore"), head


def _undo(w: World, obj: str, action: str, reply: httpx.Response, undo: Any) -> None:
    url, kind = _url(w, obj), KIND[obj]
    if action == "update" and kind != "record" and reply.status_code == 200:
        names = {
            "file": "x.txt",
            "nested file": "n.txt",
            "folder": "Sub",
            "group folder": "Board",
            "system folder": "Assets",
        }
        key = "filename" if kind == "file" else "name"
        _ok(w.admin.patch(url, json={key: names[obj]}))
    elif action == "move" and reply.status_code == 200:
        _ok(w.admin.patch(url, json={undo: w.ids[f"{obj} parent"]}))
    elif action == "delete" and reply.status_code == 200:
        _untrash(w, obj, undo)
    elif action == "share" and reply.status_code == 201:
        _ok(w.admin.delete(f"/api/v1/shares/{reply.json()['id']}"))
    elif action == "restore" and reply.status_code != 200:
        _untrash(w, obj, undo)


def _listed(reply: httpx.Response, object_id: str) -> bool:
    return object_id in {item["id"] for item in reply.json()["items"]}


PARAMS = [
    pytest.param(obj, principal, action, answer, id=f"{obj}-{principal}-{action}")
    for (obj, principal, action), answer in CELLS.items()
    if answer != "-"
]


@pytest.mark.parametrize(("obj", "principal", "action", "answer"), PARAMS)
def test_cell(world: World, obj: str, principal: str, action: str, answer: str) -> None:
    reply, undo = _do(world, principal, obj, action)
    try:
        if answer in ("seen", "unseen"):
            assert reply.status_code == 200, reply.text
            assert _listed(reply, world.ids[obj]) == (answer == "seen")
        elif answer == "ok":
            assert reply.status_code in (200, 201), reply.text
            _check_effect(world, obj, action, reply)
        else:
            assert reply.status_code == int(answer), reply.text
            assert reply.headers["content-type"] == "application/problem+json"
            if answer == "403":
                assert "needs" in reply.json()["detail"] or "lacks" in reply.json()["detail"]
            _check_unchanged(world, obj, action)
    finally:
        _undo(world, obj, action, reply, undo)


def _check_effect(w: World, obj: str, action: str, reply: httpx.Response) -> None:
    url, kind = _url(w, obj), KIND[obj]
    if action == "download":
        assert reply.content == (b"x bytes" if obj == "file" else b"n bytes")
        return
    body = reply.json()
    if action in ("read", "restore") and kind != "record":
        assert body["id"] == w.ids[obj]
    elif action == "list" and kind == "folder":
        assert body["folder"]["id"] == w.ids[obj]
    elif action == "move":
        seen = _ok(w.admin.get(url))
        assert seen["folder_id" if kind == "file" else "parent_id"] == w.ids[MOVE_TO[obj]]
    elif action == "delete" and kind != "record":
        assert w.admin.get(url).status_code == 404  # in the trash
    elif action == "delete":
        assert w.admin.get(url).status_code == 410
    elif action == "share":
        assert body["user_id"] == w.users["bystander"]
        assert body["level"] == "view"
    elif action == "restore":
        assert w.admin.get(url).status_code == 200


def _check_unchanged(w: World, obj: str, action: str) -> None:
    """A refusal changed nothing: the object is live (still in the trash, for a refused
    restore), where it was, under its name."""
    reply = w.admin.get(_url(w, obj))
    if action == "restore":
        assert reply.status_code == (410 if KIND[obj] == "record" else 404), reply.text
        return
    assert reply.status_code == 200, reply.text
    kind = KIND[obj]
    if kind == "file":
        assert reply.json()["folder_id"] == w.ids[f"{obj} parent"]
    elif kind == "folder":
        assert reply.json()["parent_id"] == w.ids[f"{obj} parent"]
    shares = _ok(
        w.admin.get(
            f"/api/v1/shares?with=others&object_type={kind}&object_id={w.ids[obj]}&limit=200"
        )
    )
    assert w.users["bystander"] not in {s["user_id"] for s in shares["items"]}
