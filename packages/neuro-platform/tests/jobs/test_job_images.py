"""Jobs from our registry's images and `job save` (docs/protocol.md §3.1, §4 `save`, §6).

Real server, real registry behind its `/v2/`, real dockerd: images are pushed with the
user's token the way `neuro push` does, and jobs pull them with their owner's.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiodocker
import aiohttp
import pytest
from aiodocker.exceptions import DockerError

from neuro_platform.orchestrator.testing import BUSYBOX_IMAGE
from neuro_platform.testing import PlatformServer

from .client import JobsClient
from .conftest import ServerFactory


def registry_host(server: PlatformServer) -> str:
    return f"{server.base_url.host}:{server.base_url.port}"


@pytest.fixture
async def docker() -> AsyncIterator[aiodocker.Docker]:
    async with aiodocker.Docker() as client:
        yield client


async def push_busybox(
    docker: aiodocker.Docker, server: PlatformServer, token: str, repository: str
) -> str:
    """Pushes busybox as `<registry>/<repository>:v1` with `token` (as `neuro push` does)
    and removes the local tag again, so only the registry has it under that name."""
    image = f"{registry_host(server)}/{repository}:v1"
    name, tag = image.rsplit(":", 1)
    await docker.images.tag(BUSYBOX_IMAGE, name, tag=tag)
    try:
        await docker.images.push(image, auth={"username": "token", "password": token})
    finally:
        await docker.images.delete(image)
    return image


async def share(client: JobsClient, user: str, uri: str, action: str) -> None:
    url = client.server.api_url / "users" / user / "permissions"
    async with client.session.post(url, json=[{"uri": uri, "action": action}]) as response:
        assert response.status == 201, await response.text()


async def revoke(client: JobsClient, user: str, uri: str) -> None:
    url = client.server.api_url / "users" / user / "permissions"
    async with client.session.delete(url, params={"uri": uri}) as response:
        assert response.status == 204, await response.text()


async def save(client: JobsClient, job_id: str, image: str) -> tuple[int, list[Any], bytes]:
    """POST save; the status, the NDJSON items (or the error body) and the raw body."""
    url = client.jobs_url / job_id / "save"
    async with client.session.post(url, json={"container": {"image": image}}) as response:
        raw = await response.read()
        if response.status != 200:
            return response.status, [json.loads(raw)], raw
        assert response.content_type == "application/x-ndjson"
        return 200, [json.loads(line) for line in raw.split(b"\r\n") if line], raw


async def job_output(client: JobsClient, job_id: str) -> bytes:
    job = await client.wait_for(job_id, ["succeeded"])
    assert job["status"] == "succeeded"
    return await client.logs(job_id)


def image_job(image: str, command: str) -> dict[str, Any]:
    return {"image": image, "command": f"sh -c '{command}'", "preset_name": "small"}


async def test_a_private_image_runs_for_its_owner_and_for_others_only_once_shared(
    make_server: ServerFactory, docker: aiodocker.Docker
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice, JobsClient(server, "bob") as bob:
            repository = f"alice/tool-{uuid.uuid4().hex[:8]}"
            image = await push_busybox(docker, server, alice.token, repository)
            uri = f"image://default/{repository}"

            own = await alice.submit(image_job(image, "echo from-the-registry"))
            assert b"from-the-registry" in await job_output(alice, own["id"])

            # The image is in the engine's cache now; bob still may not use it.
            status, body = await bob.submit_error(image_job(image, "echo stolen"))
            assert status == 403
            assert uri in body["error"]
            assert body["missing"] == [{"uri": uri, "action": "read"}]

            await share(alice, "bob", uri, "read")
            shared = await bob.submit(image_job(image, "echo shared"))
            assert b"shared" in await job_output(bob, shared["id"])


async def test_a_cached_copy_does_not_run_for_an_owner_who_lost_read_before_the_start(
    make_server: ServerFactory, docker: aiodocker.Docker
) -> None:
    """Submission checked read; the pull at start asks the registry again with the owner's
    token, so a revoke in between fails the job although the engine has the image."""
    with make_server() as server:
        async with JobsClient(server, "alice") as alice, JobsClient(server, "bob") as bob:
            repository = f"alice/tool-{uuid.uuid4().hex[:8]}"
            image = await push_busybox(docker, server, alice.token, repository)
            uri = f"image://default/{repository}"
            # Alice's two jobs fill the node (it has room for two) and cache the image.
            blockers = [await alice.submit(image_job(image, "sleep 1000")) for _ in range(2)]
            for blocker in blockers:
                await alice.wait_for(blocker["id"], ["running"])
            await share(alice, "bob", uri, "read")
            waiting = await bob.submit(image_job(image, "echo should-not-run"))
            await revoke(alice, "bob", uri)
            for blocker in blockers:
                await alice.kill(blocker["id"])

            failed = await bob.wait_for_reason(waiting["id"], "ErrImagePull")
            assert failed["status"] == "failed"
            assert image in failed["history"]["description"]


async def test_job_save_pushes_the_container_which_a_new_job_then_runs_from(
    make_server: ServerFactory, docker: aiodocker.Docker
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice:
            running = await alice.submit(
                image_job("neuro-base/busybox:latest", "echo saved > /saved.txt; sleep 1000")
            )
            await alice.wait_for(running["id"], ["running"])
            await _wait_for_file(alice, running["id"])
            target = f"{registry_host(server)}/alice/snapshot-{uuid.uuid4().hex[:8]}:v1"

            status, items, raw = await save(alice, running["id"], target)

            assert status == 200
            assert items[0] == {
                "status": "CommitStarted",
                "details": {"container": running["id"], "image": target},
            }
            assert items[1] == {"status": "CommitFinished"}
            assert not any("error" in item for item in items), items
            assert any("aux" in item for item in items)  # the engine's digest of the push
            assert raw.endswith(b"\r\n")
            assert raw.count(b"\r\n") == len(items)
            with pytest.raises(DockerError) as gone:  # the local tag is removed again
                await docker.images.inspect(target)
            assert gone.value.status == 404

            from_saved = await alice.submit(image_job(target, "cat /saved.txt"))
            assert (await job_output(alice, from_saved["id"])).strip() == b"saved"


async def test_job_save_refuses_other_namespaces_other_registries_and_finished_jobs(
    make_server: ServerFactory,
) -> None:
    with make_server() as server:
        async with JobsClient(server, "alice") as alice, JobsClient(server, "bob") as bob:
            running = await alice.submit(image_job("neuro-base/busybox:latest", "sleep 1000"))
            await alice.wait_for(running["id"], ["running"])
            foreign = f"{registry_host(server)}/bob/planted:v1"

            status, (body,), _ = await save(alice, running["id"], foreign)
            assert status == 403
            assert body["missing"] == [{"uri": "image://default/bob/planted", "action": "write"}]
            assert "image://default/bob/planted" in body["error"]
            assert await _tags(bob, server, "bob/planted") == 404  # nothing was pushed

            for elsewhere in ("docker.io/alice/x:v1", "ghcr.io/alice/x:v1", "alice/x:v1"):
                status, (body,), _ = await save(alice, running["id"], elsewhere)
                assert (status, "registry" in body["error"]) == (400, True), body
            status, (body,), _ = await save(alice, running["id"], "")
            assert status == 400
            assert "error" in body

            # bob may not save alice's job, even into his own namespace
            status, _, _ = await save(bob, running["id"], f"{registry_host(server)}/bob/y:v1")
            assert status == 403

            await alice.kill(running["id"])
            status, (body,), _ = await save(
                alice, running["id"], f"{registry_host(server)}/alice/late:v1"
            )
            assert status == 404
            assert "not running" in body["error"]


async def _tags(client: JobsClient, server: PlatformServer, repository: str) -> int:
    credentials = base64.b64encode(f"token:{client.token}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}"}
    url = server.base_url / "v2" / repository / "tags" / "list"
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status


async def _wait_for_file(client: JobsClient, job_id: str) -> None:
    """The job has written /saved.txt once `cat` in it succeeds."""
    url = client.jobs_url / job_id / "exec"
    while True:
        async with client.session.ws_connect(
            url, params={"cmd": "cat /saved.txt"}, protocols=["v2.channels.neu.ro"]
        ) as ws:
            exit_code = None
            async for message in ws:
                if message.type is aiohttp.WSMsgType.BINARY and message.data[:1] == b"\x03":
                    exit_code = json.loads(message.data[1:]).get("exit_code")
            if exit_code == 0:
                return
