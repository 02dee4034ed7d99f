"""The names and parameters ours gained from the original 22.6.3 API (issue #16) do what the
original's do; against our real server where a server is involved."""

import errno
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import PlatformServer
from neuro_sdk import (
    ConfigBuilder,
    ConfigError,
    ConfigScope,
    FileFilter,
    JobStatus,
    JobStatusHistory,
    JobStatusItem,
    NDJSONError,
    PluginManager,
    ResourceNotFound,
)
from neuro_sdk._user_config import load_user_config

ClientOf = Callable[[str], Awaitable[neuro_sdk.Client]]
MIB = 1024**2


# -- ConfigScope ---------------------------------------------------------------------------


def _builder() -> ConfigBuilder:
    builder = PluginManager().config
    builder.define_str("plugin", "anywhere")
    builder.define_str("plugin", "project-only", scope=ConfigScope.LOCAL)
    builder.define_str("plugin", "global-only", scope=ConfigScope.GLOBAL)
    return builder


def test_a_local_scope_parameter_is_refused_in_the_global_file(config_dir: Path) -> None:
    config_dir.mkdir()
    (config_dir / "user.toml").write_text("[plugin]\nproject-only = 'x'\n")
    with pytest.raises(ConfigError, match=r"'plugin\.project-only' is allowed only in a project"):
        load_user_config(config_dir, _builder)


def test_each_scope_is_accepted_where_it_belongs(config_dir: Path) -> None:
    config_dir.mkdir()
    (config_dir / "user.toml").write_text("[plugin]\nanywhere = 'g'\nglobal-only = 'g'\n")
    Path(".neuro.toml").write_text("[plugin]\nanywhere = 'l'\nproject-only = 'l'\n")
    assert load_user_config(config_dir, _builder) == {
        "plugin": {"anywhere": "l", "global-only": "g", "project-only": "l"}
    }
    assert ConfigScope.ALL == ConfigScope.GLOBAL | ConfigScope.LOCAL


# -- FileFilter ----------------------------------------------------------------------------

# What the original FileFilter answers for these rules (run in a throwaway venv).
IGNORE_FILE = b"# comment\n*.pyc\n!keep.pyc\nbuild/\n/top.txt\ndata/**/x\n[ab]?.txt\n[!c].md\n"
ORIGINAL_MATCHES = {
    "a.pyc": False, "d/a.pyc": False, "keep.pyc": True, "d/keep.pyc": True, "build/": False,
    "build": True, "x/build/": False, "top.txt": False, "d/top.txt": True, "data/x": False,
    "data/a/b/x": False, "ax.txt": False, "cx.txt": True, "d.md": False, "c.md": True,
    "e.txt": True,
}  # fmt: skip


async def test_file_filter_answers_as_the_original() -> None:
    rules = FileFilter()
    rules.read_from_buffer(IGNORE_FILE)
    assert {path: await rules.match(path) for path in ORIGINAL_MATCHES} == ORIGINAL_MATCHES
    scoped = FileFilter()
    scoped.exclude("*.log", prefix="sub/")
    assert [await scoped.match(p) for p in ("sub/a.log", "a.log", "sub/d/a.log")] == [
        False,
        True,
        False,
    ]


async def test_file_filter_default_and_file(tmp_path: Path) -> None:
    async def refuse(path: str) -> bool:
        return False

    rules = FileFilter(refuse)
    (tmp_path / ".neuroignore").write_bytes(b"!*.keep\n")
    rules.read_from_file(tmp_path / ".neuroignore")
    assert await rules.match("a.keep") is True
    assert await rules.match("a.other") is False  # no rule: the default decides
    with pytest.raises(ValueError, match="must end with '/'"):
        rules.exclude("*.log", prefix="sub")


# -- Tracing and the version checker --------------------------------------------------------


