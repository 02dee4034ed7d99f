"""What the database decides between racing submissions, on SQLite and PostgreSQL:

* one writer per disk (`jobs/volume_access.py`, `disk_writers`): submissions racing for a
  disk in two server processes cannot both win, a claim ends with its holder, read-only
  mounts claim nothing, and a submission that fails after its claim leaves none behind;
* an account's limit of unfinished jobs (`jobs/quota.py`, `ActiveLimit`): racing
  submissions of one user, or of one org's users, cannot each take the same last place.

"A server process" here is what `composition.build_services` builds for submissions, on an
engine of its own: two of them on one database are two `serve` processes (docs/scale-out.md),
without the orchestrator, which a submission never talks to.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import await_only

from neuro_platform.admin_api.accounts import Accounts
from neuro_platform.admin_api.entities import Credits, OrgCluster, OrgRole, OrgUser, Quota
from neuro_platform.admin_api.repository import AdminRepository
from neuro_platform.core import open_core
from neuro_platform.db.engine import create_engine
from neuro_platform.db.migrate import upgrade_to
from neuro_platform.disks.entities import Disk, DiskStatus
from neuro_platform.disks.images import DiskImages
from neuro_platform.disks.repository import DiskRepository
from neuro_platform.disks.service import DisksService
from neuro_platform.jobs.capacity import ClusterNodes
from neuro_platform.jobs.entities import (
    MIB,
    Container,
    DiskVolume,
    Job,
    JobSpec,
    JobStatus,
    Resources,
    StatusItem,
)
from neuro_platform.jobs.held_disks import disks_held_by_jobs
from neuro_platform.jobs.job_images import JobImages
from neuro_platform.jobs.job_tokens import JobTokenIssuer
from neuro_platform.jobs.models import JobRow
from neuro_platform.jobs.quota import JobQuotas, QuotaExceededError
from neuro_platform.jobs.repository import JobRepository, _row_values
from neuro_platform.jobs.service import JobsService
from neuro_platform.jobs.submission import Submission
from neuro_platform.jobs.volume_access import DiskInUseError, VolumeAccess
from neuro_platform.leadership import is_postgres
from neuro_platform.permissions import PermissionService
from neuro_platform.secrets.cipher import SecretCipher
from neuro_platform.secrets.repository import SecretRepository
from neuro_platform.secrets.service import SecretsService
from neuro_platform.settings import CommandLineOverrides, Settings, load_settings

IN_USE = "is mounted read-write by another job that has not finished"


@dataclass(frozen=True)
class Process:
    """What one server process submits with, on an engine of its own."""

    jobs: JobsService
    repository: JobRepository
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine


@asynccontextmanager
async def _process(settings: Settings) -> AsyncIterator[Process]:
    """The submission side of `composition.build_services`, wired the same way."""
    async with open_core(settings) as core:
        sessions = core.sessions
        repository = JobRepository(sessions, cached=not is_postgres(settings.database_url))
        permissions = PermissionService(
            core.permission_repository,
            clusters=[c.name for c in settings.clusters],
            orgs=settings.all_orgs,
        )
        secrets = SecretsService(
            SecretRepository(sessions), SecretCipher(settings.data_dir / "secrets-key"), permissions
        )
        disks = DisksService(
            DiskRepository(sessions),
            DiskImages(settings.data_dir / "disks"),
            permissions,
            None,
            in_use=functools.partial(disks_held_by_jobs, repository),
        )
        tokens = JobTokenIssuer(core.codec, settings.jobs_api_url / "api" / "v1")
        jobs = JobsService(
            repository,
            permissions,
            settings,
            ClusterNodes.from_settings(settings),
            lambda: None,  # no scheduler: the jobs stay pending unless a test moves them
            VolumeAccess(repository, secrets, disks),
            JobImages(settings, permissions, core.users, tokens),
            JobQuotas(Accounts(AdminRepository(sessions), settings), repository, settings),
        )
        engine = sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        yield Process(jobs, repository, sessions, engine)


@pytest.fixture
def extra_config() -> str:
    """More of platform.toml, for a test to parametrize."""
    return ""


@pytest.fixture
def settings(database_url: str, tmp_path: Path, extra_config: str) -> Settings:
    config = tmp_path / "platform.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n{extra_config}')
    return load_settings(config, env={}, overrides=CommandLineOverrides(data_dir=tmp_path / "data"))


@pytest.fixture
async def first(settings: Settings) -> AsyncIterator[Process]:
    async with _process(settings) as process:
        yield process


@pytest.fixture
async def second(settings: Settings, first: Process) -> AsyncIterator[Process]:
    """Another server process on the same database (`first` has migrated it)."""
    async with _process(settings) as process:
        yield process


async def _disk(process: Process, name: str) -> str:
    """A ready disk of alice's (the row alone: submissions never touch the image)."""
    disk = Disk(
        id=f"disk-{uuid.uuid4()}",
        cluster_name="default",
        org_name=None,
        owner="alice",
        name=name,
        storage=1024**3,
        status=DiskStatus.READY,
        created_at=datetime.now(UTC),
    )
    await DiskRepository(process.sessions).insert(disk)
    return disk.id


