"""The local config database ``<config dir>/db`` (docs/protocol.md §2.6).

SQLite in WAL mode, one row in table ``main``; the directory is private (0700) and the
file too (0600), because the row holds the user's tokens.
"""

import contextlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from yarl import URL

from ._auth_token import _AuthToken
from ._cluster import Cluster, Preset
from ._errors import ConfigError
from ._server_cfg import _AuthConfig

DB_NAME = "db"
MAIN_TABLE_SQL = (
    "CREATE TABLE main (auth_config TEXT, token TEXT, expiration_time REAL, "
    "refresh_token TEXT, url TEXT, admin_url TEXT, version TEXT, cluster_name TEXT, "
    "org_name TEXT, clusters TEXT, timestamp REAL)"
)
COOKIE_TABLE_SQL = (
    "CREATE TABLE cookie_session (name TEXT, domain TEXT, path TEXT, cookie TEXT, timestamp REAL)"
)
COOKIE_INDEX_SQL = "CREATE UNIQUE INDEX cookie_session_index ON cookie_session (name)"
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class _ConfigData:
    """Everything a logged-in client needs, as stored in the db row."""

    auth_config: _AuthConfig
    auth_token: _AuthToken
    url: URL
    admin_url: URL | None
    version: str
    cluster_name: str | None
    org_name: str | None
    clusters: Mapping[str, Cluster]


def db_path(config_dir: Path) -> Path:
    return config_dir / DB_NAME


def _collapse(sql: str) -> str:
    return " ".join(sql.split())


def check_modes(config_dir: Path) -> None:
    """Refuse a config readable by others: it holds the user's tokens."""
    # The original SDK's messages (docs/compatibility.md, "SDK").
    dir_mode = stat.S_IMODE(config_dir.stat().st_mode)
    if dir_mode & 0o077:
        raise ConfigError(
            f"Config {config_dir} has compromised permission bits, "
            f"run 'chmod {DIR_MODE:o} {config_dir}' first"
        )
    file = db_path(config_dir)
    file_mode = stat.S_IMODE(file.stat().st_mode)
    if file_mode & 0o177:
        raise ConfigError(
            f"Config at {file} has compromised permission bits, "
            f"run 'chmod {FILE_MODE:o} {file}' first"
        )


@contextlib.contextmanager
def _connect(file: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(file)
    try:
        with connection:
            yield connection
    finally:
        connection.close()


def _prepare_private_file(config_dir: Path) -> Path:
    config_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    config_dir.chmod(DIR_MODE)
    file = db_path(config_dir)
    # Create the file with its final mode so the tokens are never readable by others.
    os.close(os.open(file, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    file.chmod(FILE_MODE)
    return file


def save_config_data(config_dir: Path, data: _ConfigData) -> None:
    file = _prepare_private_file(config_dir)
    with _connect(file) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        _ensure_tables(connection)
        connection.execute("DELETE FROM main")
        connection.execute(
            "INSERT INTO main (auth_config, token, expiration_time, refresh_token, url, "
            "admin_url, version, cluster_name, org_name, clusters, timestamp) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                json.dumps(_auth_config_to_json(data.auth_config)),
                data.auth_token.token,
                data.auth_token.expiration_time,
                data.auth_token.refresh_token,
                str(data.url),
                str(data.admin_url) if data.admin_url is not None else None,
                data.version,
                data.cluster_name,
                data.org_name,
                json.dumps([_cluster_to_json(cluster) for cluster in data.clusters.values()]),
                time.time(),
            ),
        )


def save_token(config_dir: Path, token: _AuthToken) -> None:
    with _connect(db_path(config_dir)) as connection:
        connection.execute(
            "UPDATE main SET token = ?, expiration_time = ?, refresh_token = ?",
            (token.token, token.expiration_time, token.refresh_token),
        )


def _ensure_tables(connection: sqlite3.Connection) -> None:
    existing = {
        name: sql
        for name, sql in connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql NOT NULL"
        )
    }
    if "main" in existing and _collapse(existing["main"]) != _collapse(MAIN_TABLE_SQL):
        connection.execute("DROP TABLE main")
        del existing["main"]
    if "main" not in existing:
        connection.execute(MAIN_TABLE_SQL)
    if "cookie_session" not in existing:
        connection.execute(COOKIE_TABLE_SQL)
    if "cookie_session_index" not in existing:
        connection.execute(COOKIE_INDEX_SQL)


def load_config_data(config_dir: Path) -> _ConfigData:
    file = db_path(config_dir)
    # What the original SDK says for each way the config can be missing.
    if not config_dir.exists():
        raise ConfigError(f"Config at {config_dir} does not exists. Please login.")
    if not config_dir.is_dir():
        raise ConfigError(
            f"Config at {config_dir} is not a directory. Please logout and login again."
        )
    if not file.is_file():
        raise ConfigError(f"Config {file} is not a regular file. Please logout and login again.")
    check_modes(config_dir)
    try:
        with _connect(file) as connection:
            row = _read_main_row(connection, file)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"Malformed config file {file}: {exc}") from exc
    try:
        return _row_to_data(row)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ConfigError(f"Malformed config file {file}: {exc!r}") from exc


