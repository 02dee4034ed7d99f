"""Asyncio Python SDK for the Neuro Platform.

The public names are re-exported here; the implementation lives in private modules.

The re-exports are lazy (PEP 562): ``import neuro_sdk`` loads none of the private
modules, and so none of aiohttp, PyJWT or cryptography; each name's module is imported
the first time the name is looked up (``neuro_sdk.X`` or ``from neuro_sdk import X``).
This keeps the start-up of programs like the ``neuro`` CLI short.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._admin import _Admin as _Admin
    from ._admin import _Balance as _Balance
    from ._admin import _CloudProvider as _CloudProvider
    from ._admin import _Cluster as _Cluster
    from ._admin import _ClusterUser as _ClusterUser
    from ._admin import _ClusterUserRoleType as _ClusterUserRoleType
    from ._admin import _ClusterUserWithInfo as _ClusterUserWithInfo
    from ._admin import _ConfigCluster as _ConfigCluster
    from ._admin import _NodePool as _NodePool
    from ._admin import _Org as _Org
    from ._admin import _OrgCluster as _OrgCluster
    from ._admin import _OrgUser as _OrgUser
    from ._admin import _OrgUserRoleType as _OrgUserRoleType
    from ._admin import _OrgUserWithInfo as _OrgUserWithInfo
    from ._admin import _Quota as _Quota
    from ._admin import _Storage as _Storage
    from ._admin import _StorageInstance as _StorageInstance
    from ._admin import _UserInfo as _UserInfo
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
    from ._file_filter import AsyncFilterFunc as AsyncFilterFunc
    from ._file_filter import FileFilter as FileFilter
    from ._images import AbstractDockerImageProgress as AbstractDockerImageProgress
    from ._images import ImageCommitFinished as ImageCommitFinished
    from ._images import ImageCommitStarted as ImageCommitStarted
    from ._images import ImageProgressPull as ImageProgressPull
    from ._images import ImageProgressPush as ImageProgressPush
    from ._images import ImageProgressSave as ImageProgressSave
    from ._images import ImageProgressStep as ImageProgressStep
    from ._images import Images as Images
    from ._images import Tag as Tag
    from ._images_refs import LocalImage as LocalImage
    from ._images_refs import RemoteImage as RemoteImage
    from ._images_refs import TagOption as TagOption
    from ._jobs import Jobs as Jobs
    from ._jobs_entities import Container as Container
    from ._jobs_entities import DiskVolume as DiskVolume
    from ._jobs_entities import HTTPPort as HTTPPort
    from ._jobs_entities import JobDescription as JobDescription
    from ._jobs_entities import JobPriority as JobPriority
    from ._jobs_entities import JobRestartPolicy as JobRestartPolicy
    from ._jobs_entities import JobStatus as JobStatus
    from ._jobs_entities import JobStatusHistory as JobStatusHistory
    from ._jobs_entities import JobStatusItem as JobStatusItem
    from ._jobs_entities import JobTelemetry as JobTelemetry
    from ._jobs_entities import Message as Message
    from ._jobs_entities import Resources as Resources
    from ._jobs_entities import SecretFile as SecretFile
    from ._jobs_entities import StdStream as StdStream
    from ._jobs_entities import Volume as Volume
    from ._parser import EnvParseResult as EnvParseResult
    from ._parser import Parser as Parser
    from ._parser import VolumeParseResult as VolumeParseResult
    from ._plugins import ConfigBuilder as ConfigBuilder
    from ._plugins import ConfigScope as ConfigScope
    from ._plugins import PluginManager as PluginManager
    from ._plugins import VersionChecker as VersionChecker
    from ._secrets import Secret as Secret
    from ._secrets import Secrets as Secrets
    from ._service_accounts import ServiceAccount as ServiceAccount
    from ._service_accounts import ServiceAccounts as ServiceAccounts
    from ._shortcuts import get as get
    from ._shortcuts import login as login
    from ._shortcuts import login_with_headless as login_with_headless
    from ._shortcuts import login_with_token as login_with_token
    from ._shortcuts import logout as logout
    from ._storage import Storage as Storage
    from ._storage_entities import AbstractDeleteProgress as AbstractDeleteProgress
    from ._storage_entities import AbstractFileProgress as AbstractFileProgress
    from ._storage_entities import AbstractRecursiveFileProgress as AbstractRecursiveFileProgress
    from ._storage_entities import DiskUsageInfo as DiskUsageInfo
    from ._storage_entities import FileStatus as FileStatus
    from ._storage_entities import FileStatusType as FileStatusType
    from ._storage_entities import StorageProgressComplete as StorageProgressComplete
    from ._storage_entities import StorageProgressDelete as StorageProgressDelete
    from ._storage_entities import StorageProgressEnterDir as StorageProgressEnterDir
    from ._storage_entities import StorageProgressFail as StorageProgressFail
    from ._storage_entities import StorageProgressLeaveDir as StorageProgressLeaveDir
    from ._storage_entities import StorageProgressStart as StorageProgressStart
    from ._storage_entities import StorageProgressStep as StorageProgressStep
    from ._tracing import gen_trace_id as gen_trace_id
    from ._uris import SCHEMES as SCHEMES
    from ._user_config import find_project_root as find_project_root
    from ._users import Action as Action
    from ._users import Permission as Permission
    from ._users import Quota as Quota
    from ._users import Share as Share
    from ._users import Users as Users
    from ._version import __version__ as __version__

# Each public name and the private module that defines it.
_LAZY_NAMES: dict[str, str] = {
    "BlobCommonPrefix": "_buckets",
    "BlobObject": "_buckets",
    "Bucket": "_buckets",
    "BucketCredentials": "_buckets",
    "BucketEntry": "_buckets",
    "BucketUsage": "_buckets",
    "Buckets": "_buckets",
    "PersistentBucketCredentials": "_buckets",
    "Client": "_client",
    "Cluster": "_cluster",
    "Preset": "_cluster",
    "Config": "_config",
    "CONFIG_ENV_NAME": "_config_factory",
    "DEFAULT_API_URL": "_config_factory",
    "DEFAULT_CONFIG_PATH": "_config_factory",
    "DEFAULT_TIMEOUT": "_config_factory",
    "Factory": "_config_factory",
    "PASS_CONFIG_ENV_NAME": "_config_factory",
    "Disk": "_disks",
    "Disks": "_disks",
    "AuthError": "_errors",
    "AuthenticationError": "_errors",
    "AuthorizationError": "_errors",
    "ClientError": "_errors",
    "ConfigError": "_errors",
    "IllegalArgumentError": "_errors",
    "NDJSONError": "_errors",
    "NeuroError": "_errors",
    "NotSupportedError": "_errors",
    "ResourceNotFound": "_errors",
    "ServerNotAvailable": "_errors",
    "StdStreamError": "_errors",
    "AbstractDockerImageProgress": "_images",
    "ImageCommitFinished": "_images",
    "ImageCommitStarted": "_images",
    "ImageProgressPull": "_images",
    "ImageProgressPush": "_images",
    "ImageProgressSave": "_images",
    "ImageProgressStep": "_images",
    "Images": "_images",
    "Tag": "_images",
    "LocalImage": "_images_refs",
    "RemoteImage": "_images_refs",
    "TagOption": "_images_refs",
    "Jobs": "_jobs",
    "Container": "_jobs_entities",
    "DiskVolume": "_jobs_entities",
    "HTTPPort": "_jobs_entities",
    "JobDescription": "_jobs_entities",
    "JobPriority": "_jobs_entities",
    "JobRestartPolicy": "_jobs_entities",
    "JobStatus": "_jobs_entities",
    "JobStatusHistory": "_jobs_entities",
    "JobStatusItem": "_jobs_entities",
    "JobTelemetry": "_jobs_entities",
    "Message": "_jobs_entities",
    "Resources": "_jobs_entities",
    "SecretFile": "_jobs_entities",
    "StdStream": "_jobs_entities",
    "Volume": "_jobs_entities",
    "EnvParseResult": "_parser",
    "Parser": "_parser",
    "VolumeParseResult": "_parser",
    "ConfigBuilder": "_plugins",
    "PluginManager": "_plugins",
    "Secret": "_secrets",
    "Secrets": "_secrets",
    "ServiceAccount": "_service_accounts",
    "ServiceAccounts": "_service_accounts",
    "get": "_shortcuts",
    "login": "_shortcuts",
    "login_with_headless": "_shortcuts",
    "login_with_token": "_shortcuts",
    "logout": "_shortcuts",
    "Storage": "_storage",
    "AbstractDeleteProgress": "_storage_entities",
    "AbstractFileProgress": "_storage_entities",
    "AbstractRecursiveFileProgress": "_storage_entities",
    "DiskUsageInfo": "_storage_entities",
    "FileStatus": "_storage_entities",
    "StorageProgressComplete": "_storage_entities",
    "StorageProgressDelete": "_storage_entities",
    "StorageProgressEnterDir": "_storage_entities",
    "StorageProgressFail": "_storage_entities",
    "StorageProgressLeaveDir": "_storage_entities",
    "StorageProgressStart": "_storage_entities",
    "StorageProgressStep": "_storage_entities",
    "find_project_root": "_user_config",
    "Action": "_users",
    "Permission": "_users",
    "Quota": "_users",
    "_Admin": "_admin",
    "_Balance": "_admin",
    "_CloudProvider": "_admin",
    "_Cluster": "_admin",
    "_ClusterUser": "_admin",
    "_ClusterUserRoleType": "_admin",
    "_ClusterUserWithInfo": "_admin",
    "_ConfigCluster": "_admin",
    "_NodePool": "_admin",
    "_Org": "_admin",
    "_OrgCluster": "_admin",
    "_OrgUser": "_admin",
    "_OrgUserRoleType": "_admin",
    "_OrgUserWithInfo": "_admin",
    "_Quota": "_admin",
    "_Storage": "_admin",
    "_StorageInstance": "_admin",
    "_UserInfo": "_admin",
    "Share": "_users",
    "Users": "_users",
    "AsyncFilterFunc": "_file_filter",
    "FileFilter": "_file_filter",
    "ConfigScope": "_plugins",
    "VersionChecker": "_plugins",
    "FileStatusType": "_storage_entities",
    "SCHEMES": "_uris",
    "gen_trace_id": "_tracing",
    "__version__": "_version",
}

__all__ = [
    "CONFIG_ENV_NAME",
    "DEFAULT_API_URL",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_TIMEOUT",
    "PASS_CONFIG_ENV_NAME",
    "SCHEMES",
    "AbstractDeleteProgress",
    "AbstractDockerImageProgress",
    "AbstractFileProgress",
    "AbstractRecursiveFileProgress",
    "Action",
    "AsyncFilterFunc",
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
    "ConfigScope",
    "Container",
    "Disk",
    "DiskUsageInfo",
    "DiskVolume",
    "Disks",
    "EnvParseResult",
    "Factory",
    "FileFilter",
    "FileStatus",
    "FileStatusType",
    "HTTPPort",
    "IllegalArgumentError",
    "ImageCommitFinished",
    "ImageCommitStarted",
    "ImageProgressPull",
    "ImageProgressPush",
    "ImageProgressSave",
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
    "Quota",
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
    "TagOption",
    "Users",
    "VersionChecker",
    "Volume",
    "VolumeParseResult",
    "_Admin",
    "_Balance",
    "_CloudProvider",
    "_Cluster",
    "_ClusterUser",
    "_ClusterUserRoleType",
    "_ClusterUserWithInfo",
    "_ConfigCluster",
    "_NodePool",
    "_Org",
    "_OrgCluster",
    "_OrgUser",
    "_OrgUserRoleType",
    "_OrgUserWithInfo",
    "_Quota",
    "_Storage",
    "_StorageInstance",
    "_UserInfo",
    "__version__",
    "find_project_root",
    "gen_trace_id",
    "get",
    "login",
    "login_with_headless",
    "login_with_token",
    "logout",
]


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead: a module-level
    # ``__getattr__`` would make every misspelt ``neuro_sdk.X`` type-check as ``Any``.

    def __getattr__(name: str) -> Any:
        try:
            module_name = _LAZY_NAMES[name]
        except KeyError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        value = getattr(import_module(f".{module_name}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
