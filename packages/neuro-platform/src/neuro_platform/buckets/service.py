"""Bucket rules (docs/protocol.md §8.4): who may create, see, share, remove which bucket, and
which credentials the object store gets for whom.

Permissions are on `blob://<cluster>/[<org>/]<owner>/<name or id>`; a grant on either form of
a named bucket counts. Credentials are identities in the object store whose policy allows the
listed buckets only, read-only where asked or where the caller may only read. Temporary ones
expire (`[buckets] tmp_credentials_ttl_s`): `sweep_expired` removes their identities.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from yarl import URL

from ..errors import NotFoundError, UnprocessableError
from ..permissions import Permission, PermissionDeniedError, PermissionService
from ..permissions.actions import Action
from ..permissions.uris import owned_uri, parse_uri
from ..secrets.cipher import SecretCipher
from .endpoints import EndpointPolicy
from .entities import Bucket, StoredCredentials
from .repository import BucketRepository
from .seaweed import S3Access
from .store import ObjectStore, check_external, identity_name

# Our buckets speak S3; SDK 22.x knows "minio" as "an S3 at `endpoint_url`".
PROVIDER = "minio"
EXTERNAL_PROVIDERS = frozenset({"aws", "minio", "open_stack"})
# S3 allows presigned URLs for up to 7 days.
MAX_SIGNED_URL_S = 7 * 24 * 3600
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ID = re.compile(r"^bucket-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CREDENTIALS_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_.-]{0,62})$")


class BucketNotFoundError(NotFoundError):
    pass


class BucketsDisabledError(UnprocessableError):
    """`[buckets] enabled = false`: 422 `{"code": "disabled"}`, as the original answers a
    cluster without buckets (docs/protocol.md §8.4)."""

    code = "disabled"


def validate_bucket_name(name: str) -> None:
    """S3's rules (3-63 of lowercase letters, digits, '.', '-'; letter or digit at both ends;
    no '..'; not an IP address), and not the form of a bucket id."""
    if (
        not _NAME.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _is_ip(name)
        or name.startswith(("xn--", "sthree-"))
        or name.endswith(("-s3alias", "--ol-s3"))
    ):
        raise ValueError(
            f"Invalid bucket name {name!r}: use 3-63 lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (S3 bucket naming rules)"
        )
    if _ID.match(name):
        raise ValueError(f"Invalid bucket name {name!r}: it has the form of a bucket id")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BucketCredentials:
    bucket_id: str
    provider: str
    read_only: bool
    credentials: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "bucket_id": self.bucket_id,
            "provider": self.provider,
            "read_only": self.read_only,
            "credentials": self.credentials,
        }


@dataclass(frozen=True)
class PersistentCredentials:
    id: str
    name: str | None
    owner: str
    read_only: bool
    credentials: tuple[BucketCredentials, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "read_only": self.read_only,
            "credentials": [c.to_json() for c in self.credentials],
        }


class BucketsService:
    def __init__(
        self,
        repository: BucketRepository,
        store: ObjectStore | None,
        cipher: SecretCipher,
        permissions: PermissionService,
        *,
        public_endpoint: str | None,
        tmp_ttl_s: int,
        orgs_of: dict[str, tuple[str | None, ...]],
        import_endpoints: EndpointPolicy | None = None,
    ) -> None:
        self._repository = repository
        self._store = store
        self._cipher = cipher
        self._permissions = permissions
        self._public_endpoint = public_endpoint
        self._tmp_ttl = timedelta(seconds=tmp_ttl_s)
        self._orgs_of = orgs_of
        self._import_endpoints = import_endpoints or EndpointPolicy(())
        # Set when temporary credentials are made: the sweep (setup.py) sleeps until the
        # first expiry, and a new one may expire sooner than what it waits for.
        self._credentials_added = asyncio.Event()

    def store_running(self) -> bool:
        return self._store is not None and self._store.running()

    def _require_store(self) -> ObjectStore:
        if self._store is None:
            raise BucketsDisabledError("Buckets are disabled on this server")
        return self._store

    async def _client_access(self) -> S3Access:
        """The endpoint as clients reach it, with admin credentials (for presigning)."""
        access = await self._require_store().endpoint()
        if self._public_endpoint is None:
            return access
        return S3Access(
            URL(self._public_endpoint),
            access.region,
            access.access_key_id,
            access.secret_access_key,
        )

    # Permissions

    async def _can(self, user: str, bucket: Bucket, action: Action) -> bool:
        grants = await self._permissions.grant_set(user, {"blob"})
        return any(grants.allows(parse_uri(bucket.uri(by_id)), action) for by_id in (False, True))

    async def _require(self, user: str, bucket: Bucket, action: Action) -> None:
        if not await self._can(user, bucket, action):
            raise PermissionDeniedError([Permission.of(bucket.uri(), action)])

    # Buckets

    async def create(self, user: str, cluster: str, name: str | None, org: str | None) -> Bucket:
        store = self._require_store()
        if name is not None:
            validate_bucket_name(name)
        await self._permissions.require(
            user, [Permission.of(str(owned_uri("blob", cluster, user, org)), Action.WRITE)]
        )
        bucket_id = f"bucket-{uuid.uuid4()}"
        bucket = Bucket(
            id=bucket_id,
            cluster_name=cluster,
            org_name=org,
            owner=user,
            name=name,
            provider=PROVIDER,
            provider_bucket=bucket_id,  # unique, and valid as an S3 name
            imported=False,
            public=False,
            created_at=datetime.now(UTC),
        )
        await self._repository.add(bucket, None)  # a taken name fails here, before the store
        try:
            await store.create_bucket(bucket.provider_bucket)
        except BaseException:
            await self._repository.delete(bucket.id)
            raise
        return bucket

    async def import_external(
        self,
        user: str,
        cluster: str,
        *,
        name: str | None,
        org: str | None,
        provider: str,
        provider_bucket: str,
        credentials: dict[str, str],
    ) -> Bucket:
        self._require_store()  # an import needs no store, but a disabled service is off
        if provider not in EXTERNAL_PROVIDERS:
            known = ", ".join(sorted(EXTERNAL_PROVIDERS))
            raise ValueError(f"Unsupported provider {provider!r}: use one of {known}")
        if name is not None:
            validate_bucket_name(name)
        await self._permissions.require(
            user, [Permission.of(str(owned_uri("blob", cluster, user, org)), Action.WRITE)]
        )
        external = _external_access(credentials)
        endpoint = await self._import_endpoints.resolve(external.endpoint_url)
        await check_external(external, provider_bucket, endpoint)
        bucket = Bucket(
            id=f"bucket-{uuid.uuid4()}",
            cluster_name=cluster,
            org_name=org,
            owner=user,
            name=name,
            provider=provider,
            provider_bucket=provider_bucket,
            imported=True,
            public=False,
            created_at=datetime.now(UTC),
        )
        stored = {
            "endpoint_url": str(external.endpoint_url),
            "region_name": external.region,
            "access_key_id": external.access_key_id,
            "secret_access_key": external.secret_access_key,
        }
        await self._repository.add(bucket, self._cipher.encrypt(json.dumps(stored).encode()))
        return bucket

    async def readable(self, user: str, cluster: str) -> list[Bucket]:
        grants = await self._permissions.grant_set(user, {"blob"})
        return [
            b
            for b in await self._repository.in_cluster(cluster)
            if any(grants.allows(parse_uri(b.uri(i)), Action.READ) for i in (False, True))
        ]

    async def get(self, user: str, cluster: str, id_or_name: str, owner: str | None) -> Bucket:
        bucket = await self._lookup(cluster, id_or_name, owner or user)
        await self._require(user, bucket, Action.READ)
        return bucket

    async def _lookup(self, cluster: str, id_or_name: str, owner: str) -> Bucket:
        bucket = await self._repository.get(id_or_name) if _ID.match(id_or_name) else None
        if bucket is None or bucket.cluster_name != cluster:
            found = await self._repository.by_name(cluster, owner, id_or_name)
            bucket = found[0] if found else None
        if bucket is None:
            raise BucketNotFoundError(f"Bucket {id_or_name!r} not found")
        return bucket

    async def find_by_path(self, user: str, cluster: str, path: str) -> Bucket:
        """`[<org>/]<owner>/<name or id>[/<key>...]`: the bucket that path is in."""
        parts = [p for p in path.split("/") if p]
        orgs = [o for o in self._orgs_of.get(cluster, ()) if o is not None]
        candidates: list[tuple[str, str]] = []
        for skip in [0, 1] if parts and parts[0] in orgs else [0]:
            rest = parts[skip:]
            if len(rest) >= 2:
                candidates.append((rest[0], rest[1]))
            if len(rest) >= 4 and rest[1] == "service-accounts":
                candidates.append(("/".join(rest[:3]), rest[3]))
        for owner, id_or_name in candidates:
            try:
                bucket = await self._lookup(cluster, id_or_name, owner)
            except BucketNotFoundError:
                continue
            if bucket.owner == owner:
                await self._require(user, bucket, Action.READ)
                return bucket
        raise BucketNotFoundError(f"No bucket at {path!r}")

    async def remove(self, user: str, cluster: str, id_or_name: str, owner: str | None) -> None:
        bucket = await self._lookup(cluster, id_or_name, owner or user)
        await self._require(user, bucket, Action.WRITE)
        if not bucket.imported:  # an import is forgotten; the external bucket stays
            await self._require_store().delete_bucket(bucket.provider_bucket)
        for credentials in await self._repository.with_bucket(bucket.id):
            rest = [b for b in credentials.bucket_ids if b != bucket.id]
            if not credentials.persistent:
                await self._drop_credentials(credentials)
                continue
            store = await self._provider_buckets(rest)
            await self._require_store().set_identity_buckets(
                credentials.store_user, store, credentials.read_only
            )
            await self._repository.set_credential_buckets(credentials.id, rest)
        await self._repository.delete(bucket.id)

    async def set_public(
        self, user: str, cluster: str, id_or_name: str, owner: str | None, public: bool
    ) -> Bucket:
        bucket = await self._lookup(cluster, id_or_name, owner or user)
        await self._require(user, bucket, Action.WRITE)
        if bucket.imported:
            raise ValueError("Public access of an imported bucket is set at its provider")
        await self._require_store().set_public(bucket.provider_bucket, public)
        await self._repository.set_public(bucket.id, public)
        return await self._lookup(cluster, bucket.id, bucket.owner)

    async def sign_blob_url(
        self, user: str, cluster: str, id_or_name: str, owner: str | None, key: str, expires_s: int
    ) -> str:
        if not 1 <= expires_s <= MAX_SIGNED_URL_S:
            raise ValueError(f"expires_in_sec must be between 1 and {MAX_SIGNED_URL_S}")
        bucket = await self._lookup(cluster, id_or_name, owner or user)
        await self._require(user, bucket, Action.READ)
        access = await self._external(bucket) if bucket.imported else await self._client_access()
        return await self._require_store().sign_get(access, bucket.provider_bucket, key, expires_s)

    # Credentials

    async def tmp_credentials(
        self, user: str, cluster: str, id_or_name: str, owner: str | None
    ) -> BucketCredentials:
        bucket = await self._lookup(cluster, id_or_name, owner or user)
        await self._require(user, bucket, Action.READ)
        writable = await self._can(user, bucket, Action.WRITE)
        if bucket.imported:
            # The user's own keys, unscoped: only for those who may write anyway.
            if not writable:
                raise PermissionDeniedError(
                    [Permission.of(bucket.uri(), Action.WRITE)],
                    "Credentials of an imported bucket are its owner's: they need write",
                )
            access = await self._external(bucket)
            return BucketCredentials(
                bucket.id, bucket.provider, False, _s3_fields(access, bucket.provider_bucket)
            )
        now = datetime.now(UTC)
        read_only = not writable
        # Reused while more than half its life is left: `blob` commands ask before each use.
        stored = await self._repository.reusable_tmp(
            user, bucket.id, read_only, now + self._tmp_ttl / 2
        )
        if stored is None:
            stored = await self._new_credentials(
                user, cluster, None, [bucket], read_only, now + self._tmp_ttl
            )
        return await self._answer(stored, bucket)

    async def create_persistent(
        self, user: str, cluster: str, name: str | None, bucket_ids: list[str], read_only: bool
    ) -> PersistentCredentials:
        if name is not None and not _CREDENTIALS_NAME.match(name):
            raise ValueError(f"Invalid credentials name {name!r}")
        if not bucket_ids:
            raise ValueError("bucket_ids must name at least one bucket")
        buckets = []
        for bucket_id in dict.fromkeys(bucket_ids):
            bucket = await self._repository.get(bucket_id)
            if bucket is None or bucket.cluster_name != cluster:
                raise BucketNotFoundError(f"Bucket {bucket_id!r} not found")
            await self._require(user, bucket, Action.READ if read_only else Action.WRITE)
            if bucket.imported:
                raise ValueError("Persistent credentials cover the platform's own buckets only")
            buckets.append(bucket)
        stored = await self._new_credentials(user, cluster, name, buckets, read_only, None)
        return await self._persistent(stored)

    async def list_persistent(self, user: str, cluster: str) -> list[PersistentCredentials]:
        return [
            await self._persistent(c) for c in await self._repository.credentials(cluster, user)
        ]

    async def get_persistent(
        self, user: str, cluster: str, id_or_name: str
    ) -> PersistentCredentials:
        return await self._persistent(await self._find_persistent(user, cluster, id_or_name))

    async def remove_persistent(self, user: str, cluster: str, id_or_name: str) -> None:
        await self._drop_credentials(await self._find_persistent(user, cluster, id_or_name))

    # Jobs: a `secret_env` value `blob://<cluster>/[<org>/]<owner>/<bucket>` (docs/jobs.md)

    async def require_for_job(self, user: str, uri: str) -> None:
        """At submission: the bucket exists and the job's owner may read it (403/404)."""
        self._require_store()
        await self._bucket_of_uri(user, uri)

    async def job_env(self, owner: str, uri: str, expires_at: datetime, job_id: str) -> str:
        """At each start of a job's container: the JSON of credentials for that bucket
        (read-only unless the owner may write), an identity of their own that lives until
        `expires_at` or until `end_job_credentials(job_id)`, whichever comes first. A share
        revoked since submission makes the start fail."""
        bucket = await self._bucket_of_uri(owner, uri)
        if bucket.imported:
            answer = await self.tmp_credentials(owner, bucket.cluster_name, bucket.id, None)
            return json.dumps(answer.credentials)
        read_only = not await self._can(owner, bucket, Action.WRITE)
        # Named for the job, so that its end finds them; persistent names cannot hold ':'.
        name = f"{_job_prefix(job_id)}{uuid.uuid4().hex[:8]}"
        stored = await self._new_credentials(
            owner, bucket.cluster_name, name, [bucket], read_only, expires_at
        )
        answer = await self._answer(stored, bucket)
        fields = {k: v for k, v in answer.credentials.items() if k != "session_token"}
        return json.dumps({**fields, "read_only": read_only})

    async def end_job_credentials(self, job_id: str) -> int:
        """The job's container is gone (finished, suspended, removed): its credentials end
        now, not at their expiry. Returns how many."""
        if self._store is None:
            return 0
        ended = await self._repository.temporary_named(_job_prefix(job_id))
        for stored in ended:
            await self._drop_credentials(stored)
        return len(ended)

    async def _bucket_of_uri(self, user: str, uri: str) -> Bucket:
        parsed = parse_uri(uri)
        if parsed.scheme != "blob" or len(parsed.parts) < 3:
            raise ValueError(f"Invalid bucket URI {uri!r}: use blob://<cluster>/<owner>/<bucket>")
        cluster, *path = parsed.parts
        return await self.find_by_path(user, cluster, "/".join(path))

    async def retire_owner(
        self, owner: str, created_before: datetime | None, retired: str
    ) -> tuple[int, int]:
        """A removed user's part (removals/sweeper.py): their credentials' identities are
        removed from the store, their buckets kept for the operator under `retired`.
        Returns (credentials removed, buckets retired)."""
        credentials = await self._repository.credentials_of(owner, created_before)
        for stored in credentials:
            if self._store is None:  # buckets disabled since: no store holds the identity
                await self._repository.delete_credentials(stored.id)
            else:
                await self._drop_credentials(stored)
        buckets = await self._repository.retire_owner(owner, created_before, retired)
        await self.end_lost_access()  # others' credentials for the retired buckets
        return len(credentials), buckets

    async def end_lost_access(self) -> int:
        """Ends what credentials give beyond their holder's permissions now: after a revoke
        (a share, a role's membership or grant) or a retired owner, temporary credentials
        for a bucket the holder may no longer use are removed and persistent ones narrowed
        to the rest, before the revoke is answered: the holder's next S3 request is refused,
        not only once the credentials expire. Only others' buckets are checked (an owner
        always holds their own). Returns how many credentials changed."""
        if self._store is None:
            return 0
        changed = 0
        buckets: dict[str, Bucket | None] = {}
        for stored in await self._repository.every_credential():
            kept = []
            for bucket_id in stored.bucket_ids:
                if bucket_id not in buckets:
                    buckets[bucket_id] = await self._repository.get(bucket_id)
                bucket = buckets[bucket_id]
                if bucket is None:
                    continue
                needed = Action.READ if stored.read_only else Action.WRITE
                if bucket.owner == stored.owner or await self._can(stored.owner, bucket, needed):
                    kept.append(bucket_id)
            if len(kept) == len(stored.bucket_ids):
                continue
            changed += 1
            if not stored.persistent or not kept:
                await self._drop_credentials(stored)
                continue
            store_names = await self._provider_buckets(kept)
            await self._store.set_identity_buckets(stored.store_user, store_names, stored.read_only)
            await self._repository.set_credential_buckets(stored.id, kept)
        return changed

    async def sweep_expired(self) -> int:
        """Removes the identities of expired temporary credentials; only when the store runs
        (a stopped embedded store accepts no credentials at all)."""
        if self._store is None or not self._store.running():
            return 0
        expired = await self._repository.expired(datetime.now(UTC))
        for credentials in expired:
            await self._drop_credentials(credentials)
        return len(expired)

    async def next_expiry(self) -> datetime | None:
        return await self._repository.next_expiry()

    async def wait_for_new_credentials(self, timeout_s: float) -> None:
        """Until temporary credentials are made or `timeout_s` passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._credentials_added.wait(), timeout_s)
        self._credentials_added.clear()

    async def _find_persistent(self, user: str, cluster: str, id_or_name: str) -> StoredCredentials:
        for credentials in await self._repository.credentials(cluster, user):
            if id_or_name in (credentials.id, credentials.name):
                return credentials
        raise NotFoundError(f"Credentials {id_or_name!r} not found")

    async def _drop_credentials(self, credentials: StoredCredentials) -> None:
        # The identity first: a row without an identity is harmless, the reverse is not.
        await self._require_store().delete_identity(credentials.store_user)
        await self._repository.delete_credentials(credentials.id)

    async def _new_credentials(
        self,
        user: str,
        cluster: str,
        name: str | None,
        buckets: list[Bucket],
        read_only: bool,
        expires_at: datetime | None,
    ) -> StoredCredentials:
        store = self._require_store()
        identity = await store.create_identity(
            identity_name("neuro"), [b.provider_bucket for b in buckets], read_only
        )
        stored = StoredCredentials(
            id=f"bucket-credentials-{uuid.uuid4()}",
            cluster_name=cluster,
            owner=user,
            name=name,
            persistent=expires_at is None,
            read_only=read_only,
            bucket_ids=tuple(b.id for b in buckets),
            store_user=identity.user_name,
            access_key_id=identity.access_key_id,
            secret_ciphertext=self._cipher.encrypt(identity.secret_access_key.encode()),
            expires_at=expires_at,
        )
        try:
            await self._repository.add_credentials(stored, datetime.now(UTC))
        except BaseException:
            await store.delete_identity(identity.user_name)
            raise
        if expires_at is not None:
            self._credentials_added.set()
        return stored

    async def _persistent(self, stored: StoredCredentials) -> PersistentCredentials:
        answers = []
        for bucket_id in stored.bucket_ids:
            bucket = await self._repository.get(bucket_id)
            if bucket is not None:
                answers.append(await self._answer(stored, bucket))
        return PersistentCredentials(
            stored.id, stored.name, stored.owner, stored.read_only, tuple(answers)
        )

    async def _answer(self, stored: StoredCredentials, bucket: Bucket) -> BucketCredentials:
        access = await self._client_access()
        fields = _s3_fields(
            S3Access(
                access.endpoint_url,
                access.region,
                stored.access_key_id,
                self._cipher.decrypt(stored.secret_ciphertext).decode(),
            ),
            bucket.provider_bucket,
        )
        if stored.expires_at is not None:
            # SDKs refresh credentials that carry `expiration`; ours have no session token,
            # and an empty one is not sent (docs/protocol.md §8.4).
            fields["expiration"] = stored.expires_at.isoformat()
            fields["session_token"] = ""
        return BucketCredentials(bucket.id, bucket.provider, stored.read_only, fields)

    async def _provider_buckets(self, bucket_ids: list[str]) -> list[str]:
        names = []
        for bucket_id in bucket_ids:
            bucket = await self._repository.get(bucket_id)
            if bucket is not None:
                names.append(bucket.provider_bucket)
        return names

    async def _external(self, bucket: Bucket) -> S3Access:
        ciphertext = await self._repository.external_ciphertext(bucket.id)
        if ciphertext is None:
            raise BucketNotFoundError(f"Bucket {bucket.id!r} not found")
        stored = json.loads(self._cipher.decrypt(ciphertext))
        return _external_access(stored)


def _job_prefix(job_id: str) -> str:
    return f"job:{job_id}:"


def _external_access(credentials: dict[str, str]) -> S3Access:
    endpoint = credentials.get("endpoint_url")
    key_id = credentials.get("access_key_id")
    secret = credentials.get("secret_access_key")
    if not isinstance(endpoint, str) or not isinstance(key_id, str) or not isinstance(secret, str):
        raise ValueError("credentials must hold endpoint_url, access_key_id and secret_access_key")
    url = URL(endpoint)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"endpoint_url must be an http(s) URL, got {endpoint!r}")
    region = credentials.get("region_name") or "us-east-1"
    return S3Access(url, str(region), key_id, secret)


def _s3_fields(access: S3Access, bucket_name: str) -> dict[str, str]:
    return {
        "bucket_name": bucket_name,
        "endpoint_url": str(access.endpoint_url),
        "region_name": access.region,
        "access_key_id": access.access_key_id,
        "secret_access_key": access.secret_access_key,
    }
