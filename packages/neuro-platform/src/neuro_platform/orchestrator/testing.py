"""Helpers for tests that run real jobs on the local dockerd (this package's and later ones').

Only for the development workspace: the image builder is the repository's script.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .base import Orchestrator
from .naming import LABEL_INSTANCE
from .spec import ContainerSpec

REPO_ROOT = Path(__file__).resolve().parents[5]
BUILD_BASE_IMAGES = REPO_ROOT / "scripts" / "build-base-images.sh"
BUSYBOX_IMAGE = "neuro-base/busybox:latest"  # ~2 MB, starts in a blink: use it by default
DEBIAN_IMAGE = "neuro-base/debian:bookworm"  # python3 and working DNS: for network tests
_NO_ENGINE = "Cannot connect to the Docker daemon"


def build_base_image(kind: str) -> str:
    """Build `busybox` or `debian` offline unless dockerd has it already; return its name."""
    result = subprocess.run([str(BUILD_BASE_IMAGES), kind], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{BUILD_BASE_IMAGES} {kind} failed:\n{result.stdout}{result.stderr}")
    return {"busybox": BUSYBOX_IMAGE, "debian": DEBIAN_IMAGE}[kind]


def spec_factory(image: str) -> Callable[..., ContainerSpec]:
    """Small jobs of `image` with fresh ids: `make(*command, **field_overrides)`."""

    def make(*command: str, **overrides: Any) -> ContainerSpec:
        spec = ContainerSpec(
            job_id=f"job-{uuid.uuid4()}",
            owner="alice",
            image=image,
            cpu=0.5,
            memory=64 * 1024**2,
            command=command or None,
        )
        return replace(spec, **overrides)

    return make


def remove_instance_containers(instance: str) -> None:
    """Force-remove every container and network of a platform instance (a test session's
    safety net: the engine has room for only a few dozen networks). Where no engine answers
    there is nothing to remove: tests that run no jobs (`make test-fast`) need none."""
    for kind, remove in ((["ps", "-a"], ["rm", "-f"]), (["network", "ls"], ["network", "rm"])):
        try:
            listed = subprocess.run(
                ["docker", *kind, "-q", "--filter", f"label={LABEL_INSTANCE}={instance}"],
                capture_output=True,
                text=True,
                check=True,
            )
        except FileNotFoundError:  # no docker command
            return
        except subprocess.CalledProcessError as error:
            if _NO_ENGINE in error.stderr:
                return
            raise
        if ids := listed.stdout.split():
            subprocess.run(["docker", *remove, *ids], capture_output=True, check=True)


async def collect_logs(orchestrator: Orchestrator, job_id: str, **options: Any) -> bytes:
    return b"".join([chunk async for chunk in orchestrator.logs(job_id, **options)])
