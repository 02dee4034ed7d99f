"""A real SeaweedFS S3 endpoint (auth enforced) for the SDK's S3 layer, one per module.

The platform's buckets service is not involved here: these tests hand the SDK's S3 layer
the credentials a platform would, and check what it does with them against a real store.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

from neuro_platform.testing.fixtures import buckets_platform_server  # noqa: F401 (fixture)
from neuro_sdk._buckets_entities import Bucket, BucketCredentials

ADMIN_KEY, ADMIN_SECRET = "AKneurotestadmin", "SKneurotestadmin-secret"
READER_KEY, READER_SECRET = "AKneurotestreader", "SKneurotestreader-secret"
STARTUP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SeaweedS3:
    endpoint: str

    def admin(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ADMIN_KEY,
            aws_secret_access_key=ADMIN_SECRET,
            region_name="us-east-1",
        )

    def credentials(
        self,
        bucket_name: str,
        *,
        key: str = ADMIN_KEY,
        secret: str = ADMIN_SECRET,
        expiration: datetime | None = None,
    ) -> BucketCredentials:
        raw = {
            "access_key_id": key,
            "secret_access_key": secret,
            "endpoint_url": self.endpoint,
            "region_name": "us-east-1",
            "bucket_name": bucket_name,
        }
        if expiration is not None:
            raw["expiration"] = expiration.isoformat()
        return BucketCredentials("bucket-test", Bucket.Provider.MINIO, raw)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        pytest.skip("SeaweedFS (weed) is not installed")
    return found


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    base = tmp_path_factory.mktemp("seaweed")
    identities = {
        "identities": [
            {
                "name": "admin",
                "credentials": [{"accessKey": ADMIN_KEY, "secretKey": ADMIN_SECRET}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            },
            {
                "name": "reader",
                "credentials": [{"accessKey": READER_KEY, "secretKey": READER_SECRET}],
                "actions": ["Read", "List"],
            },
        ]
    }
    config = base / "identities.json"
    config.write_text(json.dumps(identities))
    (base / "data").mkdir()
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    command = [
        _weed(),
        "server",
        f"-dir={base / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]
    log = (base / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        store = SeaweedS3(endpoint)
        while True:
            try:
                store.admin().list_buckets()
                break
            except Exception as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    message = f"SeaweedFS did not start; see {base / 'weed.log'}"
                    raise RuntimeError(message) from error
                time.sleep(0.2)
        yield store
    finally:
        # Its data is thrown away with the temporary folder: no graceful shutdown needed.
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


_counter = 0


@pytest.fixture
def s3_bucket(seaweed: SeaweedS3) -> str:
    """A new empty bucket at the store; its provider name."""
    global _counter
    _counter += 1
    name = f"test-{os.getpid()}-{_counter}"
    seaweed.admin().create_bucket(Bucket=name)
    return name


def make_bucket(name: str = "data") -> Bucket:
    return Bucket(
        id="bucket-test",
        owner="alice",
        cluster_name="default",
        org_name=None,
        provider=Bucket.Provider.MINIO,
        created_at=datetime.now(UTC),
        imported=False,
        name=name,
    )
