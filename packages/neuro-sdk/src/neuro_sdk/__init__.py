"""Asyncio Python SDK for the Neuro Platform.

The public names are re-exported here; the implementation lives in private modules.
"""

from ._buckets import BlobCommonPrefix as BlobCommonPrefix
from ._buckets import BlobObject as BlobObject
from ._buckets import Bucket as Bucket
from ._buckets import BucketCredentials as BucketCredentials
from ._buckets import BucketEntry as BucketEntry
from ._buckets import Buckets as Buckets
from ._buckets import BucketUsage as BucketUsage
from ._buckets import PersistentBucketCredentials as PersistentBucketCredentials
from ._client import Client as Client
from ._cluster import Cluster as Cluster
from ._cluster import Preset as Preset
from ._config import Config as Config
from ._config_factory import CONFIG_ENV_NAME as CONFIG_ENV_NAME
from ._config_factory import DEFAULT_API_URL as DEFAULT_API_URL
from ._config_factory import DEFAULT_CONFIG_PATH as DEFAULT_CONFIG_PATH
from ._config_factory import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._config_factory import PASS_CONFIG_ENV_NAME as PASS_CONFIG_ENV_NAME
from ._config_factory import Factory as Factory
from ._disks import Disk as Disk
from ._disks import Disks as Disks
from ._errors import AuthenticationError as AuthenticationError
from ._errors import AuthError as AuthError
from ._errors import AuthorizationError as AuthorizationError
from ._errors import ClientError as ClientError
from ._errors import ConfigError as ConfigError
from ._errors import IllegalArgumentError as IllegalArgumentError
from ._errors import NDJSONError as NDJSONError
from ._errors import NeuroError as NeuroError
from ._errors import NotSupportedError as NotSupportedError
from ._errors import ResourceNotFound as ResourceNotFound
from ._errors import ServerNotAvailable as ServerNotAvailable
from ._errors import StdStreamError as StdStreamError
from ._images import AbstractDockerImageProgress as AbstractDockerImageProgress
from ._images import ImageProgressPull as ImageProgressPull
from ._images import ImageProgressPush as ImageProgressPush
from ._images import ImageProgressStep as ImageProgressStep
from ._images import Images as Images
from ._images import LocalImage as LocalImage
from ._images import RemoteImage as RemoteImage
from ._images import Tag as Tag
from ._jobs import Container as Container
from ._jobs import DiskVolume as DiskVolume
from ._jobs import HTTPPort as HTTPPort
from ._jobs import JobDescription as JobDescription
from ._jobs import JobPriority as JobPriority
from ._jobs import JobRestartPolicy as JobRestartPolicy
from ._jobs import Jobs as Jobs
from ._jobs import JobStatus as JobStatus
from ._jobs import JobStatusHistory as JobStatusHistory
from ._jobs import JobStatusItem as JobStatusItem
from ._jobs import JobTelemetry as JobTelemetry
from ._jobs import Message as Message
from ._jobs import Resources as Resources
from ._jobs import SecretFile as SecretFile
from ._jobs import StdStream as StdStream
from ._jobs import Volume as Volume
from ._parser import EnvParseResult as EnvParseResult
from ._parser import Parser as Parser
from ._parser import VolumeParseResult as VolumeParseResult
from ._plugins import ConfigBuilder as ConfigBuilder
from ._plugins import PluginManager as PluginManager
from ._secrets import Secret as Secret
from ._secrets import Secrets as Secrets
from ._service_accounts import ServiceAccount as ServiceAccount
from ._service_accounts import ServiceAccounts as ServiceAccounts
from ._shortcuts import get as get
from ._shortcuts import login as login
from ._shortcuts import login_with_headless as login_with_headless
from ._shortcuts import login_with_token as login_with_token
from ._shortcuts import logout as logout
from ._storage import AbstractDeleteProgress as AbstractDeleteProgress
from ._storage import AbstractFileProgress as AbstractFileProgress
from ._storage import AbstractRecursiveFileProgress as AbstractRecursiveFileProgress
from ._storage import DiskUsageInfo as DiskUsageInfo
from ._storage import FileStatus as FileStatus
from ._storage import Storage as Storage
from ._storage import StorageProgressComplete as StorageProgressComplete
from ._storage import StorageProgressDelete as StorageProgressDelete
from ._storage import StorageProgressEnterDir as StorageProgressEnterDir
from ._storage import StorageProgressFail as StorageProgressFail
from ._storage import StorageProgressLeaveDir as StorageProgressLeaveDir
from ._storage import StorageProgressStart as StorageProgressStart
from ._storage import StorageProgressStep as StorageProgressStep
from ._user_config import find_project_root as find_project_root
from ._users import Action as Action
from ._users import Permission as Permission
from ._users import Share as Share
from ._users import Users as Users
from ._version import __version__ as __version__

__all__ = [
    "CONFIG_ENV_NAME",
    "DEFAULT_API_URL",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_TIMEOUT",
    "PASS_CONFIG_ENV_NAME",
    "AbstractDeleteProgress",
    "AbstractDockerImageProgress",
    "AbstractFileProgress",
    "AbstractRecursiveFileProgress",
    "Action",
    "AuthError",
    "AuthenticationError",
    "AuthorizationError",
    "BlobCommonPrefix",
    "BlobObject",
    "Bucket",
    "BucketCredentials",
    "BucketEntry",
    "BucketUsage",
    "Buckets",
    "Client",
    "ClientError",
    "Cluster",
    "Config",
    "ConfigBuilder",
    "ConfigError",
    "Container",
    "Disk",
    "DiskUsageInfo",
    "DiskVolume",
    "Disks",
    "EnvParseResult",
    "Factory",
    "FileStatus",
    "HTTPPort",
    "IllegalArgumentError",
    "ImageProgressPull",
    "ImageProgressPush",
    "ImageProgressStep",
    "Images",
    "JobDescription",
    "JobPriority",
    "JobRestartPolicy",
    "JobStatus",
    "JobStatusHistory",
    "JobStatusItem",
    "JobTelemetry",
    "Jobs",
    "LocalImage",
    "Message",
    "NDJSONError",
    "NeuroError",
    "NotSupportedError",
    "Parser",
    "Permission",
    "PersistentBucketCredentials",
    "PluginManager",
    "Preset",
    "RemoteImage",
    "ResourceNotFound",
    "Resources",
    "Secret",
    "SecretFile",
    "Secrets",
    "ServerNotAvailable",
    "ServiceAccount",
    "ServiceAccounts",
    "Share",
    "StdStream",
    "StdStreamError",
    "Storage",
    "StorageProgressComplete",
    "StorageProgressDelete",
    "StorageProgressEnterDir",
    "StorageProgressFail",
    "StorageProgressLeaveDir",
    "StorageProgressStart",
    "StorageProgressStep",
    "Tag",
    "Users",
    "Volume",
    "VolumeParseResult",
    "__version__",
    "find_project_root",
    "get",
    "login",
    "login_with_headless",
    "login_with_token",
    "logout",
]