def _submission(*mounts: tuple[str, bool]) -> Submission:
    """A job mounting each (disk name, read_only) of `mounts`."""
    volumes = tuple(
        DiskVolume(f"disk://default/alice/{name}", f"/d{i}", read_only)
        for i, (name, read_only) in enumerate(mounts)
    )
    container = Container(
        image="busybox", resources=Resources(cpu=0.1, memory=64 * MIB), disk_volumes=volumes
    )
    return Submission(cluster_name="default", org_name=None, spec=JobSpec(container))


async def _claims(engine: AsyncEngine) -> dict[str, str]:
    """The `disk_writers` table: disk id -> the job that claimed it last."""
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT disk_id, job_id FROM disk_writers"))
        return {disk_id: job_id for disk_id, job_id in rows}


async def test_racing_processes_admit_one_writer_per_disk(first: Process, second: Process) -> None:
    """Each disk is asked for read-write by both processes at once, twice each: exactly one
    submission per disk is accepted, the others are refused as in use. (On SQLite, where a
    server runs alone on its database, the two submissions of one process race as well.)"""
    names = [f"race{i}" for i in range(8)]
    for name in names:
        await _disk(first, name)
    submissions = [
        process.jobs.submit("alice", _submission((name, False)))
        for name in names
        for process in (first, second, first, second)
    ]
    outcomes = await asyncio.gather(*submissions, return_exceptions=True)
    for i, name in enumerate(names):
        mine = outcomes[4 * i : 4 * i + 4]
        accepted = [o for o in mine if isinstance(o, Job)]
        refused = [o for o in mine if isinstance(o, DiskInUseError)]
        said = [o.id if isinstance(o, Job) else repr(o) for o in mine]
        assert len(accepted) == 1, f"{name}: {said}"
        assert len(refused) == 3, f"{name}: {said}"
        assert all(IN_USE in str(e) and f"disk://default/alice/{name}" in str(e) for e in refused)


async def test_a_claim_is_free_once_its_holder_finishes(first: Process, second: Process) -> None:
    disk_id = await _disk(first, "data")
    holder = await first.jobs.submit("alice", _submission(("data", False)))
    with pytest.raises(DiskInUseError, match=IN_USE):
        await second.jobs.submit("alice", _submission(("data", False)))
    await first.jobs.finish(holder.id, JobStatus.SUCCEEDED, "Completed")
    # The finished holder's claim is stale: the other process takes it over.
    taker = await second.jobs.submit("alice", _submission(("data", False)))
    assert await _claims(first.engine) == {disk_id: taker.id}
    with pytest.raises(DiskInUseError, match=IN_USE):  # ... and now holds it
        await first.jobs.submit("alice", _submission(("data", False)))
    await second.jobs.finish(taker.id, JobStatus.CANCELLED, "Killed")
    again = await first.jobs.submit("alice", _submission(("data", False)))
    assert await _claims(second.engine) == {disk_id: again.id}


