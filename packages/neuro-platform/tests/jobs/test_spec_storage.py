"""A job's spec in the database (one JSON document, `jobs/codec.py`), on SQLite and PostgreSQL:
every field comes back as stored, and jobs stored before migration `0006_job_spec` (a
`request` document plus name, priority and life span columns) load after it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from pydantic import ValidationError
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.db.migrate import alembic_config
from neuro_platform.db.models import UTCDateTime
from neuro_platform.jobs.entities import (
    Container,
    DiskVolume,
    HttpPort,
    Job,
    JobPriority,
    JobSpec,
    JobStatus,
    Resources,
    RestartPolicy,
    SecretVolume,
    StatusItem,
    StorageVolume,
)
from neuro_platform.jobs.models import JobRow
from neuro_platform.jobs.queries import JobQuery
from neuro_platform.jobs.repository import JobRepository

MIB = 1024**2
BEFORE_SPEC = "0005_user_removal"


async def _migrate(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def _old_container(image: str) -> dict[str, Any]:
    """A container as the codec before `0006_job_spec` wrote it."""
    return {
        "image": image,
        "entrypoint": None,
        "command": "sleep 1",
        "working_dir": None,
        "env": {"A": "1"},
        "volumes": [
            {"src_storage_uri": "storage://default/alice/d", "dst_path": "/d", "read_only": False}
        ],
        "secret_env": {},
        "secret_volumes": [],
        "disk_volumes": [],
        "http": {"port": 80, "requires_auth": False, "health_check_path": "/ok"},
        "tty": True,
        "resources": {"cpu": 0.5, "memory": 64 * MIB, "gpu": 0, "gpu_model": None, "shm": True},
    }


OLD_JOBS: list[dict[str, Any]] = [
    {
        "id": "job-full",
        "name": "web",
        "priority": 2,
        "max_run_time_minutes": 30,
        "request": {
            "container": _old_container("busybox"),
            "description": "a web server",
            "tags": ["a", "b"],
            "preset_name": "cpu-small",
            "scheduler_enabled": True,
            "preemptible_node": False,
            "pass_config": True,
            "privileged": False,
            "restart_policy": "on-failure",
            "schedule_timeout": None,
            "wait_for_jobs_quota": True,
        },
    },
    {
        # The fewest keys the old reader accepted (it defaulted description, tags,
        # preset_name and schedule_timeout), no name, the lowest priority, no life span.
        "id": "job-bare",
        "name": None,
        "priority": 0,
        "max_run_time_minutes": None,
        "request": {
            "container": _old_container("debian"),
            "scheduler_enabled": False,
            "preemptible_node": False,
            "pass_config": False,
            "privileged": True,
            "restart_policy": "never",
            "wait_for_jobs_quota": False,
        },
    },
]


# The jobs table as `0005_user_removal` left it.
_OLD_TABLE = sa.table(
    "jobs",
    *(sa.column(name, sa.String()) for name in ("id", "owner", "cluster_name", "name", "status")),
    sa.column("org_name", sa.String()),
    sa.column("priority", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
    sa.column("request", sa.JSON()),
    sa.column("statuses", sa.JSON()),
    sa.column("restarts", sa.Integer()),
    sa.column("max_run_time_minutes", sa.Integer()),
    sa.column("materialized", sa.Boolean()),
)
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def _insert_old_rows(engine: AsyncEngine) -> None:
    status = {"status": "pending", "transition_time": NOW.isoformat(), "reason": "Creating"}
    rows = [
        {
            **job,
            "owner": "alice",
            "cluster_name": "default",
            "org_name": None,
            "status": "pending",
            "created_at": NOW,
            "statuses": [status],
            "restarts": 0,
            "materialized": False,
        }
        for job in OLD_JOBS
    ]
    async with engine.begin() as connection:
        await connection.execute(_OLD_TABLE.insert(), rows)


async def _old_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    c = _OLD_TABLE.c
    columns = (c.id, c.name, c.priority, c.max_run_time_minutes, c.request)
    async with engine.connect() as connection:
        result = await connection.execute(sa.select(*columns).order_by(c.id.desc()))
        return [dict(row._mapping) for row in result]


async def test_jobs_stored_before_the_spec_load_after_the_migration(engine: AsyncEngine) -> None:
    await _migrate(engine, BEFORE_SPEC)
    await _insert_old_rows(engine)

    await _migrate(engine, "head")

    repository = JobRepository(create_session_factory(engine))
    full = await repository.get("job-full")
    assert full.spec == JobSpec(
        container=Container(
            image="busybox",
            resources=Resources(cpu=0.5, memory=64 * MIB, shm=True),
            command="sleep 1",
            env={"A": "1"},
            volumes=(StorageVolume("storage://default/alice/d", "/d", read_only=False),),
            http=HttpPort(80, requires_auth=False, health_check_path="/ok"),
            tty=True,
        ),
        name="web",
        description="a web server",
        tags=("a", "b"),
        preset_name="cpu-small",
        scheduler_enabled=True,
        pass_config=True,
        restart_policy=RestartPolicy.ON_FAILURE,
        priority=JobPriority.HIGH,
        max_run_time_minutes=30,
        wait_for_jobs_quota=True,
    )
    assert full.statuses == (StatusItem(JobStatus.PENDING, NOW, reason="Creating"),)
    bare = await repository.get("job-bare")
    assert (bare.spec.name, bare.spec.priority, bare.spec.max_run_time_minutes) == (
        None,
        JobPriority.LOW,
        None,
    )
    assert (bare.spec.privileged, bare.spec.tags, bare.spec.description) == (True, (), None)
    # The columns listings and the scheduler query still agree with the documents.
    assert await repository.find_by_name("alice", "web") == full
    assert [j.id for j in await repository.scheduling_queue()] == ["job-full", "job-bare"]
    # Listings read the migrated documents alike.
    listed = {
        j.id: j async for j in JobRepository(create_session_factory(engine)).stream(JobQuery())
    }
    assert listed == {"job-full": full, "job-bare": bare}


async def test_the_migration_can_be_undone_to_the_old_layout(engine: AsyncEngine) -> None:
    await _migrate(engine, BEFORE_SPEC)
    await _insert_old_rows(engine)
    before = await _old_rows(engine)

    await _migrate(engine, "head")
    await _migrate(engine, BEFORE_SPEC, down=True)

    # What the old reader needs is all there again (the one-time defaults become explicit).
    after = await _old_rows(engine)
    assert [{k: v for k, v in row.items() if k != "request"} for row in after] == [
        {k: v for k, v in row.items() if k != "request"} for row in before
    ]
    for old, new in zip(before, after, strict=True):
        assert old["request"].items() <= new["request"].items()


def _unusual_spec() -> JobSpec:
    """A spec whose every field differs from its default, down to the container's."""
    return JobSpec(
        container=Container(
            image="registry.example.org:5000/alice/img:v1",
            resources=Resources(cpu=1.5, memory=96 * MIB, gpu=2, gpu_model="m", shm=True),
            entrypoint="sh -c",
            command="'echo hi'",
            working_dir="/w",
            env={"A": "1", "B": "two"},
            volumes=(StorageVolume("storage://default/alice/d", "/d", read_only=False),),
            secret_env={"S": "secret://default/alice/k"},
            secret_volumes=(SecretVolume("secret://default/alice/k", "/k"),),
            disk_volumes=(DiskVolume("disk://default/alice/x", "/x", False, "disk-1"),),
            http=HttpPort(8080, requires_auth=False, health_check_path="/h"),
            tty=True,
        ),
        name="unusual",
        description="every field set",
        tags=("t1", "t2"),
        preset_name="gpu",
        scheduler_enabled=True,
        preemptible_node=True,
        pass_config=True,
        privileged=True,
        restart_policy=RestartPolicy.ALWAYS,
        priority=JobPriority.LOW,
        schedule_timeout=12.5,
        max_run_time_minutes=7,
        wait_for_jobs_quota=True,
    )


