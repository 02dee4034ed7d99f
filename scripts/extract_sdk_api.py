#!/usr/bin/env python3
"""Describe the public API of an installed ``neuro_sdk`` as JSON.

Run it with the interpreter of a throwaway virtual environment that has the original
package installed, to regenerate the list the parity test compares ours with::

    python3 -m venv /tmp/v && /tmp/v/bin/pip install neuro-sdk==22.6.3
    /tmp/v/bin/python scripts/extract_sdk_api.py \
        > packages/neuro-sdk/tests/data/original_api_22_6_3.json

The parity test (packages/neuro-sdk/tests/test_public_api_parity.py) imports
``describe_module`` from this file to describe our package the same way, so both sides
are described by one rule. Standard library only: it must run in a bare venv.
"""

import dataclasses
import enum
import importlib
import inspect
import json
import re
import sys
import types
from typing import Any

# Memory addresses make reprs of defaults differ from run to run.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _default_repr(value: Any) -> str | None:
    if value is inspect.Parameter.empty:
        return None
    return _ADDRESS.sub("", repr(value))


def describe_signature(func: Any) -> list[dict[str, Any]] | None:
    """Each parameter's name, kind and default repr, in order; None where there is none."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    return [
        {"name": p.name, "kind": p.kind.name, "default": _default_repr(p.default)}
        for p in sig.parameters.values()
    ]


def _member_kind(cls: type, name: str) -> tuple[str, Any] | None:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            raw = klass.__dict__[name]
            break
    else:
        return None
    if isinstance(raw, property):
        return "property", None
    if isinstance(raw, classmethod):
        return "classmethod", getattr(cls, name)
    if isinstance(raw, staticmethod):
        return "staticmethod", getattr(cls, name)
    if inspect.isfunction(raw):
        if inspect.iscoroutinefunction(raw):
            return "async method", raw
        if inspect.isasyncgenfunction(raw):
            return "async generator method", raw
        return "method", raw
    return None


def describe_class(cls: type) -> dict[str, Any]:
    info: dict[str, Any] = {"kind": "class"}
    if issubclass(cls, BaseException):
        info["kind"] = "exception"
        info["bases"] = [b.__name__ for b in cls.__mro__[1:] if b is not object]
    elif issubclass(cls, enum.Enum):
        info["kind"] = "enum"
        info["members"] = {m.name: repr(m.value) for m in cls}
        return info
    if dataclasses.is_dataclass(cls):
        info["kind"] = "dataclass"
        info["fields"] = [f.name for f in dataclasses.fields(cls)]
    # The class's own callable surface: the constructor and every public member,
    # inherited ones included (a subclass is used through them too).
    members: dict[str, Any] = {}
    if "__init__" in {n for k in cls.__mro__[:-1] for n in k.__dict__}:
        members["__init__"] = {"kind": "method", "params": describe_signature(cls.__init__)}
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        found = _member_kind(cls, name)
        if found is None:
            continue
        kind, func = found
        entry: dict[str, Any] = {"kind": kind}
        if func is not None:
            entry["params"] = describe_signature(func)
        members[name] = entry
    info["members"] = members
    return info


def describe_value(value: Any) -> dict[str, Any]:
    if isinstance(value, type):
        return describe_class(value)
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        kind = "async function" if inspect.iscoroutinefunction(value) else "function"
        return {"kind": kind, "params": describe_signature(value)}
    if isinstance(value, types.GenericAlias) or type(value).__module__ == "typing":
        return {"kind": "type alias"}
    return {"kind": "constant", "type": type(value).__name__}


def describe_module(module_name: str = "neuro_sdk") -> dict[str, Any]:
    module = importlib.import_module(module_name)
    names = sorted(set(module.__all__))
    return {
        "version": module.__version__,
        "all": names,
        "names": {name: describe_value(getattr(module, name)) for name in names},
    }


if __name__ == "__main__":
    json.dump(describe_module(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
