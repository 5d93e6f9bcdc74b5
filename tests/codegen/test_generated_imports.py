"""Generated code and specs import only what they may (the packages' directions are
checked by tests/test_layers.py)."""

import ast
from pathlib import Path

PROJECT = Path(__file__).parents[2]
OURS = {"mcore", "mart", "msocial", "api", "codegen", "seeder", "mstack_client", "client"}


def imported(path: Path) -> set[str]:
    """The modules ``path`` imports (relative imports excluded)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_generated_code_never_imports_hand_written_code() -> None:
    paths = sorted((PROJECT / "mart" / "_generated").glob("*.py"))
    assert paths
    for path in paths:
        for name in imported(path):
            if name.split(".")[0] == "mart":
                assert name.startswith("mart._generated"), f"{path.name} imports {name}"


def test_specs_import_only_spec_types() -> None:
    names = imported(PROJECT / "mart" / "specs.py")
    assert "mcore.records.kinds" in names
    for name in names:
        assert name.split(".")[0] not in OURS or name == "mcore.records.kinds", name
