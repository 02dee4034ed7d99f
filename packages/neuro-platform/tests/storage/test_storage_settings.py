"""Where each cluster's storage lives: `[storage] root` or `<data-dir>/storage`."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from neuro_platform.settings import load_settings
from neuro_platform.storage.roots import storage_root
from neuro_platform.testing import running_platform

from .conftest import StorageUser


def test_storage_root_defaults_under_the_data_dir_and_follows_config_and_env(
    tmp_path: Path,
) -> None:
    config = tmp_path / "platform.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n')
    default = load_settings(config, env={})
    assert storage_root(default, "default") == tmp_path / "data" / "storage" / "default"

    config.write_text(f'[storage]\nroot = "{tmp_path / "big-disk"}"\n')
    configured = load_settings(config, env={})
    assert storage_root(configured, "other") == tmp_path / "big-disk" / "other"

    from_env = load_settings(config, env={"NEURO_PLATFORM_STORAGE_ROOT": str(tmp_path / "env")})
    assert storage_root(from_env, "default") == tmp_path / "env" / "default"


async def test_server_keeps_files_in_the_configured_root(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    root = tmp_path / "big-disk"
    with running_platform(tmp_path, config={"storage": {"root": str(root)}}) as server:
        server.create_user("alice", "alice-password")
        alice = StorageUser(
            "alice", server.issue_token("alice"), server.api_url / "storage", session
        )
        assert (await alice.put("alice/data/x.txt", b"on the big disk")).status == 201
    assert (root / "default" / "alice" / "data" / "x.txt").read_bytes() == b"on the big disk"
