"""The object store as the platform administers it: buckets, bucket policies, presigned URLs
and scoped identities, over S3 and the IAM API (aiobotocore).

The same code serves the embedded SeaweedFS and an external endpoint: SeaweedFS answers the
IAM API (CreateUser, PutUserPolicy, CreateAccessKey, DeleteUser) on its S3 port, and applies
a change in-process before it answers, so a deleted identity is refused by the next request.
No blob passes through here: clients get credentials (or a signed URL) and talk S3 directly.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConflictError
from .endpoints import ResolvedEndpoint, connector_args
from .seaweed import S3Access

# Read: what `blob ls/cp/du/glob` down needs; write adds uploads (multipart too) and deletes.
# SeaweedFS maps these onto its per-bucket Read, List and Write (multipart is Write).
_READ_ACTIONS = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]
_WRITE_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
_POLICY_NAME = "neuro-buckets"
_NO_SUCH_ENTITY = ("NoSuchEntity", "NoSuchEntityException")
# A user's external endpoint may not answer at all: the import must fail in seconds.
_CONFIG = AioConfig(
    retries={"max_attempts": 2}, signature_version="s3v4", connect_timeout=10, read_timeout=60
)


class BucketNotEmptyError(ConflictError):
    code = "not_empty"


class ExternalBucketError(ValueError):
    """External credentials that do not open the bucket: 400 with the store's reason."""


@dataclass(frozen=True)
class Identity:
    user_name: str
    access_key_id: str
    secret_access_key: str


def bucket_policy(bucket: str, read_only: bool) -> dict[str, Any]:
    actions = _READ_ACTIONS if read_only else _READ_ACTIONS + _WRITE_ACTIONS
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": actions,
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


def _public_read_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class ObjectStore:
    """One S3 endpoint, administered with `access()` (which may start the embedded store)."""

    def __init__(
        self, access: Callable[[], Awaitable[S3Access]], running: Callable[[], bool]
    ) -> None:
        self._access = access
        self.running = running

    async def endpoint(self) -> S3Access:
        return await self._access()

    @asynccontextmanager
    async def _client(
        self, service: str, access: S3Access | None = None, config: AioConfig = _CONFIG
    ) -> AsyncIterator[Any]:
        access = access or await self._access()
        async with get_session().create_client(
            service,  # type: ignore[call-overload]
            endpoint_url=str(access.endpoint_url),
            region_name=access.region,
            aws_access_key_id=access.access_key_id,
            aws_secret_access_key=access.secret_access_key,
            config=config,
        ) as client:
            yield client

    async def create_bucket(self, name: str) -> None:
        async with self._client("s3") as s3:
            await s3.create_bucket(Bucket=name)

    async def delete_bucket(self, name: str) -> None:
        async with self._client("s3") as s3:
            try:
                await s3.delete_bucket(Bucket=name)
            except ClientError as e:
                if _code(e) == "BucketNotEmpty":
                    raise BucketNotEmptyError(
                        "The bucket is not empty: remove its blobs first "
                        "(`neuro blob rmbucket --force` does)"
                    ) from e
                if _code(e) != "NoSuchBucket":
                    raise

    async def set_public(self, name: str, public: bool) -> None:
        async with self._client("s3") as s3:
            if public:
                await s3.put_bucket_policy(Bucket=name, Policy=_public_read_policy(name))
            else:
                await s3.delete_bucket_policy(Bucket=name)

    async def sign_get(self, endpoint: S3Access, bucket: str, key: str, expires_s: int) -> str:
        """A presigned GET for `endpoint` (the URL clients use: the signature covers the host)."""
        async with self._client("s3", endpoint) as s3:
            url: str = await s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
            )
            return url

    async def create_identity(
        self, user_name: str, buckets: list[str], read_only: bool
    ) -> Identity:
        """An IAM user allowed `buckets` only (read or read+write), with one access key."""
        async with self._client("iam") as iam:
            await iam.create_user(UserName=user_name)
            await _put_policy(iam, user_name, buckets, read_only)
            key = (await iam.create_access_key(UserName=user_name))["AccessKey"]
        return Identity(user_name, key["AccessKeyId"], key["SecretAccessKey"])

    async def set_identity_buckets(
        self, user_name: str, buckets: list[str], read_only: bool
    ) -> None:
        """Narrows an identity to `buckets` (a removed bucket leaves persistent credentials)."""
        async with self._client("iam") as iam:
            await _put_policy(iam, user_name, buckets, read_only)

    async def delete_identity(self, user_name: str) -> None:
        """Removes the user, its keys and its policy; a missing user is not an error (a
        previous attempt may have got half way)."""
        async with self._client("iam") as iam:
            try:
                keys = await iam.list_access_keys(UserName=user_name)
            except ClientError as e:
                if _code(e) in _NO_SUCH_ENTITY:
                    return
                raise
            for key in keys.get("AccessKeyMetadata", []):
                await iam.delete_access_key(UserName=user_name, AccessKeyId=key["AccessKeyId"])
            try:
                await iam.delete_user_policy(UserName=user_name, PolicyName=_POLICY_NAME)
            except ClientError as e:
                if _code(e) not in _NO_SUCH_ENTITY:
                    raise
            try:
                await iam.delete_user(UserName=user_name)
            except ClientError as e:
                if _code(e) not in _NO_SUCH_ENTITY:
                    raise


async def _put_policy(iam: Any, user_name: str, buckets: list[str], read_only: bool) -> None:
    if not buckets:
        try:
            await iam.delete_user_policy(UserName=user_name, PolicyName=_POLICY_NAME)
        except ClientError as e:
            if _code(e) not in _NO_SUCH_ENTITY:
                raise
        return
    statements = [bucket_policy(b, read_only)["Statement"][0] for b in buckets]
    policy = {"Version": "2012-10-17", "Statement": statements}
    await iam.put_user_policy(
        UserName=user_name, PolicyName=_POLICY_NAME, PolicyDocument=json.dumps(policy)
    )


async def check_external(access: S3Access, bucket: str, endpoint: ResolvedEndpoint) -> None:
    """Raises ExternalBucketError unless `access` can list `bucket` (the import's check that
    the user's credentials work before they are stored), connecting to `endpoint`'s checked
    addresses only (endpoints.py)."""
    store = ObjectStore(lambda: _given(access), lambda: True)
    pinned = _CONFIG.merge(AioConfig(connector_args=connector_args(endpoint)))
    try:
        async with store._client("s3", config=pinned) as s3:
            await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as e:
        if _code(e) == "NoSuchBucket":
            raise ExternalBucketError(f"No bucket {bucket!r} at {access.endpoint_url}") from e
        raise ExternalBucketError(
            f"The credentials do not open bucket {bucket!r} at {access.endpoint_url}: {_code(e)}"
        ) from e
    except (BotoCoreError, OSError) as e:
        raise ExternalBucketError(f"Cannot reach {access.endpoint_url}: {e}") from e


async def _given(access: S3Access) -> S3Access:
    return access


def identity_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(12)}"
