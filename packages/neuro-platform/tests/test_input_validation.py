"""Input the server cannot use is refused at the edge with 400 `{"error"}`, never a 500.

Each case here once answered 500 with a traceback (a fuzzing run found them), or was taken
and failed only when the job started.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from yarl import URL

from neuro_platform.api.validation import MAX_JSON_DEPTH, JsonTooDeepError, check_json_depth
from neuro_platform.testing import PlatformServer

DEEP = b"[" * 5000 + b"]" * 5000
MIB = 1024**2
JOB = {"image": "neuro-base/busybox:latest", "preset_name": "cpu-small"}


@pytest.fixture
def platform_server(shared_platform_server: PlatformServer) -> PlatformServer:
    """Every test here sends what is refused, or checks only what it sent: one server will do."""
    return shared_platform_server


def _auth(server: PlatformServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.issue_token('alice')}"}


async def _send(
    server: PlatformServer, method: str, path: str, *, data: bytes | None = None, **kw: Any
) -> tuple[int, Any]:
    headers = {**_auth(server), **kw.pop("headers", {})}
    url = URL(str(server.api_url) + path)
    async with (
        aiohttp.ClientSession() as client,
        client.request(method, url, data=data, headers=headers, **kw) as response,
    ):
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


def test_depth_check_counts_brackets_outside_strings_only() -> None:
    check_json_depth(b'{"a": "' + b"[" * 1000 + b'\\"["}')
    check_json_depth(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    with pytest.raises(JsonTooDeepError):
        check_json_depth(b"[" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(JsonTooDeepError):
        check_json_depth(b'{"a": ' * (MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/jobs?from_preset"),
        ("POST", "/jobs"),
        ("PUT", "/jobs/job-x/max_run_time_minutes"),
        ("POST", "/users/alice/permissions"),
        ("POST", "/users/alice/permissions/check"),
        ("POST", "/users"),
        ("POST", "/secrets"),
        ("POST", "/disk"),
        ("POST", "/service_accounts"),
    ],
)
async def test_json_nested_5000_deep_is_400(
    platform_server: PlatformServer, method: str, path: str
) -> None:
    status, body = await _send(platform_server, method, path, data=DEEP)
    assert status == 400
    assert "deeper than" in body["error"]


async def test_opentar_with_deep_json_is_a_storage_400(platform_server: PlatformServer) -> None:
    status, _ = await _send(platform_server, "PUT", "/storage/alice/dir?op=MKDIRS")
    assert status == 201
    status, body = await _send(platform_server, "POST", "/storage/alice/dir?op=OPENTAR", data=DEEP)
    assert status == 400
    assert body["errno"] == "EINVAL"


@pytest.mark.parametrize(
    "job",
    [
        {**JOB, "max_run_time_minutes": 10**30},
        {**JOB, "max_run_time_minutes": 2**63},
        {**JOB, "schedule_timeout": 1e308},
    ],
)
async def test_huge_numbers_in_a_job_are_400(
    platform_server: PlatformServer, job: dict[str, Any]
) -> None:
    status, body = await _send(platform_server, "POST", "/jobs?from_preset", json=job)
    assert status == 400
    assert "error" in body


async def test_huge_life_span_bump_is_400(platform_server: PlatformServer) -> None:
    for field in ("max_run_time_minutes", "additional_max_run_time_minutes"):
        status, body = await _send(
            platform_server, "PUT", "/jobs/job-x/max_run_time_minutes", json={field: 10**30}
        )
        assert status == 400
        assert field in body["error"]


@pytest.mark.parametrize(
    "disk",
    [
        {"storage": 10**30},
        {"storage": 2**63},
        {"storage": MIB, "life_span": 10**30},
        {"storage": MIB, "life_span": 1e300},
        {"storage": "1"},
        {"storage": True},
    ],
)
async def test_huge_or_mistyped_disk_numbers_are_400(
    platform_server: PlatformServer, disk: dict[str, Any]
) -> None:
    status, body = await _send(platform_server, "POST", "/disk", json=disk)
    assert status == 400
    assert "storage" in body["error"] or "life_span" in body["error"]


@pytest.mark.parametrize("action", [[], {}, 1, None, "own"])
async def test_a_permission_whose_action_is_not_an_action_is_400(
    platform_server: PlatformServer, action: Any
) -> None:
    permission = [{"uri": "storage://default/alice/x", "action": action}]
    for path in ("/users/bob/permissions", "/users/alice/permissions/check"):
        status, body = await _send(platform_server, "POST", path, json=permission)
        assert status == 400
        assert "action" in body["error"]


@pytest.mark.parametrize(
    "content_range",
    [
        f"bytes 0-{2**63}/*",
        f"bytes {2**63 - 1}-{2**63 - 1}/*",
        f"bytes {2**64}-{2**64 + 1}/*",
        "bytes 0-" + "9" * 5000 + "/*",
        "bytes 5-3/*",
    ],
)
async def test_content_range_past_what_a_file_offset_holds_is_400(
    platform_server: PlatformServer, content_range: str
) -> None:
    status, _ = await _send(platform_server, "PUT", "/storage/alice/f?op=CREATE", data=b"abc")
    assert status == 201
    status, body = await _send(
        platform_server,
        "PATCH",
        "/storage/alice/f?op=WRITE",
        data=b"x",
        headers={"Content-Range": content_range, "Content-Type": "application/octet-stream"},
    )
    assert status == 400
    assert "Content-Range" in body["error"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"env": {"A": "x\x00y"}}, "env"),
        ({"env": {"A\x00B": "x"}}, "env"),
        ({"secret_env": {"A": "secret://default/alice/k\x00"}}, "secret_env"),
        ({"working_dir": "/tmp\x00"}, "working_dir"),
        ({"command": "echo \x00"}, "command"),
        (
            {"volumes": [{"src_storage_uri": "storage://default/alice/x\x00", "dst_path": "/x"}]},
            "volumes",
        ),
        (
            {"volumes": [{"src_storage_uri": "storage://default/alice", "dst_path": "/"}]},
            "dst_path",
        ),
        (
            {"volumes": [{"src_storage_uri": "storage://default/alice", "dst_path": "//"}]},
            "dst_path",
        ),
        (
            {"volumes": [{"src_storage_uri": "storage://default/alice", "dst_path": "/proc"}]},
            "dst_path",
        ),
        (
            {"volumes": [{"src_storage_uri": "storage://default/alice", "dst_path": "/proc/1"}]},
            "dst_path",
        ),
        (
            {
                "volumes": [
                    {"src_storage_uri": "storage://default/alice", "dst_path": "/a/../sys/x"}
                ]
            },
            "dst_path",
        ),
        (
            {"volumes": [{"src_storage_uri": "storage://default/alice", "dst_path": "/etc/hosts"}]},
            "dst_path",
        ),
        (
            {
                "secret_volumes": [
                    {"src_secret_uri": "secret://default/alice/k", "dst_path": "/dev"}
                ]
            },
            "dst_path",
        ),
        (
            {"disk_volumes": [{"src_disk_uri": "disk://default/alice/d", "dst_path": "/"}]},
            "dst_path",
        ),
        (
            {
                "volumes": [
                    {"src_storage_uri": "storage://default/alice/a", "dst_path": "/data"},
                    {"src_storage_uri": "storage://default/alice/b", "dst_path": "/data/"},
                ]
            },
            "dst_path",
        ),
        ({"image": "UPPER/case"}, "image"),
        ({"image": "busybox latest"}, "image"),
        ({"image": "busybox:"}, "image"),
        ({"image": "-busybox"}, "image"),
        ({"image": ""}, "image"),
        ({"image": "busybox\x00"}, "image"),
        ({"image": "host:99999999999999999999999/busybox"}, "image"),
    ],
)
async def test_values_that_would_only_fail_at_start_are_refused_at_submission(
    platform_server: PlatformServer, change: dict[str, Any], field: str
) -> None:
    jobs_before = await _job_ids(platform_server)
    status, body = await _send(platform_server, "POST", "/jobs?from_preset", json={**JOB, **change})
    assert status == 400
    assert field in body["error"]
    # Nothing was created (the server is shared: other tests' jobs may be there).
    assert await _job_ids(platform_server) == jobs_before


async def _job_ids(server: PlatformServer) -> set[str]:
    status, listing = await _send(server, "GET", "/jobs")
    assert status == 200
    return {job["id"] for job in listing["jobs"]}


@pytest.mark.parametrize(
    "image",
    [
        "neuro-base/busybox:latest",
        "busybox",
        "127.0.0.1:5000/alice/my_image.v2:1.0-rc",
        "registry.example.org/org/alice/img@sha256:" + "a" * 64,
    ],
)
async def test_docker_references_are_accepted(platform_server: PlatformServer, image: str) -> None:
    job = {
        **JOB,
        "image": image,
        "volumes": [{"src_storage_uri": "storage://default/alice", "dst_path": "/var/data"}],
    }
    status, body = await _send(platform_server, "POST", "/jobs?from_preset", json=job)
    assert status == 202, body
    assert body["container"]["image"] == image
