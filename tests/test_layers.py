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
