"""The scheduler: a background task that turns job records into containers and back.

All of its state is in the jobs table, so it can stop at any point and resume: at start it
reads the jobs that need attention into a `SchedulingQueue`, which then follows every change
committed to the table; each pass ("tick") reconciles those jobs with what the orchestrator
reports, reading nothing from the database. A pass:

1. collects finished jobs that still have a container (killed, ended, failed to start):
   stop it, archive its output, remove it, in the background (a stop may take the whole
   grace period; placement does not wait for it);
2. checks running jobs: an exited container ends the job or restarts it (restart policy);
   a job past its life span is cancelled (LifeSpanEnded); a vanished container fails the job;
   a job whose owner or org has no credits left is cancelled (QuotaExhausted, `quota.py`);
3. places waiting jobs (pending, suspended) in priority order, then submission order, while
   its cluster's node has room: a job over its owner's or org's quota waits (QuotaExhausted,
   the rule is `quota.py`'s), a job waiting longer than its `schedule_timeout` fails, and a
   non-preemptible job that does not fit suspends preemptible ones to make room (they resume
   when room comes back). Once one does not fit, the non-preemptible jobs behind it wait for
   room (Scheduling) and are not looked at again until something about them changes
   (`SchedulingQueue.park`): a pass costs what changed, not the backlog. Placed jobs start
   in the background: a pass does not wait for the engine, so a job submitted while others
   are starting is placed at once instead of a whole start later.

A pass runs every `poll_interval_s`, and at once when the API, a container exit or the end of
a start wakes it. Its walk of the waiting jobs yields to the event loop every
`WALK_SLICE` jobs, so a long queue delays no request by more than a slice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

from ..orchestrator import (
    BindMount,
    ContainerNotFoundError,
    ContainerPhase,
    ContainerSpec,
    ContainerState,
    JobReason,
    Orchestrator,
    OrchestratorError,
)
from .capacity import ClusterNodes, NodeResources
from .engine_wait import EngineWait, schedule_timed_out
from .entities import Job, JobStatus, RestartPolicy, StatusItem
from .job_images import JobImages
from .job_mounts import JobMounts
from .job_networks import JobNetworks
from .job_tokens import JobTokenIssuer
from .log_archiver import LogArchivers
from .queries import JobQuery
from .quota import JobQuotas, QuotaLedger
from .repository import JobRepository
from .scheduling_queue import SchedulingQueue
from .submission import PASSED_CONFIG_ENV

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0
ETC_HOSTS = PurePosixPath("/etc/hosts")
WALK_SLICE = 256  # waiting jobs looked at between two turns of the event loop
LOAD_RETRY_S = 1.0
NOTES_PER_WRITE = 500  # jobs per transaction noting why they wait (short transactions)


class Scheduler:
    def __init__(
        self,
        *,
        repository: JobRepository,
        orchestrator: Orchestrator,
        archivers: LogArchivers,
        tokens: JobTokenIssuer,
        nodes: ClusterNodes,
        quotas: JobQuotas,
        poll_interval_s: float,
        life_span_minute_s: float,
        networks: JobNetworks,
        mounts: JobMounts,
        images: JobImages,
    ) -> None:
        self._mounts = mounts
        self._images = images
        self._repository = repository
        self._queue = SchedulingQueue(repository)  # subscribes now, before the API runs
        self._orchestrator = orchestrator
        self._archivers = archivers
        self._tokens = tokens
        self._nodes = nodes
        self._quotas = quotas
        self._poll_interval_s = poll_interval_s
        self._life_span_minute = timedelta(seconds=life_span_minute_s)
        self._networks = networks
        self._wake = asyncio.Event()
        self._watchers: dict[str, asyncio.Task[None]] = {}
        # Collections in flight: stopping a container may take its whole grace period, and
        # no new job should wait for that to start.
        self._collecting: dict[str, asyncio.Task[None]] = {}
        # Starts in flight, by job: their jobs hold node resources and are not placed again.
        self._starting: dict[str, tuple[Job, asyncio.Task[None]]] = {}

    @property
    def nodes(self) -> ClusterNodes:
        return self._nodes

    async def free_resources(self, cluster: str) -> NodeResources:
        if self._queue.loaded:
            running = self._queue.running()
        else:  # the first moments after start
            running = await self._repository.find(JobQuery(statuses=[JobStatus.RUNNING]))
        return self._nodes.of(cluster).minus(
            j.spec.container.resources for j in running if j.cluster_name == cluster
        )

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._queue.loaded:
            try:
                await self._queue.load()
            except Exception:  # the database may not answer yet
                log.exception("reading the jobs to schedule failed")
                await asyncio.sleep(LOAD_RETRY_S)
        try:
            await self._adopt()
        except Exception:  # the engine may be down: passes retry everything else
            log.exception("adopting the running containers failed")
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:  # one bad pass must not stop scheduling for good
                log.exception("scheduler pass failed")
            try:
                async with asyncio.timeout(self._poll_interval_s):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def close(self) -> None:
        for task in self._watchers.values():
            task.cancel()
        await asyncio.gather(*self._watchers.values(), return_exceptions=True)
        # Let starts and collections finish: a start cut short leaves a container that the
        # next run adopts anyway, but a collection cut short could archive output twice.
        await asyncio.gather(*(task for _, task in self._starting.values()), return_exceptions=True)
        await asyncio.gather(*self._collecting.values(), return_exceptions=True)
        await self._archivers.close()

    async def tick(self) -> None:
        await self._queue.refresh()
        now = datetime.now(UTC)
        for job in self._queue.collectable():
            self._collect_soon(job)
        still_running = [
            job
            for job in await asyncio.gather(
                *(self._check_running(j, now) for j in self._queue.running())
            )
            if job is not None
        ]
        starting = [job for job, _ in self._starting.values()]
        ledger = self._quotas.ledger((*still_running, *starting))
        still_running = [job for job in still_running if not await self._spent(job, ledger)]
        await self._place(still_running, now, ledger)
        # After placement, which it must not delay: sharing changes take a pass to apply.
        starting = [job for job, _ in self._starting.values()]
        await self._networks.reconcile([*still_running, *starting])

    # -- running jobs --------------------------------------------------------------------

    async def _check_running(self, job: Job, now: datetime) -> Job | None:
        """Returns the job when it still holds node resources after this check."""
        # A job whose watcher still waits has a live container (the wait ends, and wakes a
        # pass, when it exits or vanishes): asking the engine again would only cost time.
        if job.id not in self._watchers:
            try:
                state = await self._orchestrator.state(job.id)
            except ContainerNotFoundError:
                await self._end(job, JobStatus.FAILED, JobReason.NOT_FOUND, "The container is gone")
                return None
            if state.is_finished:
                return await self._on_exit(job, state)
        limit = job.spec.max_run_time_minutes
        if limit is not None and job.run_time(now) >= limit * self._life_span_minute:
            await self._end(
                job,
                JobStatus.CANCELLED,
                JobReason.LIFE_SPAN_ENDED,
                f"The job ran out of its life span of {limit} minute(s)",
            )
            return None
        self._watch(job.id)
        self._archivers.ensure(job.id)  # e.g. adopted after a restart: resume archiving
        return job

    async def _spent(self, job: Job, ledger: QuotaLedger) -> bool:
        """Cancels a running job whose owner or org has no credits left (as the original
        platform does); True when it did."""
        account = await ledger.out_of_credits(job)
        if account is None:
            return False
        await self._end(
            job, JobStatus.CANCELLED, JobReason.QUOTA_EXHAUSTED, f"No credits left for {account}"
        )
        ledger.release(job)
        return True

    async def _on_exit(self, job: Job, state: ContainerState) -> Job | None:
        if state.reason is JobReason.PREEMPTED and job.spec.scheduler_enabled:
            # The engine preempted it (Slurm): suspended, it runs again when there is room.
            await self._suspend(job, state.message or "Preempted by the engine")
            return None
        policy = job.spec.restart_policy
        if policy is RestartPolicy.ALWAYS or (
            policy is RestartPolicy.ON_FAILURE and state.exit_code != 0
        ):
            await self._archivers.finish(job.id)
            await self._orchestrator.remove(job.id)
            restarted = await self._repository.update(
                job.id, lambda j: j if j.is_finished else replace(j, restarts=j.restarts + 1)
            )
            if restarted.is_finished:
                return None
            await self._start(restarted)
            return restarted
        status = JobStatus.SUCCEEDED if state.exit_code == 0 else JobStatus.FAILED
        await self._end(
            job, status, state.reason or JobReason.ERROR, state.message, state.exit_code
        )
        return None

    async def _end(
        self,
        job: Job,
        status: JobStatus,
        reason: str,
        description: str | None,
        exit_code: int | None = None,
    ) -> None:
        now = datetime.now(UTC)
        item = StatusItem(status, now, reason=reason, description=description, exit_code=exit_code)
        ended = await self._repository.update(
            job.id, lambda j: j if j.is_finished else j.with_status(item)
        )
        self._collect_soon(ended)

    def _collect_soon(self, job: Job) -> None:
        """Collects the job in the background (once at a time); a later pass retries a
        collection that failed, since the job stays `materialized` until it succeeds."""
        if not job.materialized or job.id in self._collecting:
            return
        task = asyncio.create_task(self._collect(job), name=f"collect-{job.id}")
        self._collecting[job.id] = task
        task.add_done_callback(lambda done: self._collected(job.id, done))

    def _collected(self, job_id: str, task: asyncio.Task[None]) -> None:
        self._collecting.pop(job_id, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("collecting %s failed", job_id, exc_info=error)

    async def _collect(self, job: Job) -> None:
        """Stops and removes a finished (or suspended) job's container, keeping its output."""
        if not job.materialized:
            return
        self._networks.forget(job)
        try:
            await self._orchestrator.stop(job.id, timeout_s=STOP_GRACE_S)
        except ContainerNotFoundError:
            pass
        except OrchestratorError:
            log.exception("stopping the container of %s failed", job.id)
        await self._archivers.finish(job.id)
        await self._orchestrator.remove(job.id)
        self._mounts.release(job.id)
        await self._mounts.end_bucket_credentials(job.id)
        await self._repository.update(job.id, lambda j: replace(j, materialized=False))

    def _watch(self, job_id: str) -> None:
        """Wakes the scheduler the moment the job's container exits, not a poll later."""
        if job_id in self._watchers:
            return

        async def watch() -> None:
            with contextlib.suppress(OrchestratorError):
                await self._orchestrator.wait(job_id)
            # Gone before the wake: the pass it starts must ask the engine about this job.
            forget(task)
            self.wake()

        def forget(task: asyncio.Task[None]) -> None:
            if self._watchers.get(job_id) is task:  # not a newer watcher of a restarted job
                del self._watchers[job_id]

        task = asyncio.create_task(watch())
        self._watchers[job_id] = task
        task.add_done_callback(forget)  # also when the wait fails some other way

    # -- placement -----------------------------------------------------------------------

    async def _place(self, running: list[Job], now: datetime, ledger: QuotaLedger) -> None:
        starting = [job for job, _ in self._starting.values()]
        # Each cluster's engine has its own room: a job counts, waits and preempts only there.
        free = {name: node for name, node in self._nodes.by_cluster.items()}
        for held in (*running, *starting):
            cluster = held.cluster_name
            free[cluster] = free.get(cluster, self._nodes.of(cluster)).minus(
                [held.spec.container.resources]
            )
        notes: dict[str, list[str]] = {}  # why jobs wait, by reason: one write per reason
        seen = 0
        self._queue.unpark_due(now)
        for cluster in self._queue.clusters():
            node = self._nodes.of(cluster)
            room = free.get(cluster, node)
            walk = self._queue.walk(cluster, skip=self._starting)
            for job in walk:
                seen += 1
                if seen % WALK_SLICE == 0:
                    await asyncio.sleep(0)  # let requests in: the queue may be long
                if timed_out := schedule_timed_out(job, now):
                    await self._end(job, JobStatus.FAILED, timed_out.reason, timed_out.message)
                    continue
                resources = job.spec.container.resources
                if not node.fits(resources):  # the configuration shrank
                    await self._end(
                        job,
                        JobStatus.FAILED,
                        JobReason.CLUSTER_SCALE_UP_FAILED,
                        "The job needs more resources than the node has",
                    )
                    continue
                if walk.is_full and not job.spec.scheduler_enabled:
                    # Behind a job that waits for room: it waits for room too, whatever
                    # its quota, and needs no look until something changes.
                    if not _note_waiting(notes, job, JobReason.SCHEDULING):
                        self._queue.park(job)
                    continue
                if not await ledger.admits(job):
                    _note_waiting(notes, job, JobReason.QUOTA_EXHAUSTED)
                    continue
                if not room.fits(resources) and not job.spec.scheduler_enabled:
                    neighbours = [j for j in running if j.cluster_name == cluster]
                    victims = _preemption_victims(job, neighbours, room)
                    if victims:
                        await asyncio.gather(*(self._suspend(v) for v in victims))
                        for victim in victims:
                            running.remove(victim)
                            ledger.release(victim)
                        room = room.plus(v.spec.container.resources for v in victims)
                if room.fits(resources):
                    room = room.minus([resources])
                    ledger.take(job)
                    self._start_soon(job)
                elif not job.spec.scheduler_enabled:
                    walk.full()  # it keeps the later (lower) non-preemptible jobs waiting
                    _note_waiting(notes, job, JobReason.SCHEDULING)
            free[cluster] = room
        for reason, job_ids in notes.items():
            await self._noted_waiting(job_ids, reason)

    async def _noted_waiting(self, job_ids: list[str], reason: str) -> None:
        item = StatusItem(JobStatus.PENDING, datetime.now(UTC), reason=reason)
        for first in range(0, len(job_ids), NOTES_PER_WRITE):
            await self._repository.update_many(
                job_ids[first : first + NOTES_PER_WRITE],
                lambda j: j.with_status(item) if j.status is JobStatus.PENDING else j,
            )

    async def _suspend(
        self, job: Job, description: str = "Suspended to make room for a non-preemptible job"
    ) -> None:
        item = StatusItem(
            JobStatus.SUSPENDED,
            datetime.now(UTC),
            reason=JobReason.PREEMPTED,
            description=description,
        )
        suspended = await self._repository.update(
            job.id, lambda j: j.with_status(item) if j.status is JobStatus.RUNNING else j
        )
        await self._collect(suspended)

    def _start_soon(self, job: Job) -> None:
        task = asyncio.create_task(self._start(job), name=f"start-{job.id}")
        self._starting[job.id] = (job, task)
        task.add_done_callback(lambda done: self._started(job.id, done))

    def _started(self, job_id: str, task: asyncio.Task[None]) -> None:
        self._starting.pop(job_id, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("starting %s failed", job_id, exc_info=error)
        # The job now runs or has ended: either way the next pass sees it as it is (a failed
        # start frees room for a waiting job).
        self.wake()

    async def _start(self, job: Job) -> None:
        marked = await self._repository.update(
            job.id, lambda j: j if j.is_finished else replace(j, materialized=True)
        )
        if marked.is_finished:
            return
        try:
            spec = await self._with_mounts(self._container_spec(marked), marked)
            spec = replace(spec, registry_auth=await self._images.pull_auth(marked))
            async with self._networks.starting(marked):
                state = await self._orchestrator.start(spec, EngineWait(self._repository, marked))
        except OrchestratorError as error:
            await self._end(marked, JobStatus.FAILED, error.reason, error.message)
            return
        finally:
            self._mounts.unstage(marked.id)
        if state.phase is ContainerPhase.EXITED and state.reason is JobReason.CONTAINER_CANNOT_RUN:
            await self._end(marked, JobStatus.FAILED, state.reason, state.message, state.exit_code)
            return
        # Named before it is RUNNING: whoever sees it running can reach it by name.
        self._name(marked, state)
        await self._archivers.begin(job.id)  # before RUNNING: a log stream then finds the run
        item = StatusItem(JobStatus.RUNNING, state.started_at or datetime.now(UTC))
        await self._repository.update(job.id, lambda j: j if j.is_finished else j.with_status(item))
        self._watch(job.id)

    def _name(self, job: Job, state: ContainerState) -> None:
        self._networks.named(job, state)

    def _container_spec(self, job: Job) -> ContainerSpec:
        c = job.spec.container
        env = dict(c.env)
        if job.spec.pass_config:
            env[PASSED_CONFIG_ENV] = self._tokens.passed_config(job)
        return ContainerSpec(
            job_id=job.id,
            owner=job.owner,
            image=c.image,
            cpu=c.resources.cpu,
            memory=c.resources.memory,
            entrypoint=tuple(shlex.split(c.entrypoint)) if c.entrypoint else None,
            command=tuple(shlex.split(c.command)) if c.command else None,
            env=env,
            working_dir=c.working_dir,
            shm=c.resources.shm,
            gpu=c.resources.gpu,
            gpu_model=c.resources.gpu_model,
            tty=c.tty,
            privileged=job.spec.privileged,
            bind_mounts=(BindMount(self._networks.hosts_path(job), ETC_HOSTS, read_only=True),),
            hostname=job.id,
            network=self._networks.network(job),
            preemptible=job.spec.scheduler_enabled,
            priority_rank=job.spec.priority.rank,
            time_limit_s=self._life_span_left_s(job),
        )

    def _life_span_left_s(self, job: Job) -> float | None:
        limit = job.spec.max_run_time_minutes
        if limit is None:
            return None
        left = limit * self._life_span_minute - job.run_time(datetime.now(UTC))
        return max(0.0, left.total_seconds())

    async def _with_mounts(self, spec: ContainerSpec, job: Job) -> ContainerSpec:
        """Adds storage folders, secrets and disks, resolved now (see job_mounts.py): a secret
        removed since submission or a folder that became a symlink fails the start."""
        prepared = await self._mounts.prepare(job)
        return replace(
            spec,
            env={**spec.env, **prepared.env},
            bind_mounts=(*spec.bind_mounts, *prepared.bind_mounts),
            groups=prepared.groups,
        )

    async def _adopt(self) -> None:
        """Containers of this instance whose job is gone from the database (or never got
        recorded as started) are removed; every other container is adopted by the passes,
        and the running ones get their host names back."""
        queue = {job.id: job for job in self._queue.all()}
        self._mounts.release_all_except({j.id for j in queue.values() if j.materialized})
        running = []
        for state in await self._orchestrator.list_managed():
            job = queue.get(state.job_id)
            if job is None or not job.materialized:
                await self._orchestrator.remove(state.job_id)
            elif state.address is not None and not job.is_finished:
                running.append((job, state))
        await self._networks.adopt(running)


def _note_waiting(notes: dict[str, list[str]], job: Job, reason: str) -> bool:
    """Marks a pending job as waiting for `reason`, once: False when there is nothing to
    write (it is marked already, or suspended)."""
    if job.status is not JobStatus.PENDING or job.current.reason == reason:
        return False
    notes.setdefault(reason, []).append(job.id)
    return True


def _preemption_victims(job: Job, running: Sequence[Job], free: NodeResources) -> list[Job]:
    """Preemptible running jobs to suspend, lowest priority and newest first, or [] when
    suspending all of them would still not make room."""
    candidates = sorted(
        (j for j in running if j.spec.scheduler_enabled),
        key=lambda j: (j.spec.priority.rank, -j.created_at.timestamp()),
    )
    victims: list[Job] = []
    room = free
    for candidate in candidates:
        if room.fits(job.spec.container.resources):
            break
        victims.append(candidate)
        room = room.plus([candidate.spec.container.resources])
    return victims if room.fits(job.spec.container.resources) else []