async def test_a_finished_holder_whose_container_is_not_removed_yet_still_holds(
    first: Process, second: Process
) -> None:
    """A killed job's container may still be writing while it stops: the disk stays held
    until the scheduler has removed it (`materialized`), as its removal does."""
    disk_id = await _disk(first, "data")
    holder = await first.jobs.submit("alice", _submission(("data", False)))
    await first.repository.update(holder.id, lambda j: replace(j, materialized=True))
    await first.jobs.finish(holder.id, JobStatus.CANCELLED, "Killed")
    with pytest.raises(DiskInUseError, match="whose container is still being removed"):
        await second.jobs.submit("alice", _submission(("data", False)))
    await first.repository.update(holder.id, lambda j: replace(j, materialized=False))
    taker = await second.jobs.submit("alice", _submission(("data", False)))
    assert await _claims(first.engine) == {disk_id: taker.id}


async def test_a_claim_naming_a_job_that_is_not_stored_is_free(first: Process) -> None:
    """A claim whose job row is gone holds nothing (jobs are never deleted today: this is
    the rule should one ever be)."""
    disk_id = await _disk(first, "data")
    async with first.engine.begin() as connection:
        await connection.execute(
            sa.text("INSERT INTO disk_writers (disk_id, job_id) VALUES (:d, 'job-gone')"),
            {"d": disk_id},
        )
    job = await first.jobs.submit("alice", _submission(("data", False)))
    assert await _claims(first.engine) == {disk_id: job.id}


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.SUSPENDED, JobStatus.RUNNING])
async def test_an_unfinished_holder_keeps_its_claim(
    first: Process, second: Process, status: JobStatus
) -> None:
    disk_id = await _disk(first, "data")
    holder = await first.jobs.submit("alice", _submission(("data", False)))
    if status is not JobStatus.PENDING:
        item = StatusItem(status, datetime.now(UTC))
        await first.repository.update(holder.id, lambda j: j.with_status(item))
    for process in (first, second):
        with pytest.raises(DiskInUseError, match=IN_USE):
            await process.jobs.submit("alice", _submission(("data", False)))
    assert await _claims(first.engine) == {disk_id: holder.id}
    active = await first.repository.count_active("alice")
    assert active == 1  # the refused submissions recorded no job


@pytest.mark.parametrize("stale", [False, True], ids=["fresh", "stale"])
@pytest.mark.parametrize("ends", ["commit", "rollback"])
async def test_a_submission_waits_for_a_claim_in_flight_and_yields_to_it(
    first: Process, second: Process, stale: bool, ends: str
) -> None:
    """Another process's claim, written but not committed: a new claim (`fresh`) or the
    take-over of a finished holder's (`stale`). The submission waits for it (the unique key
    on PostgreSQL, the row lock of the compare-and-swap there, SQLite's write lock), then is
    refused if it committed and wins if it rolled back."""
    disk_id = await _disk(first, "data")
    if stale:
        finished = await first.jobs.submit("alice", _submission(("data", False)))
        await first.jobs.finish(finished.id, JobStatus.SUCCEEDED, "Completed")
    theirs = _writing_job("job-theirs", JobStatus.PENDING, (disk_id, False))
    async with second.engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(sa.insert(JobRow), [_row_values(theirs)])
        claim = (
            "UPDATE disk_writers SET job_id = :j WHERE disk_id = :d"
            if stale
            else "INSERT INTO disk_writers (disk_id, job_id) VALUES (:d, :j)"
        )
        await connection.execute(sa.text(claim), {"d": disk_id, "j": theirs.id})
        with _statements(first.engine) as statements:
            submitting = asyncio.create_task(
                first.jobs.submit("alice", _submission(("data", False)))
            )
            await asyncio.sleep(0.5)
            assert not submitting.done()  # it waits for the other transaction to end
            await (transaction.commit() if ends == "commit" else transaction.rollback())
            outcome = (await asyncio.gather(submitting, return_exceptions=True))[0]
    if ends == "commit":
        assert isinstance(outcome, DiskInUseError)
        assert IN_USE in str(outcome)
        assert await _claims(first.engine) == {disk_id: theirs.id}
    else:
        assert isinstance(outcome, Job)
        assert await _claims(first.engine) == {disk_id: outcome.id}
    # Each waited before its first claim statement could run: only a stale claim still
    # free after the wait is taken over (its compare-and-swap).
    took_over = [s for s in statements if _is_take_over(s)]
    assert bool(took_over) == (stale and ends == "rollback")


