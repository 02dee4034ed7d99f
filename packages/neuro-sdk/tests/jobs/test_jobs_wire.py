"""Job objects (docs/protocol.md §3.5) into dataclasses, and create bodies
(docs/protocol.md §3.1) out of them."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from yarl import URL

from neuro_sdk import (
    Container,
    DiskVolume,
    HTTPPort,
    JobPriority,
    JobRestartPolicy,
    JobStatus,
    RemoteImage,
    Resources,
    SecretFile,
    Volume,
)
from neuro_sdk._images_refs import ImageRefParser
from neuro_sdk._jobs_wire import (
    ContainerSerializer,
    job_fields,
    job_from_api,
    telemetry_from_api,
)

REGISTRY = "registry.example.com:5000"  # the one the conftest fixture uses


def at(minute: int, second: int) -> datetime:
    return datetime(2024, 3, 1, 10, minute, second, tzinfo=UTC)


def test_every_field_of_a_job_object_is_read(
    full_job: dict[str, Any], images: ImageRefParser
) -> None:
    job = job_from_api(full_job, images)

    assert job.id == "job-0b1e7f5c-1111-4a4b-9d1e-0123456789ab"
    assert (job.owner, job.cluster_name, job.org_name) == ("alice", "default", "acme")
    assert job.uri == URL("job://default/acme/alice/job-0b1e7f5c-1111-4a4b-9d1e-0123456789ab")
    assert job.status is JobStatus.FAILED
    assert (job.name, job.preset_name, job.description) == (
        "trainer",
        "gpu-large",
        "nightly training",
    )
    assert job.tags == ("nightly", "team:ml")
    assert job.scheduler_enabled
    assert job.preemptible_node
    assert job.pass_config
    assert job.privileged
    assert job.restart_policy is JobRestartPolicy.ON_FAILURE
    assert job.priority is JobPriority.HIGH
    assert job.total_price_credits == Decimal("1.25")
    assert job.price_credits_per_hour == Decimal("3.5")
    assert job.schedule_timeout == 300.0
    assert job.life_span == 90 * 60
    # The named URL is the one users can remember, so it wins.
    assert job.http_url == URL("http://trainer--alice.jobs.example.com")
    assert job.internal_hostname == "job-0b1e7f5c.platform-jobs"
    assert job.internal_hostname_named == "trainer--alice.platform-jobs"
    assert job._internal.materialized
    assert job._internal.logs_removed
    assert not job._internal.being_dropped


def test_history_and_transitions(full_job: dict[str, Any], images: ImageRefParser) -> None:
    history = job_from_api(full_job, images).history

    assert history.status is JobStatus.FAILED
    assert (history.reason, history.description) == ("OOMKilled", "Out of memory")
    assert history.exit_code == 137
    assert history.restarts == 2
    assert history.run_time_seconds == 60.0
    assert (history.created_at, history.started_at, history.finished_at) == (
        at(0, 0),
        at(0, 5),
        at(1, 5),
    )
    assert [(item.status, item.reason, item.exit_code) for item in history.transitions] == [
        (JobStatus.PENDING, "Creating", None),
        (JobStatus.RUNNING, "", None),
        (JobStatus.FAILED, "OOMKilled", 137),
    ]
    assert history.transitions[1].transition_time == at(0, 5)
    assert history.transitions[2].description == "Out of memory"


def test_container_of_a_job(full_job: dict[str, Any], images: ImageRefParser) -> None:
    container = job_from_api(full_job, images).container

    assert container.image == RemoteImage.new_neuro_image(
        "trainer", REGISTRY, owner="alice", cluster_name="default", org_name="acme", tag="v1"
    )
    assert container.resources == Resources(
        memory_mb=512,
        cpu=0.5,
        gpu=1,
        gpu_model="nvidia-h100",
        shm=True,
        tpu_type="v2-8",
        tpu_software_version="1.14",
    )
    assert (container.command, container.entrypoint, container.working_dir) == (
        "python train.py",
        "/bin/sh -c",
        "/work",
    )
    assert container.env == {"MODE": "fast"}
    assert container.http == HTTPPort(port=8080, requires_auth=False)
    assert container.tty
    assert container.volumes == [
        # Read-only unless the server says otherwise (docs/protocol.md §3.5).
        Volume(URL("storage://default/acme/alice/data"), "/data", read_only=True),
        Volume(URL("storage://default/acme/alice/out"), "/out", read_only=False),
    ]
    assert container.secret_files == [SecretFile(URL("secret://default/acme/alice/key"), "/key")]
    assert container.disk_volumes == [
        DiskVolume(URL("disk://default/acme/alice/disk-1"), "/disk", read_only=False)
    ]
    assert container.secret_env == {"TOKEN": URL("secret://default/acme/alice/token")}


def test_a_minimal_job_gets_the_documented_defaults(
    minimal_job: dict[str, Any], images: ImageRefParser
) -> None:
    job = job_from_api(minimal_job, images)

    assert job.container.image == RemoteImage.new_external_image("ubuntu", tag="22.04")
    assert job.container.resources.memory_mb == 1024
    assert job.container.http is None
    assert (job.name, job.description, job.life_span, job.org_name) == (None, None, None, None)
    assert job.tags == ()
    assert job.http_url == URL()
    assert job.restart_policy is JobRestartPolicy.NEVER
    assert job.priority is JobPriority.NORMAL
    assert job.history.transitions == []
    assert (job.history.reason, job.history.exit_code) == ("", None)


@pytest.mark.parametrize("field", ["id", "owner", "status", "history", "uri", "pass_config"])
def test_a_missing_mandatory_field_is_an_error(
    minimal_job: dict[str, Any], images: ImageRefParser, field: str
) -> None:
    del minimal_job[field]

    with pytest.raises(KeyError):
        job_from_api(minimal_job, images)


def test_unknown_status_and_unparseable_image(
    minimal_job: dict[str, Any], images: ImageRefParser
) -> None:
    minimal_job["status"] = "hibernating"
    minimal_job["container"]["image"] = "Not A Valid Image!"

    job = job_from_api(minimal_job, images)

    assert job.status is JobStatus.UNKNOWN
    assert job.container.image.name == "INVALID-IMAGE-NAME"


def test_start_body_is_flat_and_omits_defaults() -> None:
    serializer = ContainerSerializer(cluster="default", username="alice", org=None)
    body = job_fields(cluster_name="default", org_name=None, pass_config=False)
    body |= serializer.container_fields(image=RemoteImage.new_external_image("busybox"))

    assert body == {"pass_config": False, "cluster_name": "default", "image": "busybox"}


def test_start_body_with_every_field() -> None:
    serializer = ContainerSerializer(cluster="default", username="alice", org="acme")
    body = job_fields(
        cluster_name="default",
        org_name="acme",
        pass_config=True,
        name="trainer",
        preset_name="cpu-small",
        tags=["a", "b"],
        description="desc",
        schedule_timeout=120.5,
        restart_policy=JobRestartPolicy.ALWAYS,
        life_span=3 * 60 + 59,
        wait_for_jobs_quota=True,
        privileged=True,
        priority=JobPriority.LOW,
    )
    body |= serializer.container_fields(
        image=RemoteImage.new_neuro_image(
            "img", REGISTRY, owner="alice", cluster_name="default", org_name="acme", tag="1"
        ),
        entrypoint="/bin/sh",
        command="-c 'echo hi'",
        working_dir="/w",
        http=HTTPPort(80, requires_auth=False),
        env={"A": "1"},
        volumes=[Volume(URL("storage:data"), "/data", read_only=True)],
        secret_env={"T": URL("secret:token")},
        secret_files=[SecretFile(URL("secret:key"), "/key")],
        disk_volumes=[DiskVolume(URL("disk:disk-1"), "/disk")],
        tty=True,
    )

    assert body == {
        "pass_config": True,
        "cluster_name": "default",
        "org_name": "acme",
        "name": "trainer",
        "preset_name": "cpu-small",
        "tags": ["a", "b"],
        "description": "desc",
        "schedule_timeout": 120.5,
        "restart_policy": "always",
        "max_run_time_minutes": 3,
        "wait_for_jobs_quota": True,
        "privileged": True,
        "priority": "low",
        "image": f"{REGISTRY}/acme/alice/img:1",
        "entrypoint": "/bin/sh",
        "command": "-c 'echo hi'",
        "working_dir": "/w",
        "http": {"port": 80, "requires_auth": False},
        "env": {"A": "1"},
        # URIs leave the client fully normalised (docs/protocol.md §3.1).
        "volumes": [
            {
                "src_storage_uri": "storage://default/acme/alice/data",
                "dst_path": "/data",
                "read_only": True,
            }
        ],
        "secret_env": {"T": "secret://default/acme/alice/token"},
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
        "tty": True,
    }


def test_run_body_nests_the_container_with_resources_in_megabytes() -> None:
    serializer = ContainerSerializer(cluster="default", username="alice", org=None)
    container = Container(
        image=RemoteImage.new_external_image("busybox", tag="latest"),
        resources=Resources(memory_mb=100, cpu=0.5, gpu=2, gpu_model="nvidia-h100"),
        command="sleep 1",
    )

    assert serializer.container(container) == {
        "image": "busybox:latest",
        "command": "sleep 1",
        "resources": {
            "memory_mb": 100,
            "cpu": 0.5,
            "shm": True,
            "gpu": 2,
            "gpu_model": "nvidia-h100",
        },
    }


def test_resources_documented_constructor() -> None:
    resources = Resources(memory_mb=100, cpu=0.5)

    assert resources.memory_mb == 100
    assert resources.memory == 100 * 2**20
    assert (resources.gpu, resources.gpu_model, resources.shm) == (None, None, True)


def test_telemetry_in_megabytes_exact_from_bytes() -> None:
    both = telemetry_from_api(
        {
            "cpu": 0.25,
            "memory": 64,
            "memory_bytes": 64 * 2**20 + 2**19,
            "timestamp": 1700000000.5,
            "gpu_duty_cycle": 40,
            "gpu_memory": 1024,
        }
    )
    bytes_only = telemetry_from_api({"cpu": 1.0, "memory_bytes": 3 * 2**19, "timestamp": 1.0})

    mib_only = telemetry_from_api({"cpu": 1.0, "memory": 12, "timestamp": 1.0})

    # The whole-MiB field would say 64; the bytes are exact.
    assert (both.cpu, both.memory, both.timestamp) == (0.25, 64.5, 1700000000.5)
    assert mib_only.memory == 12.0
    assert (both.gpu_duty_cycle, both.gpu_memory) == (40, 1024)
    assert bytes_only.memory == 1.5
    assert bytes_only.memory_bytes == 3 * 2**19
    assert (bytes_only.gpu_duty_cycle, bytes_only.gpu_memory) == (None, None)


def test_job_status_helpers() -> None:
    assert JobStatus.items() == set(JobStatus) - {JobStatus.UNKNOWN}
    assert JobStatus.active_items() == {
        JobStatus.PENDING,
        JobStatus.SUSPENDED,
        JobStatus.RUNNING,
    }
    assert JobStatus.finished_items() == {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }
    assert [s for s in JobStatus if s.is_pending] == [JobStatus.PENDING, JobStatus.SUSPENDED]
    assert [s for s in JobStatus if s.is_running] == [JobStatus.RUNNING]
    assert not JobStatus.UNKNOWN.is_finished
