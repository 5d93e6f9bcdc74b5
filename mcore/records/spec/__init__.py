"""Spec types: how a domain declares its record models once, for codegen to render.

A domain's ``specs.py`` builds a ``Spec`` from these declarations and codegen loads it by
path. :func:`check_spec` collects every problem at once (each naming its model and field)
and returns the spec with shorthand kinds resolved. Kinds the canonical encoding forbids,
such as ``float``, are refused here, long before anything is hashed.
"""

from mcore.records.spec._check import check_spec
from mcore.records.spec._kinds import (
    Boolean,
    Computed,
    Date,
    Embedded,
    Field,
    FileLink,
    Integer,
    Kind,
    Link,
    ListOf,
    Model,
    PathInfo,
    SetOf,
    Spec,
    SpecError,
    SpecInvalid,
    Text,
    param_name,
    resolve_path,
)

__all__ = [
    "Boolean",
    "Computed",
    "Date",
    "Embedded",
    "Field",
    "FileLink",
    "Integer",
    "Kind",
    "Link",
    "ListOf",
    "Model",
    "PathInfo",
    "SetOf",
    "Spec",
    "SpecError",
    "SpecInvalid",
    "Text",
    "check_spec",
    "param_name",
    "resolve_path",
]
