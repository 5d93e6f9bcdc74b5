"""No Docker engine runs here, so check what can be checked: the image gets every package
the server imports, and installs the way the README does."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_image_copies_every_server_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, re.M))
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    packages = {p.rstrip("*") for p in include if (ROOT / p.rstrip("*")).is_dir()}
    assert packages, "no server packages found"
    assert packages | {"client"} <= copied, sorted(packages | {"client"} - copied)
    assert "pip install --no-cache-dir -c constraints.txt ./client ." in dockerfile
    assert "MSTACK_MODE=production" in dockerfile


def test_a_built_wheel_carries_the_data_files(tmp_path: Path) -> None:
    """A non-editable install (the image's) needs the migrations, templates and word list."""
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("mstack-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    versions = {p.name for p in (ROOT / "mcore" / "migrations" / "versions").glob("*.py")}
    assert {f"mcore/migrations/versions/{v}" for v in versions} <= names
    assert "mcore/migrations/env.py" in names
    assert "mcore/auth/common-passwords.txt" in names
    assert "codegen/templates/models.py.j2" in names
    assert "mart/_generated/models.py" in names
