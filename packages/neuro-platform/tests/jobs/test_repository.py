"""The jobs repository on a real database (SQLite, and PostgreSQL when provided): updates
that race lose nothing, and what `get` answers from memory is what the database holds."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from neuro_platform.db.engine import create_engine, create_session_factory
from neuro_platform.db.migrate import upgrade_to
from neuro_platform.jobs import repository as repository_module
from neuro_platform.jobs.entities import (
    ACTIVE_STATUSES,
    Container,
    DiskVolume,
    Job,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.held_disks import disks_held_by_jobs
from neuro_platform.jobs.models import UNFINISHED_NAMED, JobRow
from neuro_platform.jobs.queries import JobNameTakenError, JobNotFoundError, JobQuery
from neuro_platform.jobs.repository import JobRepository, _row_values

from .conftest import counted_commits

MIB = 1024**2


def _job(job_id: str) -> Job:
    now = datetime.now(UTC)
    return Job(
        id=job_id,
        owner="alice",
        cluster_name="default",
        org_name=None,
        spec=JobSpec(Container(image="busybox", resources=Resources(cpu=0.1, memory=64 * MIB))),
        created_at=now,
        statuses=(StatusItem(JobStatus.PENDING, now),),
    )


async def test_concurrent_updates_of_one_job_lose_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    await repository.insert(_job("job-1"))

    async def bump() -> None:
        await repository.update("job-1", lambda j: replace(j, restarts=j.restarts + 1))

    await asyncio.gather(*(bump() for _ in range(20)))

    assert (await repository.get("job-1")).restarts == 20
    # A second repository reads the database itself: the stored row agrees.
    assert (await JobRepository(sessions).get("job-1")).restarts == 20


async def test_get_follows_every_update(sessions: async_sessionmaker[AsyncSession]) -> None:
    repository = JobRepository(sessions)
    await repository.insert(_job("job-2"))
    assert (await repository.get("job-2")).status is JobStatus.PENDING
    running = StatusItem(JobStatus.RUNNING, datetime.now(UTC))

    # A read racing with an update never leaves the older job behind in memory.
    reads = [repository.get("job-2") for _ in range(5)]
    change = repository.update("job-2", lambda j: j.with_status(running))
    await asyncio.gather(*reads, change)

    assert (await repository.get("job-2")).status is JobStatus.RUNNING
    assert (await JobRepository(sessions).get("job-2")).status is JobStatus.RUNNING


async def test_concurrent_inserts_commit_together_and_a_bad_one_fails_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    await repository.insert(_job("job-taken"))
    # Submitted at once, these go into one group commit; the duplicate id fails it, and then
    # only itself: the others are committed and their callers told so.
    ids = [f"job-burst-{i}" for i in range(10)]
    jobs = [_job(job_id) for job_id in ids[:5]] + [_job("job-taken")]
    jobs += [_job(job_id) for job_id in ids[5:]]
    outcomes = await asyncio.gather(
        *(repository.insert(job) for job in jobs), return_exceptions=True
    )

    failed = [job.id for job, outcome in zip(jobs, outcomes, strict=True) if outcome is not None]
    assert failed == ["job-taken"]
    stored = JobRepository(sessions)  # reads the database itself
    for job_id in ids:
        assert (await stored.get(job_id)).id == job_id


async def test_concurrent_updates_commit_together(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    ids = [f"job-kill-{i}" for i in range(10)]
    for job_id in ids:
        await repository.insert(_job(job_id))
    cancelled = StatusItem(JobStatus.CANCELLED, datetime.now(UTC))
    with counted_commits(sessions) as commits:
        killed = await asyncio.gather(
            *(repository.update(job_id, lambda j: j.with_status(cancelled)) for job_id in ids)
        )
    assert [job.status for job in killed] == [JobStatus.CANCELLED] * len(ids)
    assert len(commits) < len(ids)  # a burst of kills shares its transactions
    stored = JobRepository(sessions)  # reads the database itself
    for job_id in ids:
        assert (await stored.get(job_id)).status is JobStatus.CANCELLED


async def test_a_bad_update_in_a_group_commit_fails_only_its_caller(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """One change refuses its job, one breaks the transaction (a NOT NULL column), one names
    a job that does not exist: their callers get the error, every other update commits."""
    repository = JobRepository(sessions)
    ids = [f"job-batch-{i}" for i in range(8)]
    for job_id in ids:
        await repository.insert(_job(job_id))
    cancelled = StatusItem(JobStatus.CANCELLED, datetime.now(UTC))

    def kill(job: Job) -> Job:
        return job.with_status(cancelled)

    def refuse(job: Job) -> Job:
        raise ValueError(f"{job.id} refused")

    def break_row(job: Job) -> Job:
        return replace(job, owner=cast(str, None))

    changes = [kill, kill, refuse, kill, break_row, kill, kill, kill]
    calls = [repository.update(i, c) for i, c in zip(ids, changes, strict=True)]
    outcomes = await asyncio.gather(
        *calls, repository.update("job-gone", kill), return_exceptions=True
    )

    assert isinstance(outcomes[2], ValueError)
    assert isinstance(outcomes[4], IntegrityError)
    assert isinstance(outcomes[8], JobNotFoundError)
    stored = JobRepository(sessions)
    for job_id, change in zip(ids, changes, strict=True):
        expected = JobStatus.CANCELLED if change is kill else JobStatus.PENDING
        assert (await stored.get(job_id)).status is expected
        assert (await repository.get(job_id)).status is expected


async def test_count_matches_what_find_returns(sessions: async_sessionmaker[AsyncSession]) -> None:
    repository = JobRepository(sessions)
    running = StatusItem(JobStatus.RUNNING, datetime.now(UTC))
    jobs = [
        _job("job-count-1"),
        replace(_job("job-count-2"), org_name="acme"),
        replace(_job("job-count-3"), owner="bob"),
        _job("job-count-4").with_status(running),
        replace(_job("job-count-5"), cluster_name="other"),
    ]
    for job in jobs:
        await repository.insert(job)
    queries = [
        JobQuery(owners=["alice"]),
        JobQuery(owners=["alice"], statuses=[JobStatus.PENDING], cluster_name="default"),
        JobQuery(cluster_name="default", org_name="acme", filter_org=True),
        JobQuery(cluster_name="default", org_name=None, filter_org=True, owners=["alice"]),
        JobQuery(owners=["nobody"]),
    ]
    for query in queries:
        found = await repository.find(query)
        assert await repository.count(query) == len(found), query


async def test_a_shared_listing_reuses_only_jobs_whose_row_is_unchanged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Where other processes write the table (`cached=False`), a listing reuses a job it
    decoded before only while its row reads the same: another writer's change shows at once."""
    ours, theirs = await _shared_repositories(sessions, [f"job-shared-{n}" for n in range(3)])

    first = await _listed(ours)
    second = await _listed(ours)
    assert [a is b for a, b in zip(first, second, strict=True)] == [True, True, True]

    bumped = await theirs.update("job-shared-1", lambda j: replace(j, restarts=7))
    running = StatusItem(JobStatus.RUNNING, datetime.now(UTC))
    await theirs.update("job-shared-2", lambda j: j.with_status(running))
    third = await _listed(ours)
    assert third[0] is first[0]
    assert third[1] == bumped
    assert third[1].restarts == 7
    assert third[2].status is JobStatus.RUNNING


