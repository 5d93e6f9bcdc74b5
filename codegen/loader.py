"""Loading spec modules by path (they are read, never imported as part of a package), then
checking what they declare."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from codegen.check import SpecError, check_spec
from mcore.records.kinds import Spec


def load_spec(path: Path, origin: str) -> tuple[Spec | None, list[SpecError]]:
    """The checked ``SPEC`` of the module at ``path``, or every error found in it.

    ``origin`` is how messages and banners name the spec (its path from the project root).
    """
    if not path.is_file():
        return None, [SpecError(origin, "spec", "no such file")]
    name = "_codegen_spec_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        return None, [SpecError(origin, "spec", "is not a Python module")]
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module  # dataclasses look their module up while the spec runs
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        return None, [SpecError(origin, "spec", f"fails to load: {type(exc).__name__}: {exc}")]
    finally:
        sys.modules.pop(name, None)
    if not hasattr(module, "SPEC"):
        return None, [SpecError(origin, "spec", "defines no SPEC")]
    return check_spec(module.SPEC, origin)
