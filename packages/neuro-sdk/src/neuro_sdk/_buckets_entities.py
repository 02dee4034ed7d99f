"""The Buckets API's entities (docs/protocol.md §8.4): buckets, credentials and blobs."""

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from yarl import URL

BLOB_SCHEME = "blob"


@dataclass(frozen=True)
class Bucket:
    """A bucket; its blobs are addressed as ``blob://cluster/[org/]owner/<name or id>/key``."""

    id: str
    owner: str
    cluster_name: str
    org_name: str | None
    provider: "Bucket.Provider"
    created_at: datetime
    imported: bool
    public: bool = False
    name: str | None = None

    class Provider(enum.StrEnum):
        AWS = "aws"
        MINIO = "minio"
        AZURE = "azure"
        GCP = "gcp"
        OPEN_STACK = "open_stack"

    @property
    def uri(self) -> URL:
        org = f"/{self.org_name}" if self.org_name else ""
        return URL(f"{BLOB_SCHEME}://{self.cluster_name}{org}/{self.owner}/{self.name or self.id}")

    def get_key_for_uri(self, uri: URL) -> str:
        """The key ``uri`` names in this bucket (addressed by name or by id)."""
        text = str(uri)
        own = [str(self.uri)]
        if self.name:
            own.append(str(self.uri.parent / self.id))
        for prefix in own:
            if text == prefix or text.startswith(prefix + "/"):
                return text[len(prefix) :].lstrip("/")
        raise ValueError(f"URI {text} is not in bucket {self.uri}")


@dataclass(frozen=True)
class BucketCredentials:
    """Credentials for one bucket at its provider (for S3: keys, endpoint, bucket name)."""

    bucket_id: str
    provider: Bucket.Provider
    credentials: Mapping[str, str]


@dataclass(frozen=True)
class PersistentBucketCredentials:
    """Credentials for a set of buckets that stay valid until removed."""

    id: str
    owner: str
    cluster_name: str
    name: str | None
    read_only: bool
    credentials: list[BucketCredentials]


@dataclass(frozen=True)
class BucketUsage:
    total_bytes: int
    object_count: int


@dataclass(frozen=True)
class BucketEntry(ABC):
    """A blob, or (in a non-recursive listing) a common prefix: a "folder"."""

    key: str
    bucket: Bucket
    size: int
    created_at: datetime | None = None
    modified_at: datetime | None = None

    @property
    def name(self) -> str:
        return PurePosixPath(self.key).name

    @property
    def uri(self) -> URL:
        # A key may hold anything, "/" first included: append it as text, not as a path.
        return URL(f"{self.bucket.uri}/{self.key}")

    @abstractmethod
    def is_file(self) -> bool: ...

    @abstractmethod
    def is_dir(self) -> bool: ...


@dataclass(frozen=True)
class BlobObject(BucketEntry):
    """An object stored under its key; ``key/`` with no data marks a directory."""

    def is_dir(self) -> bool:
        return self.key.endswith("/") and self.size == 0

    def is_file(self) -> bool:
        return not self.is_dir()


@dataclass(frozen=True)
class BlobCommonPrefix(BucketEntry):
    """The keys under ``prefix/`` grouped in a non-recursive listing."""

    size: int = 0

    def is_dir(self) -> bool:
        return True

    def is_file(self) -> bool:
        return False
