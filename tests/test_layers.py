"""Imports run one way (DESIGN.md): a wrong import fails here, not in review."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"mcore", "mart", "msocial", "api", "codegen", "seeder", "mstack_client", "client"}
ALLOWED = {
    "mcore": {"mcore"},
    "mart": {"mart", "mcore"},
    "msocial": {"msocial", "mart", "mcore"},
    "api": {"api", "mcore", "mart", "msocial"},
    "codegen": {"codegen", "mcore"},
    # a client of the system: the SDK and its own generated fake values (seeder/_generated)
    "seeder": {"seeder", "mstack_client"},
    "client": {"mstack_client"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OURS


def sources(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if ".venv" not in p.parts)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_run_one_way(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources(package)
        for name in imported_packages(path) - ALLOWED[package]
    }
    assert not wrong, sorted(wrong)


def test_the_check_sees_real_imports() -> None:
    assert "mcore" in imported_packages(ROOT / "api" / "app.py")
    assert sources("mcore"), "no sources found: the layer check would pass vacuously"


# -- inside mcore ---------------------------------------------------------------------------

# mcore's rooms, lowest first. A room is a module or a package of mcore; a file belongs to
# the longest room its name starts with, so a package whose modules stand at different
# heights names its upper modules as rooms of their own (``files`` holds the tables and
# staging, ``files.ops`` the ops above the access rules). A module may import its own room
# and the rooms of the rows above it in this table: never a room of its own row or below.
MCORE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("clock", "errors", "settings", "metrics", "logs"),  # values, configuration, metrics, logs
    ("ids", "cid", "db"),  # identifiers, CIDs, the database engine
    ("access", "pagination"),  # who is calling and what roles allow; list cursors
    ("storage", "refs", "events"),  # blob stores; blob references; event log and wake-ups
    # tables, staging, blocks, sessions, folder paths: below the access rules
    ("files", "records", "auth", "folders", "sharing", "runtime"),
    ("access.objects",),  # who may read files, records and blobs (rows and SQL)
    ("folders.ops",),  # folders: roots, trees, trash (seed 000's step I)
    ("sharing.ops",),  # groups and their members; shares
    # file ops; version chains; links; the names behind a page of shares
    ("files.ops", "records.versions", "records.links", "sharing.labels"),
    # zips; record ops; CAR exports; account ops; media
    ("files.zips", "records.ops", "records.export", "auth.ops", "media"),
    # queue, worker, job ops, and the handler that processes a file with media; CAR imports
    ("jobs", "records.importing"),
    ("folders.purge",),  # a folder's delete: step I now, step II as a job
    ("people",),  # an account's delete: the same two steps
    ("uploads",),  # the upload op (HTTP and `mstack ingest`): files, jobs and events at once
    ("fetch",),  # ingest from a URL: address checks, the download, its job's handler
    ("jobs.worker",),  # the worker: claims jobs and runs each kind's handler
    ("maintenance", "models", "migrate", "settings_doc"),  # gc and verify; every table; tools
    ("migrations",),  # Alembic's environment
)
ROOM_ROW = {room: row for row, rooms in enumerate(MCORE_LAYERS) for room in rooms}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def mcore_imports(path: Path) -> set[str]:
    """The mcore modules a file imports (``from mcore.x import y`` names ``mcore.x.y`` when
    ``y`` is a module), at the top or inside a function."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = (ROOT / sub.replace(".", "/")).is_dir() or (
                    ROOT / (sub.replace(".", "/") + ".py")
                ).is_file()
                found.add(sub if is_module else base)
    return {name for name in found if name.startswith("mcore.")}


def room_of(module: str) -> str | None:
    """The room of ``mcore.a.b.c``: the longest of ``a.b.c``, ``a.b``, ``a`` in the table."""
    parts = module.split(".")[1:]
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in ROOM_ROW:
            return ".".join(parts[:end])
    return None


def wrong_imports_in_mcore(root: Path = ROOT) -> list[str]:
    wrong = []
    for path in sorted((root / "mcore").rglob("*.py")):
        source = module_name(path)
        room = room_of(source)
        if room is None:
            continue  # mcore/__init__.py; a module outside the table is reported apart
        for target in sorted(mcore_imports(path)):
            there = room_of(target)
            if there == room:
                continue
            if there is None or ROOM_ROW[there] >= ROOM_ROW[room]:
                wrong.append(f"{path.relative_to(root)} ({room}) imports {target} ({there})")
    return wrong