def _is_take_over(statement: str) -> bool:
    return statement.lstrip().upper().startswith("UPDATE DISK_WRITERS")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("commits", ["before", "while blocked"])
async def test_a_take_over_between_the_read_and_the_swap_wins(
    first: Process, second: Process, commits: str
) -> None:
    """PostgreSQL runs the steps of a claim concurrently with other transactions (SQLite
    runs none: its write lock is held from the first one). Here another process takes over a
    stale claim right after this one has read the finished holder, and commits before this
    one's compare-and-swap runs, or while it waits for the row lock: the swap finds another
    job in the row and updates nothing, and the submission is refused."""
    disk_id = await _disk(first, "data")
    finished = await first.jobs.submit("alice", _submission(("data", False)))
    await first.jobs.finish(finished.id, JobStatus.SUCCEEDED, "Completed")
    theirs = _writing_job("job-theirs", JobStatus.PENDING, (disk_id, False))
    committed: list[asyncio.Task[None]] = []

    async def take_over() -> None:
        """Their claim: written now, committed now or half a second later."""
        connection = await second.engine.connect()
        transaction = await connection.begin()
        await connection.execute(sa.insert(JobRow), [_row_values(theirs)])
        swapped = await connection.execute(
            sa.text("UPDATE disk_writers SET job_id = :j WHERE disk_id = :d AND job_id = :h"),
            {"d": disk_id, "j": theirs.id, "h": finished.id},
        )
        assert swapped.rowcount == 1

        async def commit() -> None:
            if commits == "while blocked":
                await asyncio.sleep(0.5)
            await transaction.commit()
            await connection.close()

        if commits == "before":
            await commit()
        else:
            committed.append(asyncio.create_task(commit()))

    came_in: list[bool] = []

    def between(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Right after the holder's read (which found the finished job), before the swap;
        # on the submission's connection, which waits for the other process meanwhile.
        if "FROM disk_writers" in statement and not came_in:
            came_in.append(True)
            await_only(take_over())

    event.listen(first.engine.sync_engine, "after_cursor_execute", between)
    try:
        with _statements(first.engine) as statements, pytest.raises(DiskInUseError, match=IN_USE):
            await first.jobs.submit("alice", _submission(("data", False)))
    finally:
        event.remove(first.engine.sync_engine, "after_cursor_execute", between)
    await asyncio.gather(*committed)
    assert came_in  # the other process did come in between
    assert [s for s in statements if _is_take_over(s)]  # the swap ran, and lost
    assert await _claims(first.engine) == {disk_id: theirs.id}


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run through `engine` while the block runs."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def test_read_only_mounts_are_never_refused_and_claim_nothing(
    first: Process, second: Process
) -> None:
    disk_id = await _disk(first, "data")
    await _disk(first, "other")
    with _statements(first.engine) as statements:
        reader = await first.jobs.submit("alice", _submission(("data", True), ("other", True)))
        plain = await first.jobs.submit("alice", _submission())
    # Submissions that write no disk stay on the group-committed insert: no claim, no query.
    assert not [s for s in statements if "disk_writers" in s]
    assert await _claims(first.engine) == {}
    # A reader does not keep a writer out, nor a writer readers, in either process.
    writer = await second.jobs.submit("alice", _submission(("data", False)))
    readers = await asyncio.gather(
        *(p.jobs.submit("alice", _submission(("data", True))) for p in (first, second, first))
    )
    assert await _claims(first.engine) == {disk_id: writer.id}
    assert len({reader.id, plain.id, writer.id, *(r.id for r in readers)}) == 6


