"""Editing the Docker client's ``config.json`` (``neuro config docker``)."""

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def add_credential_helper(folder: Path, hosts: Iterable[str], *, helper: str) -> Path:
    """Name ``docker-credential-<helper>`` for each registry host, keeping the rest.

    The file is replaced atomically: it may hold the user's other registries' logins, and
    a half-written file would lose them.
    """
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"Docker config path {folder} is not a directory")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    payload: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8") or "{}")
        except ValueError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"{path} is not a JSON object")
        payload = loaded
    helpers = payload.get("credHelpers")
    if not isinstance(helpers, dict):
        helpers = {}
    for host in hosts:
        helpers[host] = helper
    payload["credHelpers"] = helpers
    # Docker keeps credentials here: the file stays readable by its owner only.
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".config.json.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(payload, file, indent=2)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
