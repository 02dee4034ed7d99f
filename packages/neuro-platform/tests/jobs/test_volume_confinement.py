"""Job volumes never leave their tree (docs/security.md), on the real server and
dockerd: a symlink a job plants, or swaps in while other jobs start, never leads a volume to the
host; a file or missing source fails the job at once; staging mounts do not outlive the start;
a secret file is readable by a non-root USER.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from neuro_platform.testing import PlatformServer

from .client import JobsClient
from .conftest import busybox_job
from .test_job_volumes import SECRET, Resources

CANNOT_RUN = "ContainerCannotRun"


def storage(path: str, dst: str, *, read_only: bool) -> dict[str, Any]:
    uri = f"storage://default/alice/{path}"
    return {"src_storage_uri": uri, "dst_path": dst, "read_only": read_only}


def staged_mounts(job_id: str) -> list[str]:
    """This machine's mount table lines of the job's staging mounts."""
    with open("/proc/self/mountinfo") as mountinfo:
        return [line for line in mountinfo if f"/job-mounts/{job_id}/" in line]


async def finished(alice: JobsClient, job_id: str) -> dict[str, Any]:
    job = await alice.wait_for(job_id, ["succeeded", "failed"])
    await alice.wait_until_collected(job_id)
    return job


async def test_planted_symlink_to_root_fails_the_job_and_never_reaches_the_host(
    alice: JobsClient, shared_server: PlatformServer
) -> None:
    attack = f"attack-{uuid.uuid4().hex[:8]}"
    host_dir = Path("/tmp") / f"neuro-escape-{uuid.uuid4().hex}"
    planter = await alice.submit(
        busybox_job("ln -s / /w/toroot", volumes=[storage(attack, "/w", read_only=False)])
    )
    await finished(alice, planter["id"])
    reader = await alice.submit(
        busybox_job(
            "ls /host; cat /host/etc/hostname",
            volumes=[storage(f"{attack}/toroot", "/host", read_only=True)],
        )
    )
    writer = await alice.submit(
        busybox_job(
            "touch /x/owned",
            volumes=[storage(f"{attack}/toroot{host_dir}", "/x", read_only=False)],
        )
    )
    read = await finished(alice, reader["id"])
    written = await finished(alice, writer["id"])
    reader_output = await alice.logs(reader["id"])

    assert read["status"] == written["status"] == "failed"
    assert read["history"]["reason"] == written["history"]["reason"] == CANNOT_RUN
    assert read["history"]["description"] == (
        f"Storage folder storage://default/alice/{attack}/toroot "
        "is or passes through a symbolic link (never followed)"
    )
    assert f"storage://default/alice/{attack}/toroot/tmp/" in written["history"]["description"]
    assert "symbolic link" in written["history"]["description"]
    assert reader_output == b""
    # The server created nothing on the host through the link.
    assert not host_dir.exists()
    assert not (shared_server.data_dir / "job-mounts" / writer["id"]).exists()


async def test_a_racing_symlink_swap_never_shows_a_job_the_host(alice: JobsClient) -> None:
    race = f"race-{uuid.uuid4().hex[:8]}"
    # `target` is in turn the real folder, absent, a symlink to the host's root, absent...
    swap = (
        "mkdir /w/real; echo inside > /w/real/marker; touch /w/ready; "
        "while true; do mv -T /w/real /w/target; mv -T /w/target /w/real; "
        "ln -s / /w/target; rm /w/target; done"
    )
    racer = await alice.submit(busybox_job(swap, volumes=[storage(race, "/w", read_only=False)]))
    await alice.wait_for(racer["id"], ["running"])
    consumers = [
        await alice.submit(
            busybox_job(
                "ls -A /m; cat /m/marker",
                volumes=[storage(f"{race}/target", "/m", read_only=True)],
            )
        )
        for _ in range(8)
    ]
    outcomes = []
    for consumer in consumers:
        job = await finished(alice, consumer["id"])
        outcomes.append((job, await alice.logs(consumer["id"])))
    await alice.kill(racer["id"])

    uri = f"storage://default/alice/{race}/target"
    for job, output in outcomes:
        if job["status"] == "succeeded":
            assert output == b"marker\ninside\n"  # the real folder, never the host's root
        else:
            assert job["history"]["reason"] == CANNOT_RUN
            assert uri in job["history"]["description"]
            assert output == b""


async def test_a_file_source_fails_at_once_and_names_the_volume(
    alice: JobsClient, shared_server: PlatformServer
) -> None:
    resources = Resources(shared_server, "alice", alice.session)
    name = f"plain-{uuid.uuid4().hex[:8]}"
    await resources.put_file(f"alice/{name}", b"not a folder")
    jobs = [
        await alice.submit(busybox_job("true", volumes=[storage(path, "/f", read_only=False)]))
        for path in (name, f"{name}/below")
    ]
    results = [await finished(alice, job["id"]) for job in jobs]

    for path, job in zip((name, f"{name}/below"), results, strict=True):
        assert job["status"] == "failed"
        assert job["history"]["reason"] == CANNOT_RUN
        assert job["history"]["restarts"] == 0
        assert job["history"]["description"] == (
            f"Storage path storage://default/alice/{path} is not a folder: a file is in the way"
        )
    # Still the file it was: nothing was created over or under it.
    assert await resources.read_file(f"alice/{name}") == b"not a folder"


async def test_missing_read_only_folder_fails_and_missing_writable_one_is_made_in_storage(
    alice: JobsClient, shared_server: PlatformServer
) -> None:
    resources = Resources(shared_server, "alice", alice.session)
    base = f"fresh-{uuid.uuid4().hex[:8]}"
    reader = await alice.submit(
        busybox_job("ls /in", volumes=[storage(f"{base}/in", "/in", read_only=True)])
    )
    writer = await alice.submit(
        busybox_job(
            "echo made > /out/result",
            volumes=[storage(f"{base}/out/deep", "/out", read_only=False)],
        )
    )
    read = await finished(alice, reader["id"])
    written = await finished(alice, writer["id"])

    assert read["status"] == "failed"
    assert read["history"]["description"] == (
        f"Storage folder storage://default/alice/{base}/in does not exist "
        "(a read-only volume is never created)"
    )
    assert written["status"] == "succeeded"
    assert await resources.read_file(f"alice/{base}/out/deep/result") == b"made\n"
    assert not (shared_server.data_dir / "storage" / "default" / "alice" / base / "in").exists()


async def test_staging_mounts_go_once_the_container_runs_and_it_keeps_its_volume(
    alice: JobsClient, shared_server: PlatformServer
) -> None:
    resources = Resources(shared_server, "alice", alice.session)
    folder = f"stay-{uuid.uuid4().hex[:8]}"
    job = await alice.submit(
        busybox_job(
            "while [ ! -e /w/go ]; do sleep 0.1; done; cat /w/note",
            volumes=[storage(folder, "/w", read_only=False)],
        )
    )
    await alice.wait_for(job["id"], ["running"])
    staged_while_running = staged_mounts(job["id"])
    staging_dir_while_running = (shared_server.data_dir / "job-mounts" / job["id"]).exists()
    # Written through the storage API after the staging mount is gone: the job still sees it.
    await resources.put_file(f"alice/{folder}/note", b"still mounted\n")
    await resources.put_file(f"alice/{folder}/go", b"")
    await alice.wait_for(job["id"], ["succeeded"])
    await alice.wait_until_collected(job["id"])
    output = await alice.logs(job["id"])

    assert staged_while_running == []
    assert not staging_dir_while_running
    assert output == b"still mounted\n"
    assert staged_mounts(job["id"]) == []


@pytest.fixture(scope="module")
def non_root_images(busybox_image: str) -> Iterator[dict[str, str]]:
    """Images whose USER is not root: a bare uid, and a name known only to the image."""
    tag = uuid.uuid4().hex[:8]
    dockerfiles = {
        "uid": f"FROM {busybox_image}\nUSER 1000:1000\n",
        "name": (
            f"FROM {busybox_image}\n"
            'RUN echo "worker:x:1234:1234::/tmp:/bin/sh" >> /etc/passwd'
            ' && echo "worker:x:1234:" >> /etc/group\n'
            "USER worker\n"
        ),
    }
    images = {kind: f"neuro-test/volumes-{kind}-{tag}:latest" for kind in dockerfiles}
    try:
        for kind, dockerfile in dockerfiles.items():
            subprocess.run(
                ["docker", "build", "--network", "none", "-q", "-t", images[kind], "-"],
                input=dockerfile.encode(),
                env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"},
                capture_output=True,
                check=True,
            )
        yield images
    finally:
        subprocess.run(["docker", "rmi", "-f", *images.values()], capture_output=True)


@pytest.mark.parametrize(("kind", "uid"), [("uid", "1000"), ("name", "1234")])
async def test_a_non_root_user_reads_its_secret_file_which_no_other_user_may(
    alice: JobsClient,
    shared_server: PlatformServer,
    non_root_images: dict[str, str],
    kind: str,
    uid: str,
) -> None:
    resources = Resources(shared_server, "alice", alice.session)
    key = f"nonroot-{kind}-{uuid.uuid4().hex[:8]}"
    await resources.add_secret(key, SECRET)
    uri = f"secret://default/alice/{key}"
    job = await alice.submit(
        {
            **busybox_job(
                'id -u; stat -c "%a %u" /run/secrets/key; cat /run/secrets/key',
                secret_volumes=[{"src_secret_uri": uri, "dst_path": "/run/secrets/key"}],
            ),
            "image": non_root_images[kind],
        }
    )
    await alice.wait_for(job["id"], ["succeeded"])
    await alice.wait_until_collected(job["id"])
    output = (await alice.logs(job["id"])).decode()

    # Owned by root, readable through the group the job joins, by no one else.
    assert output.splitlines() == [uid, "440 0", SECRET]


async def test_a_restart_resolves_the_volume_again_and_a_link_planted_meanwhile_fails_it(
    alice: JobsClient, shared_server: PlatformServer
) -> None:
    resources = Resources(shared_server, "alice", alice.session)
    base = f"restart-{uuid.uuid4().hex[:8]}"
    await resources.put_file(f"alice/{base}/in/marker", b"inside\n")
    # The first run swaps its own read-only volume for a link to the host's root and fails,
    # so that the restart policy starts it again.
    job = await alice.submit(
        busybox_job(
            "cat /in/marker; rm -r /w/in; ln -s / /w/in; exit 1",
            restart_policy="on-failure",
            volumes=[
                storage(f"{base}/in", "/in", read_only=True),
                storage(base, "/w", read_only=False),
            ],
        )
    )
    ended = await finished(alice, job["id"])
    output = await alice.logs(job["id"])

    assert ended["status"] == "failed"
    assert ended["history"]["restarts"] == 1
    assert ended["history"]["reason"] == CANNOT_RUN
    assert f"storage://default/alice/{base}/in is or passes" in ended["history"]["description"]
    assert output == b"inside\n"  # the first run only
    assert staged_mounts(job["id"]) == []


async def test_an_encoded_slash_cannot_smuggle_dot_dot_into_a_volume(alice: JobsClient) -> None:
    # parse_uri decodes %2F; a '/' inside one name, joined to the storage root, used to climb
    # to the data dir and its keys. Such a URI is refused at submission.
    uri = "storage://default/alice/x%2F..%2F..%2F..%2F.."
    volume = {"src_storage_uri": uri, "dst_path": "/up", "read_only": True}

    status, error = await alice.submit_error(busybox_job("ls /up", volumes=[volume]))

    assert status == 400
    assert "must not encode '/' or NUL inside a name" in error["error"]