def test_mcore_rooms_import_downwards_only() -> None:
    wrong = wrong_imports_in_mcore()
    assert not wrong, "\n".join(["upward or sideways imports (see MCORE_LAYERS):", *wrong])


def test_every_mcore_module_has_a_room() -> None:
    homeless = [
        str(path.relative_to(ROOT))
        for path in sources("mcore")
        if path != ROOT / "mcore" / "__init__.py" and room_of(module_name(path)) is None
    ]
    assert not homeless, f"give these a room in MCORE_LAYERS: {homeless}"
    stale = [
        room
        for room in ROOM_ROW
        if not (ROOT / "mcore" / room.replace(".", "/")).is_dir()
        and not (ROOT / "mcore" / (room.replace(".", "/") + ".py")).is_file()
    ]
    assert not stale, f"MCORE_LAYERS names rooms that do not exist: {stale}"


def test_the_room_check_sees_real_imports() -> None:
    zips = ROOT / "mcore" / "files" / "zips.py"
    assert "mcore.files.derivatives" in mcore_imports(zips)
    assert room_of("mcore.files.ops") == "files.ops"
    assert room_of("mcore.files.models") == "files"
    assert room_of("mcore.records.ops._lists") == "records.ops"


# -- inside the client: the SDK never imports the command line ----------------------------

CLIENT = ROOT / "client" / "mstack_client"
CLIENT_LAYERS: list[list[str]] = [
    # what everything stands on: no HTTP here
    ["_version", "errors", "cid", "models", "_generated", "_standalone"],
    # the SDK: requests, transfers, credentials, records
    ["_core", "_api", "_transfer", "_twins", "records", "config"],
    # the typed classes of each model; folders, groups and shares (sync generated from async)
    ["_generated.sdk", "asharing"],
    ["aclient", "_generated.sdk.client"],  # AsyncClient, and Client generated from it
    ["mstack_client"],  # the package's public names
    # the command line, made of the SDK
    ["cli._context", "cli._records", "cli._refs"],
    ["_generated.cli"],  # the command groups of each model
    ["cli"],
    ["_launch"],  # the `mstack` console script
]
"""The client's own modules from the bottom up, each name a module or a package (a longer
name wins): a module imports only from its own layer and those below it."""


def client_module(path: Path) -> str:
    """``cli/_context.py`` -> ``cli._context``; the package's ``__init__`` -> ``mstack_client``."""
    parts = list(path.relative_to(CLIENT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "mstack_client"


def client_layer(module: str) -> int:
    """The layer of ``module`` (a name of ``client_module``'s), by its longest listed prefix."""
    placed = [
        (len(name), i)
        for i, names in enumerate(CLIENT_LAYERS)
        for name in names
        if module == name or module.startswith(name + ".")
    ]
    assert placed, f"{module} is in no layer of CLIENT_LAYERS: place it"
    return max(placed)[1]


def is_client_module(dotted: str) -> bool:
    """Whether ``mstack_client.<dotted>`` is a module or a package of the client."""
    place = CLIENT.joinpath(*dotted.split("."))
    return place.with_suffix(".py").is_file() or (place / "__init__.py").is_file()


def client_imports(path: Path) -> set[str]:
    """The client modules ``path`` imports, as ``client_module`` names them."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from mstack_client import _api` imports a module; `... import Client`, a name
            modules = []
            for alias in node.names:
                inner = f"{node.module}.{alias.name}".removeprefix("mstack_client.")
                is_module = node.module.startswith("mstack_client") and is_client_module(inner)
                modules.append(f"mstack_client.{inner}" if is_module else node.module)
        else:
            continue
        for module in modules:
            if module == "mstack_client":
                found.add("mstack_client")
            elif module.startswith("mstack_client."):
                found.add(module.removeprefix("mstack_client."))
    return found


def test_the_client_imports_run_one_way() -> None:
    wrong = []
    for path in sorted(CLIENT.rglob("*.py")):
        module = client_module(path)
        for name in sorted(client_imports(path)):
            if client_layer(name) > client_layer(module):
                wrong.append(f"{module} imports {name}, a layer above it")
    assert not wrong, wrong


def test_the_client_layers_see_real_imports() -> None:
    assert client_imports(CLIENT / "cli" / "__init__.py") >= {"_generated.cli", "cli._context"}
    assert client_imports(CLIENT / "aclient.py") >= {"_api", "_generated.sdk"}
    assert client_layer("_generated.sdk.mart") < client_layer("cli._context")
    assert client_layer("_generated.cli.mart") > client_layer("_generated.sdk.client")