async def test_a_submission_failing_after_its_claims_leaves_none(first: Process) -> None:
    """The claims and the job are one transaction: a job that cannot be stored (here: its id
    is taken) leaves neither a new claim nor a taken-over one."""
    fresh = await _disk(first, "fresh")
    stale = await _disk(first, "stale")
    finished = await first.jobs.submit("alice", _submission(("stale", False)))
    await first.jobs.finish(finished.id, JobStatus.FAILED, "Error")
    existing = await first.jobs.submit("alice", _submission())
    claims = await _claims(first.engine)
    assert claims == {stale: finished.id}

    wants_both = _submission(("fresh", False), ("stale", False)).spec
    volumes = tuple(
        replace(v, disk_id=d)
        for v, d in zip(wants_both.container.disk_volumes, (fresh, stale), strict=True)
    )
    clash = replace(
        existing,
        spec=replace(wants_both, container=replace(wants_both.container, disk_volumes=volumes)),
    )
    with pytest.raises(sa.exc.IntegrityError):
        await first.repository.insert_claiming(clash, [fresh, stale])
    assert await _claims(first.engine) == claims
    assert (await first.repository.get(existing.id)) == existing
    # Both disks are free for the next writer.
    job = await first.jobs.submit("alice", _submission(("fresh", False), ("stale", False)))
    assert await _claims(first.engine) == {fresh: job.id, stale: job.id}


async def test_a_refused_submission_keeps_none_of_its_claims(
    first: Process, second: Process
) -> None:
    """A job that writes two disks, the first (claims go in disk id order) free and the
    second held: the claim it took on the first goes with the refusal."""
    one, two = await _disk(first, "one"), await _disk(first, "two")
    (free, free_name), (held, held_name) = sorted([(one, "one"), (two, "two")])
    holder = await first.jobs.submit("alice", _submission((held_name, False)))
    with pytest.raises(DiskInUseError, match=f"disk://default/alice/{held_name} {IN_USE}"):
        await second.jobs.submit("alice", _submission((free_name, False), (held_name, False)))
    assert await _claims(first.engine) == {held: holder.id}
    job = await second.jobs.submit("alice", _submission((free_name, False)))
    assert await _claims(first.engine) == {held: holder.id, free: job.id}


def _writing_job(job_id: str, status: JobStatus, *disks: tuple[str, bool]) -> Job:
    now = datetime.now(UTC)
    volumes = tuple(
        DiskVolume(f"disk://default/alice/{d}", f"/d{i}", read_only, disk_id=d)
        for i, (d, read_only) in enumerate(disks)
    )
    container = Container(
        image="busybox", resources=Resources(cpu=0.1, memory=64 * MIB), disk_volumes=volumes
    )
    return Job(
        id=job_id,
        owner="alice",
        cluster_name="default",
        org_name=None,
        spec=JobSpec(container),
        created_at=now,
        statuses=(StatusItem(status, now),),
    )


USER_LIMIT = "[jobs]\nmax_running_jobs_per_user = 3\n"
ORGS = '[[clusters]]\nname = "default"\norgs = ["NO_ORG", "acme"]\n'


