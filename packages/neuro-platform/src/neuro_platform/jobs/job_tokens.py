"""Tokens handed to jobs started with `pass_config` (docs/protocol.md §2.5), valid only while the
job is.

A job token acts as the job's owner (the SDK inside the job calls the API as them) but carries
the job id in a claim; `JobScopedAuthenticator` refuses it once that job has finished, so a
token copied out of a job stops working when the job ends.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

from yarl import URL

from ..auth.account_changes import AccountChanges
from ..auth.identity import Authenticator, NotAuthenticatedError, RoleTokens
from ..auth.tokens import (
    ACCOUNT_CLAIM,
    IDENTITY_CLAIM,
    JOB_CLAIM,
    USER_CLAIM,
    TokenCodec,
    VerifiedToken,
)
from ..auth.users import UserService
from .entities import Job
from .queries import JobNotFoundError
from .repository import JobRepository

# A job may run for weeks; its token ends earlier only when the job does.
JOB_TOKEN_TTL = timedelta(days=365)


class JobTokenIssuer:
    def __init__(self, codec: TokenCodec, api_url: URL) -> None:
        self._codec = codec
        self._api_url = api_url

    def token(self, job: Job) -> str:
        return self._encode(self._claims(job, JOB_TOKEN_TTL))

    def registry_token(self, job: Job, account_id: str | None, ttl: timedelta) -> str:
        """The owner's token the engine pulls the job's image with (`jobs/job_images.py`):
        short-lived, and bound to the owner's account as well as to the job, so the
        registry accepts it whichever authenticator it asks."""
        claims = self._claims(job, ttl)
        if account_id is not None:
            claims[ACCOUNT_CLAIM] = account_id
        return self._encode(claims)

    def _claims(self, job: Job, ttl: timedelta) -> dict[str, object]:
        now = datetime.now(UTC)
        return {
            "sub": job.owner,
            IDENTITY_CLAIM: job.owner,
            USER_CLAIM: job.owner,
            JOB_CLAIM: job.id,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }

    def _encode(self, claims: dict[str, object]) -> str:
        return self._codec.sign(claims)

    def passed_config(self, job: Job) -> str:
        """The value of NEURO_PASSED_CONFIG: base64 of the JSON the SDK logs in with."""
        config = {
            "token": self.token(job),
            "cluster": job.cluster_name,
            "org_name": job.org_name,
            "url": str(self._api_url),
        }
        return base64.b64encode(json.dumps(config).encode()).decode()


class JobScopedAuthenticator(Authenticator):
    def __init__(
        self,
        codec: TokenCodec,
        users: UserService,
        jobs: JobRepository,
        role_tokens: RoleTokens | None = None,
        account_changes: AccountChanges | None = None,
    ) -> None:
        super().__init__(codec, users, role_tokens, account_changes)
        self._jobs = jobs

    def _accepts_without_account(self, verified: VerifiedToken) -> bool:
        # A job token names its job instead of the account: it works only while that job
        # runs (checked below), and removing the account ends all of its jobs.
        return verified.job_id is not None

    async def _check_bound(self, verified: VerifiedToken) -> None:
        # Read from the verified claims: the token is not decoded again per request.
        if verified.job_id is not None:
            try:
                job = await self._jobs.get(verified.job_id)
            except JobNotFoundError:
                raise NotAuthenticatedError("the token's job does not exist") from None
            if job.is_finished:
                raise NotAuthenticatedError("the token's job has finished")
