"""Test helpers for buckets: an authenticated API session and boto3 clients built from the
credentials the server hands out (docs/protocol.md §8.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import boto3  # type: ignore[import-untyped]
from botocore.config import Config

from .server import PlatformServer


def api_session(server: PlatformServer, user: str) -> aiohttp.ClientSession:
    token = server.issue_token(user)
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})


def s3_client(credentials: Mapping[str, Any]) -> Any:
    """A boto3 S3 client from a `make_tmp_credentials` answer's `credentials` (no retries:
    a refusal must show at once)."""
    return boto3.client(
        "s3",
        endpoint_url=credentials["endpoint_url"],
        region_name=credentials["region_name"],
        aws_access_key_id=credentials["access_key_id"],
        aws_secret_access_key=credentials["secret_access_key"],
        config=Config(retries={"max_attempts": 1}, signature_version="s3v4"),
    )
