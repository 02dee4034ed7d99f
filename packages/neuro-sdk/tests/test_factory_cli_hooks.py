"""What the CLI needs of ``Factory`` (22.6's signature): the user config without a login, and
aiohttp trace hooks on every request of the clients it makes."""

from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from neuro_platform.testing.server import PlatformServer
from neuro_sdk import ConfigError, Factory


def write_user_config(config_dir: Path, text: str) -> None:
    config_dir.mkdir(exist_ok=True)
    (config_dir / "user.toml").write_text(text)


async def test_load_user_config_needs_no_login(config_dir: Path) -> None:
    write_user_config(config_dir, '[alias.lsl]\ncmd = "ls -l"\n')
    factory = Factory(config_dir)

    assert not factory.is_config_present
    assert (await factory.load_user_config())["alias"] == {"lsl": {"cmd": "ls -l"}}
    write_user_config(config_dir, "[no-such-section]\nx = 1\n")
    with pytest.raises(ConfigError, match="unknown section"):
        await factory.load_user_config()


async def test_trace_configs_see_every_request(
    shared_platform_server: PlatformServer, config_dir: Path
) -> None:
    seen: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, data: aiohttp.TraceRequestStartParams
    ) -> None:
        seen.append(f"{data.method} {data.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    token = shared_platform_server.issue_token("alice")
    await Factory(config_dir).login_with_token(token, url=shared_platform_server.api_url)

    client = await Factory(config_dir, trace_configs=[trace]).get()
    try:
        await client.storage.stat(client.parse.str_to_uri("storage:"))
    finally:
        await client.close()

    assert any(line.startswith("GET /api/v1/storage/") for line in seen), seen
