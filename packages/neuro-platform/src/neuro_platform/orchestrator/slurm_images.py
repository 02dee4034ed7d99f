"""`job save` on Slurm (docs/scale-out.md): the job's container lives on its node, so a step
in the job's allocation commits it with podman and saves the image, as a docker-archive, into
the job's folder on the shared filesystem. The platform host's dockerd loads that file, and
from there the push is Docker's own (docker_images.push), with the owner's token: the nodes
never need to reach the registry or hold push credentials.

The archive's path is the platform's choice (a random name in the job's folder, which only
the platform and the Slurm user can read); it is removed once loaded, or when anything fails.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiodocker

from . import docker_images
from .errors import OrchestratorError
from .slurm_interactive import run_step

# On the node: commit the container ($1) as the image ($2), save that image to the archive
# ($3), and drop the node's copy of the image whatever happened (the nodes keep no saves).
# The commit pauses the container while it copies its layer, as `docker commit` does.
SAVE_SCRIPT = (
    'podman commit --quiet -- "$1" "$2" >/dev/null'
    ' && podman save --quiet --format docker-archive --output "$3" -- "$2"; status=$?;'
    ' podman rmi --force -- "$2" >/dev/null 2>&1; exit $status'
)


def archive_path(job_dir: Path) -> Path:
    """Where the node writes the job's saved image: always inside the job's folder."""
    return job_dir / f"save-{uuid.uuid4().hex}.tar"


async def save(
    *,
    docker: aiodocker.Docker,
    srun: str,
    slurm_conf: Path | None,
    node_env_file: Path | None,
    slurm_id: int,
    container: str,
    image: str,
    job_dir: Path,
) -> None:
    """Commits `container` (on the node of Slurm job `slurm_id`) as `image` on the platform
    host's dockerd. Raises OrchestratorError with podman's or dockerd's message."""
    archive = archive_path(job_dir)
    try:
        returncode, _, errors = await run_step(
            srun=srun,
            slurm_conf=slurm_conf,
            slurm_id=slurm_id,
            node_env_file=node_env_file,
            script=SAVE_SCRIPT,
            args=[container, image, str(archive)],
        )
        if returncode != 0:
            raise OrchestratorError(f"Cannot commit the job's container: {failure_reason(errors)}")
        await docker_images.load(docker, archive)
    finally:
        await asyncio.to_thread(archive.unlink, missing_ok=True)


def failure_reason(stderr: str) -> str:
    """podman's own message: its last line that is not srun's report of the exit code."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    own = [line for line in lines if not line.startswith("srun:")]
    return (own or lines or ["the step failed"])[-1]
