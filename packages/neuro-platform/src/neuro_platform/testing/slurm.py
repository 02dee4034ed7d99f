"""The two-node Slurm test cluster (scripts/slurm-cluster.sh) for tests of any package: bring
it up, make an image loadable by its nodes, serve a platform whose jobs run on it, and cancel
what a test's platform left running there."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ..orchestrator.slurm_networks import release_instance_slots
from ..orchestrator.slurm_script import image_archive_name
from ..orchestrator.testing import REPO_ROOT, build_base_image
from ..settings import SlurmSettings
from .server import PlatformServer, running_platform

CLUSTER_SCRIPT = REPO_ROOT / "scripts" / "slurm-cluster.sh"
CLUSTER_DIR = Path("/tmp/neuro-slurm")
PREREQUISITES = ("slurmctld", "slurmd", "slurmrestd", "munged", "podman", "scontrol", "nsenter")
# What the two nodes offer together: the platform's own admission counts against it.
CLUSTER_NODE = {"cpu": 4.0, "memory": 8 * 1024**3, "gpu": 0}
# The offline images (scripts/build-base-images.sh) the nodes load, as they cannot pull.
NODE_IMAGES = ("busybox", "debian")


def missing_prerequisites() -> list[str]:
    return [tool for tool in PREREQUISITES if shutil.which(tool) is None]


def start_cluster() -> SlurmSettings:
    """Bring the cluster up (idempotent) and return the `[slurm]` settings that name it."""
    subprocess.run([str(CLUSTER_SCRIPT), "up"], check=True, capture_output=True)
    return SlurmSettings(
        restd_socket=CLUSTER_DIR / "run" / "slurmrestd.sock",
        token_file=CLUSTER_DIR / "etc" / "token",
        shared_dir=CLUSTER_DIR / "shared",
        node_env_file=CLUSTER_DIR / "etc" / "node.env",
        slurm_conf=CLUSTER_DIR / "etc" / "slurm.conf",
    )


def cluster_for_tests() -> SlurmSettings:
    """The cluster, up, with the offline images where its nodes load them from; skips the
    test where the cluster's prerequisites are not installed (`make setup` installs them)."""
    if missing := missing_prerequisites():
        pytest.skip(f"the Slurm test cluster needs {', '.join(missing)} (make setup)")
    settings = start_cluster()
    for kind in NODE_IMAGES:
        save_image_for_nodes(settings, build_base_image(kind))
    return settings


def save_image_for_nodes(settings: SlurmSettings, image: str) -> None:
    """`docker save` a local image into the shared `images/` dir unless it is there."""
    archive = settings.shared_dir / "images" / image_archive_name(image)
    if archive.exists():
        return
    partial = archive.with_name(f"{archive.name}.{os.getpid()}.partial")
    subprocess.run(["docker", "save", "-o", str(partial), image], check=True)
    partial.rename(archive)


def cancel_instance_jobs(instance: str, settings: SlurmSettings | None = None) -> None:
    """Cancel every Slurm job of a platform instance and drop its shared files (a test's
    safety net: a platform leaves its jobs running when it stops, and a failed test may not
    have killed its own)."""
    env = {**os.environ, "SLURM_CONF": str(CLUSTER_DIR / "etc" / "slurm.conf")}
    listed = subprocess.run(
        ["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True, env=env, check=False
    )
    prefix = f"neuro-{instance}-"
    rows = [line.split() for line in listed.stdout.splitlines()]
    ids = [row[0] for row in rows if len(row) == 2 and row[1].startswith(prefix)]
    if ids:
        subprocess.run(["scancel", *ids], env=env, check=False)
    release_instance_slots(settings.shared_dir if settings else CLUSTER_DIR / "shared", instance)
    if settings is not None:
        shutil.rmtree(settings.shared_dir / "jobs" / instance, ignore_errors=True)


def new_instance() -> str:
    """A fresh orchestrator instance name: its Slurm jobs are this test's alone."""
    return f"test-{uuid.uuid4().hex[:12]}"


def slurm_config(
    instance: str, slurm: SlurmSettings, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The server settings that run instance `instance`'s jobs on the cluster; a table of
    `overrides` is merged key by key into the one it names, anything else replaces it."""
    config: dict[str, Any] = {
        "jobs": {"orchestrator_instance": instance, "api_host": "off"},
        "node": CLUSTER_NODE,
        "slurm": {
            "restd_socket": str(slurm.restd_socket),
            "token_file": str(slurm.token_file),
            "shared_dir": str(slurm.shared_dir),
            "node_env_file": str(slurm.node_env_file),
            "slurm_conf": str(slurm.slurm_conf),
        },
    }
    for section, values in (overrides or {}).items():
        old = config.get(section)
        config[section] = {**old, **values} if isinstance(old, dict) else values
    return config


@contextlib.contextmanager
def running_slurm_platform(
    tmp_path: Path,
    instance: str,
    settings: SlurmSettings,
    *,
    config: Mapping[str, Any] | None = None,
    users: Mapping[str, str] | None = None,
) -> Iterator[PlatformServer]:
    """`running_platform` on the cluster; its Slurm jobs are cancelled when it stops."""
    merged = slurm_config(instance, settings, config)
    try:
        with running_platform(tmp_path, config=merged, users=users) as server:
            yield server
    finally:
        cancel_instance_jobs(instance, settings)