def _read_main_row(connection: sqlite3.Connection, file: Path) -> sqlite3.Row:
    schema = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'main'"
    ).fetchone()
    if schema is None or _collapse(schema[0]) != _collapse(MAIN_TABLE_SQL):
        raise ConfigError(f"Malformed config file {file}: unexpected schema of table 'main'")
    connection.row_factory = sqlite3.Row
    row: sqlite3.Row | None = connection.execute(
        "SELECT * FROM main ORDER BY timestamp DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise ConfigError(f"Malformed config file {file}: no configuration stored")
    return row


def _row_to_data(row: sqlite3.Row) -> _ConfigData:
    clusters = [_cluster_from_json(item) for item in json.loads(row["clusters"])]
    return _ConfigData(
        auth_config=_auth_config_from_json(json.loads(row["auth_config"])),
        auth_token=_AuthToken(
            token=row["token"],
            expiration_time=float(row["expiration_time"]),
            refresh_token=row["refresh_token"] or "",
        ),
        url=URL(row["url"]),
        admin_url=URL(row["admin_url"]) if row["admin_url"] else None,
        version=row["version"],
        cluster_name=row["cluster_name"],
        org_name=row["org_name"],
        clusters={cluster.name: cluster for cluster in clusters},
    )


def delete_config(config_dir: Path) -> None:
    """Remove the db (and its WAL files); drop the directory when nothing else is left."""
    if config_dir.is_file():
        # A legacy single-file config lives at the path itself.
        config_dir.unlink()
        return
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
        (config_dir / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        config_dir.rmdir()


def _auth_config_to_json(config: _AuthConfig) -> dict[str, Any]:
    return {
        "auth_url": str(config.auth_url),
        "token_url": str(config.token_url),
        "logout_url": str(config.logout_url),
        "client_id": config.client_id,
        "audience": config.audience,
        "headless_callback_url": str(config.headless_callback_url),
        "success_redirect_url": (
            str(config.success_redirect_url) if config.success_redirect_url else None
        ),
        "callback_urls": [str(url) for url in config.callback_urls],
    }


def _auth_config_from_json(payload: Mapping[str, Any]) -> _AuthConfig:
    success_redirect_url = payload.get("success_redirect_url")
    return _AuthConfig(
        auth_url=URL(payload["auth_url"]),
        token_url=URL(payload["token_url"]),
        logout_url=URL(payload["logout_url"]),
        client_id=payload["client_id"],
        audience=payload["audience"],
        headless_callback_url=URL(payload["headless_callback_url"]),
        success_redirect_url=URL(success_redirect_url) if success_redirect_url else None,
        callback_urls=tuple(URL(url) for url in payload["callback_urls"]),
    )


_CLUSTER_URL_FIELDS = (
    "registry_url",
    "storage_url",
    "users_url",
    "monitoring_url",
    "secrets_url",
    "disks_url",
    "buckets_url",
)


def _cluster_to_json(cluster: Cluster) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": cluster.name, "orgs": list(cluster.orgs)}
    for field_name in _CLUSTER_URL_FIELDS:
        payload[field_name] = str(getattr(cluster, field_name))
    payload["presets"] = [_preset_to_json(name, preset) for name, preset in cluster.presets.items()]
    return payload


def _preset_to_json(name: str, preset: Preset) -> dict[str, Any]:
    # 22.6 layout: memory_mb, not memory (a 22.7 db cannot be read by 22.6 and vice versa).
    payload = asdict(preset)
    payload["credits_per_hour"] = str(preset.credits_per_hour)
    return {"name": name, **payload}


def _cluster_from_json(payload: Mapping[str, Any]) -> Cluster:
    urls = {field_name: URL(payload[field_name]) for field_name in _CLUSTER_URL_FIELDS}
    return Cluster(
        name=payload["name"],
        orgs=list(payload["orgs"]),
        presets={item["name"]: _preset_from_json(item) for item in payload["presets"]},
        **urls,
    )


def _preset_from_json(payload: Mapping[str, Any]) -> Preset:
    return Preset(
        credits_per_hour=Decimal(payload["credits_per_hour"]),
        cpu=float(payload["cpu"]),
        memory_mb=int(payload["memory_mb"]),
        scheduler_enabled=bool(payload["scheduler_enabled"]),
        preemptible_node=bool(payload["preemptible_node"]),
        gpu=payload.get("gpu"),
        gpu_model=payload.get("gpu_model"),
        tpu_type=payload.get("tpu_type"),
        tpu_software_version=payload.get("tpu_software_version"),
    )