@pytest.mark.parametrize("extra_config", [USER_LIMIT], ids=["user-quota"])
async def test_racing_processes_hold_a_users_limit_of_unfinished_jobs(
    first: Process, second: Process
) -> None:
    """Ten submissions at once, five in each process, against a limit of three: without the
    count in the insert's transaction all ten were accepted. Two of them write a disk (their
    claims and count are a transaction of their own), the others are group-committed."""
    for name in ("q0", "q1"):
        await _disk(first, name)
    submissions = [_submission(("q0", False)), _submission(("q1", False))]
    submissions += [_submission() for _ in range(8)]
    outcomes = await asyncio.gather(
        *(
            process.jobs.submit("alice", submission)
            for process, submission in zip((first, second) * 5, submissions, strict=True)
        ),
        return_exceptions=True,
    )

    accepted = [o for o in outcomes if isinstance(o, Job)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceededError)]
    assert (len(accepted), len(refused)) == (3, 7), outcomes
    assert {str(e) for e in refused} == {"Jobs limit quota exceeded for user 'alice'"}
    assert await first.repository.count_active("alice") == 3  # the refused left no row
    # Another user has room of their own; a finished job gives alice's room back.
    await second.jobs.submit("bob", _submission())
    await first.jobs.finish(accepted[0].id, JobStatus.SUCCEEDED, "Completed")
    await second.jobs.submit("alice", _submission())
    with pytest.raises(QuotaExceededError):
        await first.jobs.submit("alice", _submission())


@pytest.mark.parametrize("extra_config", [ORGS], ids=["orgs"])
async def test_racing_processes_hold_an_orgs_limit_across_its_users(
    first: Process, second: Process
) -> None:
    admin = AdminRepository(first.sessions)
    await admin.put_org_cluster(OrgCluster("default", "acme", Quota(2), Credits()))
    for user in ("alice", "bob"):
        await admin.put_org_user(OrgUser("acme", user, OrgRole.USER))
    in_acme = replace(_submission(), org_name="acme")

    outcomes = await asyncio.gather(
        *(
            process.jobs.submit(user, in_acme)
            for process in (first, second)
            for user in ("alice", "bob", "alice", "bob")
        ),
        return_exceptions=True,
    )

    accepted = [o for o in outcomes if isinstance(o, Job)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceededError)]
    assert (len(accepted), len(refused)) == (2, 6), outcomes
    assert {str(e) for e in refused} == {"Jobs limit quota exceeded for org 'acme'"}
    assert {job.org_name for job in accepted} == {"acme"}
    await first.jobs.submit("alice", _submission())  # outside the org: no limit


async def test_migration_claims_the_disks_unfinished_jobs_write(database_url: str) -> None:
    """Jobs running when the server is upgraded hold their disks from the first start on."""
    engine = create_engine(database_url)
    jobs = [
        _writing_job("job-running", JobStatus.RUNNING, ("disk-a", False), ("disk-b", True)),
        _writing_job("job-pending", JobStatus.PENDING, ("disk-c", False)),
        _writing_job("job-done", JobStatus.SUCCEEDED, ("disk-d", False)),
        _writing_job("job-reader", JobStatus.RUNNING, ("disk-d", True)),
        # Two writers of one disk, as the race before this migration could admit: the
        # older one holds it.
        _writing_job("job-older", JobStatus.RUNNING, ("disk-e", False)),
        _writing_job("job-newer", JobStatus.RUNNING, ("disk-e", False)),
    ]
    try:
        await upgrade_to(engine, "0011_pg_refresh_writer_xid")
        async with engine.begin() as connection:
            # Created one second apart, in this order (the older of two writers wins).
            rows = [
                _row_values(replace(job, created_at=job.created_at + timedelta(seconds=i)))
                for i, job in enumerate(jobs)
            ]
            await connection.execute(sa.insert(JobRow), rows)
        await upgrade_to(engine, "head")
        assert await _claims(engine) == {
            "disk-a": "job-running",
            "disk-c": "job-pending",
            "disk-e": "job-older",
        }
    finally:
        await engine.dispose()