async def test_factory_trace_arguments_reach_every_request(
    platform_server: PlatformServer, tmp_path: Path
) -> None:
    seen: list[str] = []

    async def on_start(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        seen.append(params.headers["b3"])

    trace_config = aiohttp.TraceConfig()
    trace_config.on_request_start.append(on_start)
    trace_id = neuro_sdk.gen_trace_id()
    await neuro_sdk.login_with_token(
        platform_server.issue_token("alice"), url=platform_server.api_url, path=tmp_path
    )
    factory = neuro_sdk.Factory(
        tmp_path, trace_configs=[trace_config], trace_id=trace_id, trace_sampled=True
    )
    async with await factory.get() as client:
        await client.config.fetch()
        assert client.cluster_name == "default"
        assert await client.version_checker.get_outdated() == {}  # no index to ask
    assert seen
    assert all(b3.startswith(f"{trace_id}-") and b3.endswith("-1") for b3 in seen)
    assert int(trace_id[:8], 16) <= datetime.now(UTC).timestamp() + 1


def test_plugins_register_with_the_version_checker() -> None:
    manager = PluginManager()
    manager.version_checker.register("neuro-extras", lambda old, new: f"{old} -> {new}")
    assert isinstance(manager.version_checker, neuro_sdk.VersionChecker)


# -- Disks, storage and config -------------------------------------------------------------


async def test_disk_owner_argument(client_of: ClientOf) -> None:
    alice = await client_of("alice")
    disk = await alice.disks.create(8 * MIB, timeout_unused=None, name="owned", org_name=None)
    assert (await alice.disks.get("owned", owner="alice")).id == disk.id
    # Hostile: another owner's name is not alice's disk, and two owners are a mistake.
    with pytest.raises(ResourceNotFound):
        await alice.disks.get("owned", owner="bob")
    with pytest.raises(ValueError, match="Invalid disk id or name"):
        await alice.disks.get("bob/owned", owner="alice")
    await alice.disks.rm("owned", owner="alice")
    with pytest.raises(ResourceNotFound):
        await alice.disks.get(disk.id)


async def test_disk_life_span_keyword_of_the_reference(client_of: ClientOf) -> None:
    alice = await client_of("alice")
    disk = await alice.disks.create(8 * MIB, life_span=timedelta(hours=2))
    assert disk.timeout_unused == timedelta(hours=2)
    with pytest.raises(ValueError, match="not both"):
        await alice.disks.create(8 * MIB, timedelta(hours=1), life_span=timedelta(hours=2))


async def test_disk_usage_of_a_uri(client_of: ClientOf) -> None:
    alice = await client_of("alice")
    usage = await alice.storage.disk_usage(uri=URL("storage:"))
    assert usage.uri == URL("storage://default/alice")
    assert (usage.cluster_name, usage.org_name) == ("default", None)
    with pytest.raises(ValueError, match="Invalid scheme 'secret:'"):
        await alice.storage.disk_usage(uri=URL("secret:x"))


async def test_config_names_of_the_original(client_of: ClientOf) -> None:
    alice = await client_of("alice")
    config = alice.config
    assert config.cluster_orgs == [None]
    assert config.disk_api_url == config.disks_url
    assert config.bucket_api_url == config.buckets_url
    assert config.get_cluster("default").name == "default"
    with pytest.raises(RuntimeError, match=r"Cluster nope doesn't exist .*\['default'\]"):
        config.get_cluster("nope")
    await config.check_server()  # same version: nothing to check


def test_check_for_server_error_raises_the_items_error() -> None:
    storage = neuro_sdk.Storage.__new__(neuro_sdk.Storage)  # the method needs no state
    with pytest.raises(FileNotFoundError) as info:
        storage.check_for_server_error({"error": "gone", "errno": "ENOENT"})
    assert info.value.errno == errno.ENOENT
    with pytest.raises(NDJSONError, match="broken"):
        storage.check_for_server_error({"error": "broken"})
    storage.check_for_server_error({"path": "x"})


# -- Jobs ----------------------------------------------------------------------------------


def _history(status: JobStatus, **times: datetime) -> JobStatusHistory:
    return JobStatusHistory(status=status, reason="", description="", **times)  # type: ignore[arg-type]


def test_job_status_history_changed_at() -> None:
    t0, t1, t2 = (datetime(2024, 1, 1, 0, 0, s, tzinfo=UTC) for s in (1, 2, 3))
    assert _history(JobStatus.PENDING, created_at=t0).changed_at == t0
    assert _history(JobStatus.RUNNING, created_at=t0, started_at=t1).changed_at == t1
    finished = _history(JobStatus.FAILED, created_at=t0, started_at=t1, finished_at=t2)
    assert finished.changed_at == t2
    unknown = JobStatusHistory(
        status=JobStatus.UNKNOWN,
        reason="",
        description="",
        transitions=[JobStatusItem(JobStatus.UNKNOWN, t2)],
    )
    assert unknown.changed_at == t2
    with pytest.raises(ValueError, match="No time is known"):
        _ = _history(JobStatus.RUNNING).changed_at


def test_restart_policy_repr_is_its_value() -> None:
    assert repr(neuro_sdk.JobRestartPolicy.ON_FAILURE) == "'on-failure'"
    assert neuro_sdk.SCHEMES == ("storage", "image", "job", "secret", "disk", "blob", "flow")
