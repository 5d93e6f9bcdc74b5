"""Shared fixtures: every test gets its own data directory, database and blob folder.

Database tests run twice: on SQLite (the embedded default) and on the machine's
PostgreSQL (the scale-out path), chosen by the ``backend`` fixture. The schema is migrated
once per test process: a SQLite file copied for each test, a PostgreSQL database
emptied before each test. Tests of SQLite-only behaviour pin ``backend`` to "sqlite".
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mcore.clock import clock
from mcore.db import Database
from mcore.migrate import call_in_thread, upgrade
from mcore.settings import Settings, StorageSettings
from mcore.storage import LocalBlobStore

REQUIRE_TOOLS = os.environ.get("MSTACK_REQUIRE_TOOLS") == "1"
PG_SERVER = os.environ.get("MSTACK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", "postgresql"]
# argon2id at its cheapest: tests hash many passwords; the default costs 64 MiB and ~0.1 s.
FAST_PASSWORDS: dict[str, Any] = {
    "argon2_memory_cost": 64,
    "argon2_time_cost": 1,
    "argon2_parallelism": 1,
}
PASSWORD = "a long test password"
# every test fails that makes one of mstack's loggers write a secret
pytest_plugins = ["tests.secretwatch", "tests.ipldcheck"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def need_tool(name: str) -> str:
    """The path of a tool: skips when absent, fails when ``MSTACK_REQUIRE_TOOLS=1``."""
    path = shutil.which(name)
    if path is None:
        if REQUIRE_TOOLS:
            pytest.fail(f"{name} is required (MSTACK_REQUIRE_TOOLS=1) but not on PATH")
        pytest.skip(f"{name} is not on this machine")
    return path


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, made once and copied for each test."""
    data = tmp_path_factory.mktemp("template")
    upgrade(Settings(data_dir=data))
    return data / "mstack.db"


def _pg(sql: str, database: str = "postgres") -> None:
    """Run SQL on the PostgreSQL server (own thread and loop, since a fixture may be set up
    while a test's loop is running)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(f"{PG_SERVER}/{database}")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    call_in_thread(asyncio.run, run())


# Empties every table but Alembic's; refuses to wait on a lock a broken test left behind.
_EMPTY_TABLES = """
SET lock_timeout = '10s';
DO $$
DECLARE names text;
BEGIN
  SELECT string_agg(quote_ident(tablename), ', ') INTO names
    FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version';
  IF names IS NOT NULL THEN
    EXECUTE 'TRUNCATE ' || names || ' RESTART IDENTITY CASCADE';
  END IF;
END $$;
"""


@pytest.fixture(scope="session")
def pg_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This test process's own migrated PostgreSQL database (emptied before each test)."""
    name = f"mstack_test_{os.getpid()}"
    _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _pg(f"CREATE DATABASE {name}")
    url = f"postgresql+asyncpg://{PG_SERVER.split('://')[1]}/{name}"
    upgrade(Settings(data_dir=tmp_path_factory.mktemp("pg"), database_url=url))
    yield name
    _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database of the test: SQLite file or PostgreSQL database."""
    return str(request.param)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def database_url(backend: str, data_dir: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database with nothing in it, for one test."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("template_db"), data_dir / "mstack.db")
        yield f"sqlite+aiosqlite:///{data_dir / 'mstack.db'}"
        return
    name = request.getfixturevalue("pg_database")
    _pg(_EMPTY_TABLES, database=name)
    yield f"postgresql+asyncpg://{PG_SERVER.split('://')[1]}/{name}"


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """Settings for one test: its own data dir and its own migrated database.

    The app runs no job worker unless a test asks for one (``tests.apphelpers``): uploads
    are queued, and no previews appear behind a test's back.
    """
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        allowed_content_types=["*/*"],
        jobs={"embedded_worker": False},
        **FAST_PASSWORDS,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture
def store(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(settings.blob_dir, settings.tmp_dir)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server, started once per test process (``tests.s3server``)."""
    from tests.s3server import moto_server

    with moto_server(free_port()) as endpoint:
        yield endpoint


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str, tmp_path: Path) -> Settings:
    """``settings`` with blobs in a fresh bucket of the test S3 server; the credentials
    come from a file, as an operator may give them."""
    from tests.s3server import ACCESS_KEY, SECRET_KEY, new_bucket

    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    storage = {
        "backend": "s3",
        "s3_endpoint": s3_endpoint,
        "s3_bucket": new_bucket(s3_endpoint),
        "s3_prefix": "archive",
        "s3_credentials_file": credentials,
        "s3_part_size": 5 * 1024 * 1024,
    }
    return settings.model_copy(update={"storage": StorageSettings(**storage)})


