"""The public surface is exactly the documented one."""

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
# Image names the original package (22.6.3 and 22.7.1) exports beyond the reference.
ORIGINAL_IMAGE_NAMES = {
    "ImageCommitFinished", "ImageCommitStarted", "ImageProgressSave", "TagOption",
}  # fmt: skip
# The original's quota and (experimental, underscore-named) admin API (docs/protocol.md §2.7).
ORIGINAL_ADMIN_NAMES = {
    "Quota", "_Admin", "_Balance", "_CloudProvider", "_Cluster", "_ClusterUser",
    "_ClusterUserRoleType", "_ClusterUserWithInfo", "_ConfigCluster", "_NodePool", "_Org",
    "_OrgCluster", "_OrgUser", "_OrgUserRoleType", "_OrgUserWithInfo", "_Quota", "_Storage",
    "_StorageInstance", "_UserInfo",
}  # fmt: skip
CONSTANT_NAMES = {
    "DEFAULT_API_URL", "DEFAULT_CONFIG_PATH", "CONFIG_ENV_NAME", "PASS_CONFIG_ENV_NAME",
    "DEFAULT_TIMEOUT", "__version__",
}  # fmt: skip


def test_all_is_exactly_the_documented_surface() -> None:
    assert set(neuro_sdk.__all__) == (
        DOCUMENTED_NAMES
        | EXCEPTION_NAMES
        | CONSTANT_NAMES
        | ORIGINAL_IMAGE_NAMES
        | ORIGINAL_ADMIN_NAMES
    )
    assert len(neuro_sdk.__all__) == len(set(neuro_sdk.__all__))


def test_every_exported_name_exists_and_lives_in_a_private_module() -> None:
    for name in neuro_sdk.__all__:
        value = getattr(neuro_sdk, name)
        module = getattr(value, "__module__", None)
        if isinstance(value, type) or callable(value):
            assert module is not None
            assert module.startswith("neuro_sdk._"), (name, module)


def test_exceptions_keep_documented_bases_and_share_one_root() -> None:
    assert issubclass(neuro_sdk.IllegalArgumentError, ValueError)
    assert issubclass(neuro_sdk.ResourceNotFound, ValueError)
    assert issubclass(neuro_sdk.ServerNotAvailable, ValueError)
    assert issubclass(neuro_sdk.ConfigError, RuntimeError)
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
    assert aiohttp.ClientTimeout(total=None, connect=60, sock_read=60) == neuro_sdk.DEFAULT_TIMEOUT


def test_job_status_groups() -> None:
    status = neuro_sdk.JobStatus
    assert status.active_items() == {status.PENDING, status.SUSPENDED, status.RUNNING}
    assert status.finished_items() == {status.SUCCEEDED, status.FAILED, status.CANCELLED}
    assert status.UNKNOWN not in status.items()
    assert status.SUSPENDED.is_pending
    assert str(status.RUNNING) == "running"