def _defaults(cls: type[Any]) -> dict[str, Any]:
    defaults = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
    return defaults


async def test_every_spec_field_comes_back_from_the_database(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    spec = _unusual_spec()
    for part, cls in (
        (spec, JobSpec),
        (spec.container, Container),
        (spec.container.resources, Resources),
    ):
        unchanged = [k for k, v in _defaults(cls).items() if getattr(part, k) == v]
        assert unchanged == [], f"set these {cls.__name__} fields in the test: {unchanged}"
    job = Job(
        id="job-unusual",
        owner="alice",
        cluster_name="default",
        org_name="acme",
        spec=spec,
        created_at=NOW,
        statuses=(
            StatusItem(JobStatus.PENDING, NOW, reason="Creating"),
            StatusItem(JobStatus.RUNNING, NOW),
            StatusItem(JobStatus.FAILED, NOW, reason="Error", description="oom", exit_code=137),
        ),
        restarts=3,
        materialized=True,
    )
    await JobRepository(sessions).insert(job)

    # A second repository reads the database itself, not the first one's memory; listings
    # parse the documents in one step (`decode_spec_json`): the same job either way.
    assert await JobRepository(sessions).get(job.id) == job
    assert [j async for j in JobRepository(sessions).stream(JobQuery())] == [job]


async def test_a_spec_document_of_the_wrong_shape_is_an_error_not_a_default(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A document missing what a job cannot do without must not load as some other job.
    job = Job(
        id="job-broken",
        owner="alice",
        cluster_name="default",
        org_name=None,
        spec=_unusual_spec(),
        created_at=NOW,
        statuses=(StatusItem(JobStatus.PENDING, NOW),),
    )
    await JobRepository(sessions).insert(job)
    async with sessions.begin() as session:
        await session.execute(
            sa.update(JobRow).where(JobRow.id == job.id).values(spec={"name": "x"})
        )
    with pytest.raises(ValidationError, match="container"):
        await JobRepository(sessions).get(job.id)
    with pytest.raises(ValidationError, match="container"):
        _ = [j async for j in JobRepository(sessions).stream(JobQuery())]