@pytest.fixture
def frozen_clock() -> Iterator[Any]:
    """The clock, movable by tests (``frozen_clock.offset += 3600``); restored afterwards."""
    saved = clock.offset, clock.frozen
    yield clock
    clock.offset, clock.frozen = saved


class AuthedClient(httpx.AsyncClient):
    """An HTTP client on the real app, signed in as one account (or anonymous)."""

    user_id: str | None = None
    username: str | None = None
    email: str | None = None
    role: str | None = None
    password: str | None = None
    token: str | None = None
    refresh_token: str | None = None


async def create_account(
    app: Any, *, role: str, username: str, email: str | None = None, password: str = PASSWORD
) -> Any:
    """An account made by the op the shell's ``mstack admin create-user`` uses."""
    from mcore.access import Role
    from mcore.auth import ops

    async with app.state.db.session(write=True) as session:
        return await ops.create_user(
            session,
            auth=app.state.auth,
            email=email or f"{username}@example.org",
            username=username,
            password=password,
            role=Role(role),
        )


async def sign_in_new_account(
    app: Any, http: httpx.AsyncClient, *, role: str, username: str
) -> tuple[Any, dict[str, Any]]:
    """Make an account on ``app``, sign ``http`` in as it, and return the user and tokens."""
    user = await create_account(app, role=role, username=username)
    reply = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    tokens = reply.json()
    http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    return user, tokens


@pytest.fixture
async def server_app(settings: Settings) -> AsyncIterator[Any]:
    """The real app for these settings, with its lifespan running."""
    from api.app import create_app

    app = create_app(settings)
    async with app.lifespan():
        yield app


MakeClient = Callable[..., Awaitable[AuthedClient]]


@pytest.fixture
async def make_client(server_app: Any) -> AsyncIterator[MakeClient]:
    """``await make_client(role="moderator")``: a client signed in as a new account of that
    role (admin, moderator, user, guest); ``role=None`` gives an anonymous client."""
    clients: list[AuthedClient] = []
    numbers = itertools.count(1)

    async def make(role: str | None = "user", *, username: str | None = None) -> AuthedClient:
        http = AuthedClient(
            transport=httpx.ASGITransport(app=server_app), base_url="http://mstack.test"
        )
        clients.append(http)
        if role is None:
            return http
        username = username or f"{role}{next(numbers)}"
        user, tokens = await sign_in_new_account(server_app, http, role=role, username=username)
        http.user_id, http.username, http.email, http.role = user.id, username, user.email, role
        http.password, http.token = PASSWORD, tokens["access_token"]
        http.refresh_token = tokens["refresh_token"]
        return http

    yield make
    for http in clients:
        await http.aclose()


@pytest.fixture
async def client(make_client: MakeClient) -> AuthedClient:
    """An HTTP client on the real app, in-process (no sockets), signed in as a regular user
    who owns what it uploads."""
    return await make_client("user")


@pytest.fixture
async def anon_client(make_client: MakeClient) -> AuthedClient:
    """An HTTP client on the same app with no credentials (a guest)."""
    return await make_client(None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn on a loopback port in a thread, serving the real app.

    ``token`` (and ``headers``) sign requests in as a regular user, ``user_id``.
    """

    token: str
    user_id: str
    headers: dict[str, str]

    def __init__(self, settings: Settings) -> None:
        from api.app import create_app

        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        from api.commands import server_options

        options = server_options(settings) | {"host": "127.0.0.1", "port": self.port}
        config = uvicorn.Config(
            create_app(settings),
            **options | {"log_level": "warning"},
            loop="asyncio",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.sign_in("user")

    def sign_in(self, role: str, username: str = "live-user") -> None:
        """Make an account and sign this server's ``token`` and ``headers`` in as it."""
        from api.app import create_app

        async def make() -> str:
            app = create_app(self.settings)  # its own engine: the server's loop is elsewhere
            async with app.lifespan():
                user = await create_account(app, role=role, username=username)
            return str(user.id)

        self.user_id = asyncio.run(make())
        reply = httpx.post(
            f"{self.url}/api/v1/auth/login",
            json={"username": username, "password": PASSWORD},
        )
        reply.raise_for_status()
        self.token = reply.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    yield server
    server.stop()


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    """Poll an (async) predicate until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def temp_files(settings: Settings) -> list[Path]:
    return sorted(settings.tmp_dir.iterdir()) if settings.tmp_dir.exists() else []


def blob_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.blob_dir.rglob("*") if p.is_file())
