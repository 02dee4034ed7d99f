"""The public surface is the documented one plus the original 22.6.3 package's names."""

import json
import types
from pathlib import Path

import aiohttp
from yarl import URL

import neuro_sdk

# Every ``neuro_sdk.X`` the API reference documents (classes and functions).
DOCUMENTED_NAMES = {
    "AbstractDeleteProgress", "AbstractDockerImageProgress", "AbstractFileProgress",
    "AbstractRecursiveFileProgress", "Action", "BlobCommonPrefix", "BlobObject", "Bucket",
    "BucketCredentials", "BucketEntry", "BucketUsage", "Buckets", "Client", "Cluster", "Config",
    "ConfigBuilder", "Container", "Disk", "DiskUsageInfo", "DiskVolume", "Disks",
    "EnvParseResult", "Factory", "FileStatus", "HTTPPort", "ImageProgressPull",
    "ImageProgressPush", "ImageProgressStep", "Images", "JobDescription", "JobPriority",
    "JobRestartPolicy", "JobStatus", "JobStatusHistory", "JobStatusItem", "JobTelemetry", "Jobs",
    "LocalImage", "Message", "Parser", "Permission", "PersistentBucketCredentials",
    "PluginManager", "Preset", "RemoteImage", "Resources", "Secret", "SecretFile", "Secrets",
    "ServiceAccount", "ServiceAccounts", "Share", "StdStream", "Storage",
    "StorageProgressComplete", "StorageProgressDelete", "StorageProgressEnterDir",
    "StorageProgressFail", "StorageProgressLeaveDir", "StorageProgressStart",
    "StorageProgressStep", "Tag", "Users", "Volume", "VolumeParseResult", "find_project_root",
    "get", "login", "login_with_headless", "login_with_token", "logout",
}  # fmt: skip
EXCEPTION_NAMES = {
    "NeuroError", "ClientError", "IllegalArgumentError", "AuthError", "AuthenticationError",
    "AuthorizationError", "ResourceNotFound", "ServerNotAvailable", "ConfigError", "NDJSONError",
    "StdStreamError", "NotSupportedError",
}  # fmt: skip
# The original package's __all__ (22.6.3): it exports names the reference never lists
# (ConfigScope, Quota, TagOption, ...). test_public_api_parity checks they all exist.
ORIGINAL_NAMES = set(
    json.loads((Path(__file__).parent / "data/original_api_22_6_3.json").read_text())["all"]
)
CONSTANT_NAMES = {
    "DEFAULT_API_URL", "DEFAULT_CONFIG_PATH", "CONFIG_ENV_NAME", "PASS_CONFIG_ENV_NAME",
    "DEFAULT_TIMEOUT", "__version__",
}  # fmt: skip


def test_all_is_the_documented_surface_and_the_originals() -> None:
    exported = set(neuro_sdk.__all__)
    assert exported >= DOCUMENTED_NAMES | EXCEPTION_NAMES | CONSTANT_NAMES
    # Nothing beyond what the reference documents or the original package exported.
    assert exported <= DOCUMENTED_NAMES | EXCEPTION_NAMES | CONSTANT_NAMES | ORIGINAL_NAMES
    assert len(neuro_sdk.__all__) == len(set(neuro_sdk.__all__))


def test_every_exported_name_exists_and_lives_in_a_private_module() -> None:
    for name in neuro_sdk.__all__:
        value = getattr(neuro_sdk, name)
        module = getattr(value, "__module__", None)
        if isinstance(value, types.GenericAlias):
            continue  # a type alias (AsyncFilterFunc) names typing's classes
        if isinstance(value, type) or callable(value):
            assert module is not None
            assert module.startswith("neuro_sdk._"), (name, module)


def test_exceptions_keep_documented_bases_and_share_one_root() -> None:
    assert issubclass(neuro_sdk.IllegalArgumentError, ValueError)
    assert issubclass(neuro_sdk.ResourceNotFound, ValueError)
    assert issubclass(neuro_sdk.ServerNotAvailable, ValueError)
    assert issubclass(neuro_sdk.ConfigError, RuntimeError)
    assert issubclass(neuro_sdk.NDJSONError, ValueError)  # as the original
    assert issubclass(neuro_sdk.NotSupportedError, NotImplementedError)
    assert issubclass(neuro_sdk.AuthenticationError, neuro_sdk.AuthError)
    assert issubclass(neuro_sdk.AuthorizationError, neuro_sdk.AuthError)
    assert issubclass(neuro_sdk.AuthError, neuro_sdk.ClientError)
    for name in EXCEPTION_NAMES:
        assert issubclass(getattr(neuro_sdk, name), neuro_sdk.NeuroError), name
    assert neuro_sdk.StdStreamError(3).exit_code == 3


def test_constants_have_documented_values() -> None:
    assert URL("https://staging.neu.ro/api/v1") == neuro_sdk.DEFAULT_API_URL
    assert neuro_sdk.DEFAULT_CONFIG_PATH == "~/.neuro"
    assert neuro_sdk.CONFIG_ENV_NAME == "NEUROMATION_CONFIG"
    assert neuro_sdk.PASS_CONFIG_ENV_NAME == "NEURO_PASSED_CONFIG"
    # The original 22.6.3's value: no limit on a whole request, one minute to connect a
    # socket and one minute between reads.
    assert (
        aiohttp.ClientTimeout(total=None, sock_connect=60, sock_read=60)
        == neuro_sdk.DEFAULT_TIMEOUT
    )


def test_job_status_groups() -> None:
    status = neuro_sdk.JobStatus
    assert status.active_items() == {status.PENDING, status.SUSPENDED, status.RUNNING}
    assert status.finished_items() == {status.SUCCEEDED, status.FAILED, status.CANCELLED}
    assert status.UNKNOWN not in status.items()
    assert status.SUSPENDED.is_pending
    assert str(status.RUNNING) == "running"