async def test_a_shared_listing_longer_than_the_cache_still_reuses_what_fits(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing longer than the cache must not evict, job by job, what its next run reads
    first (least recently used order would then find nothing)."""
    monkeypatch.setattr(repository_module, "CACHED_JOBS", 3)
    ours, _ = await _shared_repositories(sessions, [f"job-long-{n}" for n in range(5)])

    first = await _listed(ours)
    for _ in range(2):
        again = await _listed(ours)
        assert [a is b for a, b in zip(first, again, strict=True)] == [True] * 3 + [False] * 2


async def _shared_repositories(
    sessions: async_sessionmaker[AsyncSession], ids: list[str]
) -> tuple[JobRepository, JobRepository]:
    """Two processes' repositories of one shared database (`cached=False`), ours and theirs;
    theirs has inserted a pending job of each id."""
    ours, theirs = JobRepository(sessions, cached=False), JobRepository(sessions, cached=False)
    for job_id in ids:
        await theirs.insert(_job(job_id))
    return ours, theirs


async def _listed(repository: JobRepository) -> list[Job]:
    return [job async for job in repository.stream(JobQuery())]


def _named(job_id: str, owner: str, name: str | None) -> Job:
    job = _job(job_id)
    return replace(job, owner=owner, spec=replace(job.spec, name=name))


async def test_a_name_is_unique_among_its_owners_unfinished_jobs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The database refuses a second unfinished job of one owner's name, whichever process
    writes it (here a second repository, as a second server would have): no check before
    the insert can be raced past."""
    ours, theirs = JobRepository(sessions), JobRepository(sessions)
    await ours.insert(_named("job-a", "alice", "train"))
    with pytest.raises(JobNameTakenError):
        await theirs.insert(_named("job-b", "alice", "train"))
    # Another owner's, unnamed ones, and the name once its job has finished: all accepted.
    await theirs.insert(_named("job-c", "bob", "train"))
    await theirs.insert(_named("job-d", "alice", None))
    await theirs.insert(_named("job-e", "alice", None))
    finished = StatusItem(JobStatus.SUCCEEDED, datetime.now(UTC))
    await ours.update("job-a", lambda j: j.with_status(finished))
    await theirs.insert(_named("job-f", "alice", "train"))
    # Racing inserts of one name, committed as one group: one lands.
    racing = [theirs.insert(_named(f"job-r{i}", "alice", "eval")) for i in range(4)]
    outcomes = await asyncio.gather(*racing, return_exceptions=True)
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, JobNameTakenError) for o in outcomes if o is not None)


