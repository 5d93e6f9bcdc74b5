"""Imports run one way (DESIGN.md): checked on the packages the records work touches."""

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).parents[1]
OURS = {"mcore", "mart", "msocial", "api", "client", "codegen", "seeder", "tests", "bench"}
ALLOWED = {
    "mcore": {"mcore"},
    "mart": {"mcore", "mart"},
    "codegen": {"mcore", "codegen"},
}


def imported(path: Path) -> set[str]:
    """The top-level names of every module ``path`` imports (relative imports excluded)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    wrong = []
    for path in sorted((PROJECT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in imported(path):
            top = name.split(".")[0]
            if top in OURS and top not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(PROJECT)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_generated_code_never_imports_hand_written_code() -> None:
    for path in sorted((PROJECT / "mart" / "_generated").glob("*.py")):
        for name in imported(path):
            if name.startswith("mart"):
                assert name.startswith("mart._generated"), f"{path.name} imports {name}"


def test_specs_import_only_spec_types() -> None:
    for name in imported(PROJECT / "mart" / "specs.py"):
        top = name.split(".")[0]
        assert top not in OURS or name == "mcore.records.spec", name
