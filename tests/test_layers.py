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
    "seeder": {"seeder", "mcore", "mart", "msocial"},
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


# -- inside the client: the SDK never imports the command line ----------------------------

CLIENT = ROOT / "client" / "mstack_client"
CLIENT_LAYERS: list[list[str]] = [
    # what everything stands on: no HTTP here
    ["_version", "errors", "cid", "models", "_generated"],
    # the SDK: requests, transfers, credentials, records
    ["_core", "_api", "_transfer", "_twins", "records", "config"],
    ["_generated.sdk"],  # the typed classes of each model
    ["aclient", "_generated.sdk.client"],  # AsyncClient, and Client generated from it
    ["mstack_client"],  # the package's public names
    # the command line, made of the SDK
    ["cli._context", "cli._records"],
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