def test_the_unique_names_index_covers_the_unfinished_statuses() -> None:
    """The index states the unfinished statuses in SQL: it must name exactly these."""
    stated = set(re.findall(r"'(\w+)'", str(UNFINISHED_NAMED)))
    assert stated == {str(s) for s in ACTIVE_STATUSES}


async def test_migration_leaves_the_name_to_the_oldest_of_racing_unfinished_jobs(
    database_url: str,
) -> None:
    """Duplicates the race left before the unique index: the oldest keeps answering to the
    name; the newer keep it in their specs, and the index can be made."""
    engine = create_engine(database_url)
    base = datetime.now(UTC)
    jobs = [
        _named("job-older", "alice", "train"),
        _named("job-newer", "alice", "train"),
        _named("job-bobs", "bob", "train"),
        _named("job-done", "alice", "eval"),
        _named("job-eval", "alice", "eval"),
    ]
    finished = StatusItem(JobStatus.SUCCEEDED, base)
    jobs[3] = jobs[3].with_status(finished)
    try:
        await upgrade_to(engine, "0012_disk_writers")
        async with engine.begin() as connection:
            rows = [
                _row_values(replace(job, created_at=base + timedelta(seconds=i)))
                for i, job in enumerate(jobs)
            ]
            await connection.execute(sa.insert(JobRow), rows)
        await upgrade_to(engine, "head")

        repository = JobRepository(create_session_factory(engine), cached=False)
        named = [await repository.find_by_name("alice", name) for name in ("train", "eval")]
        assert [job.id if job else None for job in named] == ["job-older", "job-eval"]
        assert (await repository.get("job-newer")).spec.name == "train"
        with pytest.raises(JobNameTakenError):
            await repository.insert(_named("job-third", "alice", "train"))
    finally:
        await engine.dispose()


async def test_the_disks_held_are_those_of_jobs_in_the_scheduling_queue(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repository = JobRepository(sessions)
    done = StatusItem(JobStatus.SUCCEEDED, datetime.now(UTC))

    def mounting(job_id: str, *disk_ids: str, env: dict[str, str] | None = None) -> Job:
        volumes = tuple(
            DiskVolume(f"disk://default/alice/{d}", f"/mnt/{d}", read_only=i == 0, disk_id=d)
            for i, d in enumerate(disk_ids)
        )
        job = _job(job_id)
        container = replace(job.spec.container, disk_volumes=volumes, env=env or {})
        return replace(job, spec=replace(job.spec, container=container))

    for job in (
        mounting("job-reads-and-writes", "disk-a", "disk-b"),
        mounting("job-done", "disk-c"),
        mounting("job-done-still-there", "disk-d"),
        # Names a disk id in its spec but mounts none: decoded, and nothing found.
        mounting("job-talks", env={"DISK": "disk-e"}),
        mounting("job-plain"),
    ):
        await repository.insert(job)
    await repository.update("job-done", lambda j: j.with_status(done))
    await repository.update(
        "job-done-still-there", lambda j: replace(j.with_status(done), materialized=True)
    )

    assert await disks_held_by_jobs(repository) == {"disk-a", "disk-b", "disk-d"}
    specs = await repository.queued_specs(containing="disk-")
    assert len(specs) == 3  # the two that mount disks, and the one whose env names one
