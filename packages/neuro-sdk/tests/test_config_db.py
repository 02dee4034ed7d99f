"""The local config db: exact schema, round trip, private modes, logout."""

import sqlite3
import stat
import time
from pathlib import Path

import pytest

from neuro_sdk import ConfigError, Factory
from neuro_sdk._auth_token import _AuthToken
from neuro_sdk._config_db import (
    db_path,
    delete_config,
    load_config_data,
    save_config_data,
    save_token,
)

from .conftest import MakeConfigData

EXPECTED_MAIN_SQL = (
    "CREATE TABLE main (auth_config TEXT, token TEXT, expiration_time REAL, refresh_token TEXT, "
    "url TEXT, admin_url TEXT, version TEXT, cluster_name TEXT, org_name TEXT, clusters TEXT, "
    "timestamp REAL)"
)


def test_round_trip_keeps_every_field(config_dir: Path, make_config_data: MakeConfigData) -> None:
    data = make_config_data(clusters={"default": [None, "acme"], "gpu": ["acme"]}, org_name="acme")
    save_config_data(config_dir, data)
    assert load_config_data(config_dir) == data


def test_db_has_the_exact_schema_wal_and_one_row(
    config_dir: Path, make_config_data: MakeConfigData
) -> None:
    save_config_data(config_dir, make_config_data())
    save_config_data(config_dir, make_config_data(cluster_name="default"))
    connection = sqlite3.connect(db_path(config_dir))
    try:
        tables = dict(connection.execute("SELECT name, sql FROM sqlite_master WHERE type='table'"))
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        rows = connection.execute("SELECT count(*) FROM main").fetchone()[0]
        presets = connection.execute("SELECT clusters FROM main").fetchone()[0]
    finally:
        connection.close()
    assert " ".join(tables["main"].split()) == EXPECTED_MAIN_SQL
    assert "cookie_session" in tables
    assert journal_mode == "wal"
    assert rows == 1
    # Our SDK follows 22.6: presets carry memory_mb.
    assert '"memory_mb": 1024' in presets


def test_files_are_private(config_dir: Path, make_config_data: MakeConfigData) -> None:
    save_config_data(config_dir, make_config_data())
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(db_path(config_dir).stat().st_mode) == 0o600


def test_group_readable_db_is_refused_with_a_chmod_hint(
    config_dir: Path, make_config_data: MakeConfigData
) -> None:
    save_config_data(config_dir, make_config_data())
    db_path(config_dir).chmod(0o644)
    with pytest.raises(ConfigError, match=f"chmod 600 {db_path(config_dir)}"):
        load_config_data(config_dir)


def test_world_readable_dir_is_refused_with_a_chmod_hint(
    config_dir: Path, make_config_data: MakeConfigData
) -> None:
    save_config_data(config_dir, make_config_data())
    config_dir.chmod(0o755)
    with pytest.raises(ConfigError, match=f"chmod 700 {config_dir}"):
        load_config_data(config_dir)


def test_saving_repairs_modes(config_dir: Path, make_config_data: MakeConfigData) -> None:
    save_config_data(config_dir, make_config_data())
    config_dir.chmod(0o755)
    db_path(config_dir).chmod(0o644)
    save_config_data(config_dir, make_config_data())
    assert load_config_data(config_dir).cluster_name == "default"


def test_foreign_schema_is_a_config_error(config_dir: Path) -> None:
    config_dir.mkdir(mode=0o700)
    connection = sqlite3.connect(db_path(config_dir))
    connection.execute("CREATE TABLE main (token TEXT)")
    connection.commit()
    connection.close()
    db_path(config_dir).chmod(0o600)
    with pytest.raises(ConfigError, match="unexpected schema"):
        load_config_data(config_dir)


def test_garbage_file_is_a_config_error(config_dir: Path) -> None:
    config_dir.mkdir(mode=0o700)
    db_path(config_dir).write_bytes(b"this is not sqlite" * 100)
    db_path(config_dir).chmod(0o600)
    with pytest.raises(ConfigError, match="Malformed config file"):
        load_config_data(config_dir)


def test_missing_config_asks_to_login(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match="Please login"):
        load_config_data(config_dir)


def test_token_update_is_written_back(config_dir: Path, make_config_data: MakeConfigData) -> None:
    save_config_data(config_dir, make_config_data())
    new_token = _AuthToken("new-token", time.time() + 60, "refresh-me")
    save_token(config_dir, new_token)
    assert load_config_data(config_dir).auth_token == new_token


async def test_logout_removes_db_and_empty_dir(
    config_dir: Path, make_config_data: MakeConfigData
) -> None:
    save_config_data(config_dir, make_config_data())
    assert Factory(config_dir).is_config_present
    await Factory(config_dir).logout()
    assert not Factory(config_dir).is_config_present
    assert not config_dir.is_dir()  # noqa: ASYNC240


def test_logout_keeps_a_dir_with_other_files(
    config_dir: Path, make_config_data: MakeConfigData
) -> None:
    save_config_data(config_dir, make_config_data())
    (config_dir / "user.toml").write_text("")
    delete_config(config_dir)
    assert sorted(path.name for path in config_dir.iterdir()) == ["user.toml"]


def test_factory_path_comes_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEUROMATION_CONFIG", str(tmp_path / "from-env"))
    assert Factory().path == tmp_path / "from-env"
    assert Factory(tmp_path / "explicit").path == tmp_path / "explicit"
    monkeypatch.delenv("NEUROMATION_CONFIG")
    assert Factory().path == Path.home() / ".neuro"
