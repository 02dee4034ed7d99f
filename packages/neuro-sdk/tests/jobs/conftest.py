"""Shared by the jobs tests: an image parser for a cluster with an org, and a full job object."""

from typing import Any

import pytest

from neuro_sdk._images_refs import ImageRefParser

REGISTRY = "registry.example.com:5000"


@pytest.fixture
def images() -> ImageRefParser:
    return ImageRefParser(
        cluster_name="default",
        username="alice",
        org_name=None,
        registry_host=REGISTRY,
        registry_hosts={"default": REGISTRY, "other": "registry.other.org"},
        cluster_orgs={"default": [None, "acme"], "other": [None]},
    )


@pytest.fixture
def full_job() -> dict[str, Any]:
    """A job object with every field of docs/protocol.md §3.5."""
    return {
        "id": "job-0b1e7f5c-1111-4a4b-9d1e-0123456789ab",
        "owner": "alice",
        "cluster_name": "default",
        "org_name": "acme",
        "uri": "job://default/acme/alice/job-0b1e7f5c-1111-4a4b-9d1e-0123456789ab",
        "status": "failed",
        "statuses": [
            {
                "status": "pending",
                "transition_time": "2024-03-01T10:00:00+00:00",
                "reason": "Creating",
                "description": None,
            },
            {
                "status": "running",
                "transition_time": "2024-03-01T10:00:05+00:00",
                "reason": None,
                "description": None,
            },
            {
                "status": "failed",
                "transition_time": "2024-03-01T10:01:05+00:00",
                "reason": "OOMKilled",
                "description": "Out of memory",
                "exit_code": 137,
            },
        ],
        "history": {
            "status": "failed",
            "reason": "OOMKilled",
            "description": "Out of memory",
            "created_at": "2024-03-01T10:00:00+00:00",
            "started_at": "2024-03-01T10:00:05+00:00",
            "finished_at": "2024-03-01T10:01:05Z",
            "run_time_seconds": 60.0,
            "restarts": 2,
            "exit_code": 137,
        },
        "container": {
            "image": f"{REGISTRY}/acme/alice/trainer:v1",
            "command": "python train.py",
            "entrypoint": "/bin/sh -c",
            "working_dir": "/work",
            "env": {"MODE": "fast"},
            "volumes": [
                {"src_storage_uri": "storage://default/acme/alice/data", "dst_path": "/data"},
                {
                    "src_storage_uri": "storage://default/acme/alice/out",
                    "dst_path": "/out",
                    "read_only": False,
                },
            ],
            "secret_volumes": [
                {"src_secret_uri": "secret://default/acme/alice/key", "dst_path": "/key"}
            ],
            "disk_volumes": [
                {
                    "src_disk_uri": "disk://default/acme/alice/disk-1",
                    "dst_path": "/disk",
                    "read_only": False,
                }
            ],
            "secret_env": {"TOKEN": "secret://default/acme/alice/token"},
            "tty": True,
            "resources": {
                "cpu": 0.5,
                "memory": 512 * 2**20,
                "memory_mb": 512,
                "shm": True,
                "gpu": 1,
                "gpu_model": "nvidia-h100",
                "tpu": {"type": "v2-8", "software_version": "1.14"},
            },
            "http": {"port": 8080, "health_check_path": "/", "requires_auth": False},
        },
        "scheduler_enabled": True,
        "preemptible_node": True,
        "is_preemptible": True,
        "is_preemptible_node_required": True,
        "pass_config": True,
        "privileged": True,
        "restart_policy": "on-failure",
        "priority": "high",
        "materialized": True,
        "being_dropped": False,
        "logs_removed": True,
        "total_price_credits": "1.25",
        "price_credits_per_hour": "3.5",
        "name": "trainer",
        "preset_name": "gpu-large",
        "description": "nightly training",
        "tags": ["nightly", "team:ml"],
        "schedule_timeout": 300.0,
        "max_run_time_minutes": 90,
        "http_url": "http://job-0b1e7f5c.jobs.example.com",
        "http_url_named": "http://trainer--alice.jobs.example.com",
        "internal_hostname": "job-0b1e7f5c.platform-jobs",
        "internal_hostname_named": "trainer--alice.platform-jobs",
    }


@pytest.fixture
def minimal_job(full_job: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the SDK requires (docs/protocol.md §3.5), with 22.7's bytes-only memory."""
    return {
        "id": "job-minimal",
        "owner": "bob",
        "cluster_name": "default",
        "uri": "job://default/bob/job-minimal",
        "status": "pending",
        "history": {"status": "pending"},
        "container": {"image": "ubuntu:22.04", "resources": {"cpu": 1, "memory": 2**30}},
        "scheduler_enabled": False,
        "pass_config": False,
        "total_price_credits": "0",
        "price_credits_per_hour": "0",
    }
