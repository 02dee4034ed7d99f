"""`neuro run -v storage:/secret:/disk: --env X=secret:KEY` end to end on our server and dockerd,
and the original ``neuro-cli==22.7.1`` mounting a storage folder into a job."""

import asyncio
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from yarl import URL

import neuro_sdk
from neuro_platform.testing.original_cli import run_original
from neuro_platform.testing.server import PlatformServer

BUSYBOX = "neuro-base/busybox:latest"
Neuro = Callable[..., Result]


@pytest.fixture
def neuro_alice(
    jobs_platform_server: PlatformServer, neuro: Neuro, log_in: Callable[[PlatformServer], str]
) -> Neuro:
    log_in(jobs_platform_server)
    return neuro


@pytest.mark.both_orchestrators
def test_run_mounts_storage_and_secrets_and_status_shows_them(
    neuro_alice: Neuro, tmp_path: Path
) -> None:
    secret = f"v-{uuid.uuid4().hex}"
    assert neuro_alice("secret", "add", "api-key", secret).exit_code == 0
    source = tmp_path / "numbers.txt"
    source.write_text("1\n2\n3\n4\n")
    assert neuro_alice("mkdir", "-p", "storage:cli-in").exit_code == 0
    upload = neuro_alice("cp", str(source), "storage:cli-in/numbers.txt")
    assert upload.exit_code == 0, upload.output

    run = neuro_alice(
        "run",
        "-n",
        "cli-volumes",
        "-v",
        "storage:cli-in:/in:ro",
        "--volume",
        "storage:cli-out:/out",
        "-v",
        "secret:api-key:/run/key",
        "--env",
        "TOKEN=secret:api-key",
        BUSYBOX,
        "sh",
        "-c",
        'wc -l < /in/numbers.txt > /out/count; echo "env=$TOKEN file=$(cat /run/key)"; '
        "touch /in/x 2>/dev/null || echo in-is-read-only",
    )
    assert run.exit_code == 0, run.output
    assert f"env={secret} file={secret}" in run.stdout
    assert "in-is-read-only" in run.stdout

    download = neuro_alice("cp", "storage:cli-out/count", str(tmp_path / "count"))
    assert download.exit_code == 0, download.output
    assert (tmp_path / "count").read_text().strip() == "4"

    status = neuro_alice("status", "--full-uri", "cli-volumes")
    assert status.exit_code == 0, status.output
    assert re.search(r"Volume\s+storage://default/alice/cli-in -> /in \(ro\)", status.stdout)
    assert re.search(r"Volume\s+storage://default/alice/cli-out -> /out \(rw\)", status.stdout)
    assert re.search(r"Secret file\s+secret://default/alice/api-key -> /run/key", status.stdout)
    assert re.search(r"Env TOKEN\s+secret://default/alice/api-key \(secret\)", status.stdout)
    assert secret not in status.stdout


@pytest.mark.both_orchestrators
def test_run_mounts_a_disk_that_keeps_its_data(neuro_alice: Neuro) -> None:
    assert neuro_alice("disk", "create", "16M", "--name", "cli-disk").exit_code == 0
    write = neuro_alice(
        "run", "-v", "disk:cli-disk:/data:rw", BUSYBOX, "sh", "-c", "echo kept > /data/f"
    )
    assert write.exit_code == 0, write.output
    read = neuro_alice("run", "-v", "disk:cli-disk:/data:ro", BUSYBOX, "cat", "/data/f")
    assert read.exit_code == 0, read.output
    assert "kept\n" in read.stdout


def test_sdk_jobs_run_sends_and_parses_every_volume_kind(
    neuro_alice: Neuro, config_dir: Path
) -> None:
    assert neuro_alice("secret", "add", "sdk-key", "sdk-value").exit_code == 0
    assert neuro_alice("disk", "create", "16M", "--name", "sdk-disk").exit_code == 0

    async def run_and_read_back() -> neuro_sdk.JobDescription:
        async with await neuro_sdk.Factory(config_dir).get() as client:
            mounts = client.parse.volumes(
                ["storage:sdk:/mnt/sdk:ro", "secret:sdk-key:/run/key", "disk:sdk-disk:/data"]
            )
            container = neuro_sdk.Container(
                image=client.parse.remote_image(BUSYBOX),
                resources=neuro_sdk.Resources(memory_mb=64, cpu=0.1),
                command="cat /run/key",
                volumes=mounts.volumes,
                secret_env={"KEY": URL("secret:sdk-key")},
                secret_files=mounts.secret_files,
                disk_volumes=mounts.disk_volumes,
            )
            job = await client.jobs.run(container)
            return await client.jobs.status(job.id)

    # The CLI runner owns an event loop per call; the SDK part gets its own.
    seen = asyncio.run(run_and_read_back())
    assert seen.container.volumes == [
        neuro_sdk.Volume(URL("storage://default/alice/sdk"), "/mnt/sdk", read_only=True)
    ]
    assert seen.container.secret_env == {"KEY": URL("secret://default/alice/sdk-key")}
    assert seen.container.secret_files == [
        neuro_sdk.SecretFile(URL("secret://default/alice/sdk-key"), "/run/key")
    ]
    assert seen.container.disk_volumes == [
        neuro_sdk.DiskVolume(URL("disk://default/alice/sdk-disk"), "/data", read_only=False)
    ]


def test_run_refuses_a_malformed_volume(neuro_alice: Neuro) -> None:
    result = neuro_alice("run", "-v", "storage:no-destination", BUSYBOX, "true")
    assert result.exit_code != 0
    assert "Invalid volume specification" in result.output


@pytest.mark.interop
def test_original_cli_mounts_a_storage_folder(
    jobs_platform_server: PlatformServer, neuro_alice: Neuro, tmp_path: Path
) -> None:
    config_dir = tmp_path / "original"

    def original(*args: str) -> subprocess.CompletedProcess[str]:
        return run_original(config_dir, *args)

    token = jobs_platform_server.issue_token("alice")
    login = original("config", "login-with-token", token, str(jobs_platform_server.api_url))
    assert login.returncode == 0, login.stderr
    run = original(
        "run", "--no-tty", "-n", "interop-volume", "-v", "storage:interop:/mnt", BUSYBOX,
        "--", "sh", "-c", "echo from-original > /mnt/out.txt",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    while "succeeded" not in (status := original("status", "interop-volume")).stdout:
        assert "failed" not in status.stdout, status.stdout
        time.sleep(0.5)
    download = neuro_alice("cp", "storage:interop/out.txt", str(tmp_path / "out.txt"))
    assert download.exit_code == 0, download.output
    assert (tmp_path / "out.txt").read_text() == "from-original\n"
