"""Bucket and credential rows."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import ConflictError
from .entities import Bucket, StoredCredentials
from .models import BucketCredentialRow, BucketRow


class NameTakenError(ConflictError):
    code = "unique"


class BucketRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, bucket: Bucket, external_ciphertext: bytes | None) -> None:
        try:
            async with self._sessions.begin() as session:
                session.add(
                    BucketRow(
                        id=bucket.id,
                        cluster_name=bucket.cluster_name,
                        org_name=bucket.org_name or "",
                        owner=bucket.owner,
                        name=bucket.name,
                        provider=bucket.provider,
                        provider_bucket=bucket.provider_bucket,
                        imported=bucket.imported,
                        public=bucket.public,
                        external_ciphertext=external_ciphertext,
                        created_at=bucket.created_at,
                    )
                )
        except IntegrityError as e:
            raise NameTakenError(f"A bucket named {bucket.name!r} exists already") from e

    async def get(self, bucket_id: str) -> Bucket | None:
        async with self._sessions() as session:
            row = await session.get(BucketRow, bucket_id)
            return None if row is None else _bucket(row)

    async def by_name(self, cluster_name: str, owner: str, name: str) -> list[Bucket]:
        """In every org of the cluster, no org first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BucketRow)
                .where(
                    BucketRow.cluster_name == cluster_name,
                    BucketRow.owner == owner,
                    BucketRow.name == name,
                )
                .order_by(BucketRow.org_name)
            )
            return [_bucket(r) for r in rows]

    async def in_cluster(self, cluster_name: str) -> list[Bucket]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BucketRow)
                .where(BucketRow.cluster_name == cluster_name)
                .order_by(BucketRow.created_at, BucketRow.id)
            )
            return [_bucket(r) for r in rows]

    async def external_ciphertext(self, bucket_id: str) -> bytes | None:
        async with self._sessions() as session:
            row = await session.get(BucketRow, bucket_id)
            return None if row is None else row.external_ciphertext

    async def set_public(self, bucket_id: str, public: bool) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(BucketRow).where(BucketRow.id == bucket_id).values(public=public)
            )

    async def delete(self, bucket_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(BucketRow).where(BucketRow.id == bucket_id))

    async def retire_owner(self, owner: str, created_before: datetime | None, retired: str) -> int:
        """Hands the owner's buckets to `retired` (a name no account can have)."""
        conditions = [BucketRow.owner == owner]
        if created_before is not None:
            conditions.append(BucketRow.created_at < created_before)
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(BucketRow).where(*conditions).values(owner=retired).returning(BucketRow.id)
            )
            return len(result.all())

    async def credentials_of(
        self, owner: str, created_before: datetime | None
    ) -> list[StoredCredentials]:
        """Every credential of the owner, persistent or temporary, in every cluster."""
        conditions = [BucketCredentialRow.owner == owner]
        if created_before is not None:
            conditions.append(BucketCredentialRow.created_at < created_before)
        async with self._sessions() as session:
            rows = await session.scalars(select(BucketCredentialRow).where(*conditions))
            return [_credentials(r) for r in rows]

    # Credentials

    async def add_credentials(self, credentials: StoredCredentials, now: datetime) -> None:
        try:
            async with self._sessions.begin() as session:
                session.add(
                    BucketCredentialRow(
                        id=credentials.id,
                        cluster_name=credentials.cluster_name,
                        owner=credentials.owner,
                        name=credentials.name,
                        persistent=credentials.persistent,
                        read_only=credentials.read_only,
                        bucket_ids=json.dumps(list(credentials.bucket_ids)),
                        store_user=credentials.store_user,
                        access_key_id=credentials.access_key_id,
                        secret_ciphertext=credentials.secret_ciphertext,
                        expires_at=credentials.expires_at,
                        created_at=now,
                    )
                )
        except IntegrityError as e:
            raise NameTakenError(f"Credentials named {credentials.name!r} exist already") from e

    async def credentials(self, cluster_name: str, owner: str) -> list[StoredCredentials]:
        """The owner's persistent credentials in the cluster."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BucketCredentialRow)
                .where(
                    BucketCredentialRow.cluster_name == cluster_name,
                    BucketCredentialRow.owner == owner,
                    BucketCredentialRow.persistent.is_(True),
                )
                .order_by(BucketCredentialRow.created_at, BucketCredentialRow.id)
            )
            return [_credentials(r) for r in rows]

    async def reusable_tmp(
        self, owner: str, bucket_id: str, read_only: bool, valid_after: datetime
    ) -> StoredCredentials | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(BucketCredentialRow)
                .where(
                    BucketCredentialRow.owner == owner,
                    BucketCredentialRow.persistent.is_(False),
                    BucketCredentialRow.read_only.is_(read_only),
                    BucketCredentialRow.bucket_ids == json.dumps([bucket_id]),
                    BucketCredentialRow.expires_at > valid_after,
                )
                .order_by(BucketCredentialRow.expires_at.desc())
                .limit(1)
            )
            return None if row is None else _credentials(row)

    async def expired(self, now: datetime) -> list[StoredCredentials]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BucketCredentialRow).where(BucketCredentialRow.expires_at <= now)
            )
            return [_credentials(r) for r in rows]

    async def next_expiry(self) -> datetime | None:
        """When the first temporary credentials expire (None: there are none)."""
        async with self._sessions() as session:
            return await session.scalar(select(func.min(BucketCredentialRow.expires_at)))

    async def temporary_named(self, prefix: str) -> list[StoredCredentials]:
        """Temporary credentials whose name starts with `prefix` (a job's: service.py)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BucketCredentialRow).where(
                    BucketCredentialRow.persistent.is_(False),
                    BucketCredentialRow.name.startswith(prefix, autoescape=True),
                )
            )
            return [_credentials(r) for r in rows]

    async def every_credential(self) -> list[StoredCredentials]:
        async with self._sessions() as session:
            rows = await session.scalars(select(BucketCredentialRow))
            return [_credentials(r) for r in rows]

    async def with_bucket(self, bucket_id: str) -> list[StoredCredentials]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BucketCredentialRow).where(
                    BucketCredentialRow.bucket_ids.contains(json.dumps(bucket_id))
                )
            )
            return [c for c in map(_credentials, rows) if bucket_id in c.bucket_ids]

    async def set_credential_buckets(self, credentials_id: str, bucket_ids: list[str]) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(BucketCredentialRow)
                .where(BucketCredentialRow.id == credentials_id)
                .values(bucket_ids=json.dumps(bucket_ids))
            )

    async def delete_credentials(self, credentials_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(BucketCredentialRow).where(BucketCredentialRow.id == credentials_id)
            )


def _bucket(row: BucketRow) -> Bucket:
    return Bucket(
        id=row.id,
        cluster_name=row.cluster_name,
        org_name=row.org_name or None,
        owner=row.owner,
        name=row.name,
        provider=row.provider,
        provider_bucket=row.provider_bucket,
        imported=row.imported,
        public=row.public,
        created_at=row.created_at,
    )


def _credentials(row: BucketCredentialRow) -> StoredCredentials:
    return StoredCredentials(
        id=row.id,
        cluster_name=row.cluster_name,
        owner=row.owner,
        name=row.name,
        persistent=row.persistent,
        read_only=row.read_only,
        bucket_ids=tuple(json.loads(row.bucket_ids)),
        store_user=row.store_user,
        access_key_id=row.access_key_id,
        secret_ciphertext=row.secret_ciphertext,
        expires_at=row.expires_at,
    )
