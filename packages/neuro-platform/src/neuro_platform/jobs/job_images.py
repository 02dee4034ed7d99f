"""Jobs and the platform's own registry (docs/protocol.md §3.1, §4 `save`, §6).

A job whose image names our registry runs only when its owner may read that image, checked
at submission and again by the registry itself: the engine pulls the image on every start
with a short-lived token of the owner's (a copy the engine has cached proves nothing about
the owner). `job save` pushes with the caller's own credentials to an image the caller may
write, on the job's cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from ..auth.users import UserService
from ..orchestrator import RegistryAuth
from ..permissions import Permission, PermissionDeniedError, PermissionService
from ..permissions.actions import Action
from ..registry.names import ImageReference, image_ref_to_uri
from ..settings import Settings
from .entities import Job
from .job_tokens import JobTokenIssuer
from .submission import SubmissionError

# aiodocker and the original SDK log in to the registry with this user name and a JWT.
REGISTRY_USER = "token"
# Long enough for a big pull (the registry checks the token on every blob request), short
# enough that a token the engine has seen is soon worthless.
PULL_TOKEN_TTL = timedelta(hours=1)


class ImageAccessDeniedError(PermissionDeniedError):
    """403 `{"error": ..., "missing": [...]}`: a CLI shows the sentence."""

    def __init__(self, message: str, missing: Permission) -> None:
        super().__init__([missing], message)


@dataclass(frozen=True)
class SaveTarget:
    image: str  # the docker reference, `<registry host>/[org/]owner/name:tag`
    reference: ImageReference


class JobImages:
    def __init__(
        self,
        settings: Settings,
        permissions: PermissionService,
        users: UserService,
        tokens: JobTokenIssuer,
    ) -> None:
        self._settings = settings
        self._permissions = permissions
        self._users = users
        self._tokens = tokens
        # Saves to one image, one at a time: the engine has a single local tag for it, which
        # a second commit would move under the first one's push.
        self._saving: dict[str, tuple[asyncio.Lock, int]] = {}

    def reference(self, image: str) -> ImageReference | None:
        """The image of our registry that `image` names, or None for any other image."""
        try:
            return image_ref_to_uri(image, self._settings)
        except ValueError as e:
            raise SubmissionError(str(e)) from e

    async def require_runnable(self, owner: str, image: str) -> None:
        """Refuses (403) a job of `owner` from an image of our registry they cannot read."""
        reference = self.reference(image)
        if reference is None:
            return
        await self._require(owner, reference, Action.READ, f"run a job from {image}")

    async def pull_auth(self, job: Job) -> RegistryAuth | None:
        """The credentials the engine pulls the job's image with; None for other registries."""
        if self.reference(job.spec.container.image) is None:
            return None
        account = await self._users.get(job.owner)
        token = self._tokens.registry_token(
            job, None if account is None else account.account_id, PULL_TOKEN_TTL
        )
        return RegistryAuth(REGISTRY_USER, token)

    async def save_target(self, user: str, job: Job, body: object) -> SaveTarget:
        """The image `job save` may push to: 400 unless a tagged image of the job's cluster's
        registry, 403 unless `user` may write it."""
        container = body.get("container") if isinstance(body, dict) else None
        image = container.get("image") if isinstance(container, dict) else None
        if not isinstance(image, str) or not image:
            raise ValueError('The body must be {"container": {"image": "<registry image>"}}')
        reference = self.reference(image)
        if reference is None or reference.cluster != job.cluster_name:
            raise ValueError(
                f"{image} is not in the registry of cluster {job.cluster_name!r}: "
                "save to image:NAME:TAG"
            )
        if reference.digest is not None:
            raise ValueError(f"Cannot save to a digest ({image}): name a tag")
        if reference.tag is None:
            image = f"{image}:latest"
        await self._require(user, reference, Action.WRITE, f"save to {image}")
        return SaveTarget(image, reference)

    @asynccontextmanager
    async def saving(self, image: str) -> AsyncIterator[None]:
        lock, users = self._saving.get(image, (asyncio.Lock(), 0))
        self._saving[image] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._saving[image]
            if users == 1:
                del self._saving[image]
            else:
                self._saving[image] = (lock, users - 1)

    async def _require(
        self, user: str, reference: ImageReference, action: Action, doing: str
    ) -> None:
        wanted = Permission.of(reference.uri, action)
        if await self._permissions.check(user, [wanted]):
            raise ImageAccessDeniedError(
                f"{user} may not {doing}: it needs {action} on {reference.uri}", wanted
            )
