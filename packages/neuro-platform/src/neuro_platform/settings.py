"""Server settings: built once at start-up and passed in, never read from the environment later.

Precedence, lowest first: built-in defaults < TOML file < `NEURO_PLATFORM_*` environment
variables < command-line flags. TOML has no null, so a cluster's `orgs` list spells the
"no org" entry as `"NO_ORG"` (the same spelling the CLI's user config uses).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from limits import parse as parse_rate_limit
from yarl import URL

from .machine import detect_machine, machine_presets
from .presets import Preset

NO_ORG = "NO_ORG"
DEFAULT_CLUSTER = "default"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Generous for data loaders with many workers and threads, far below the kernel's pid_max.
DEFAULT_PIDS_LIMIT = 4096
ENV_PREFIX = "NEURO_PLATFORM_"

# Environment variable suffix -> (TOML section, key, converter).
_ENV_KEYS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "HOST": ("server", "host", str),
    "PORT": ("server", "port", int),
    "PUBLIC_URL": ("server", "public_url", str),
    "DATA_DIR": ("server", "data_dir", str),
    "DATABASE_URL": ("database", "url", str),
    "REGISTRY_URL": ("registry", "url", str),
    "ACCESS_TOKEN_TTL_S": ("auth", "access_token_ttl_s", int),
    "REFRESH_TOKEN_TTL_S": ("auth", "refresh_token_ttl_s", int),
    "STORAGE_ROOT": ("storage", "root", str),
}


class SettingsError(ValueError):
    """The configuration is malformed; the message names the offending key."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url: URL | None = None


@dataclass(frozen=True)
class AuthSettings:
    access_token_ttl_s: int = 24 * 3600
    refresh_token_ttl_s: int = 30 * 24 * 3600
    authorization_code_ttl_s: int = 300
    # Failed password logins allowed per user name and client address (see login_throttle).
    login_failures: str = "10 per 5 minutes"


@dataclass(frozen=True)
class StorageSettings:
    # Each cluster's files live in `<root>/<cluster>`; None means `<data-dir>/storage`.
    root: Path | None = None
    # The most bytes one user's storage folder may hold per cluster, checked when the API
    # writes (CREATE, WRITE, CREATETAR); None means no limit. See `storage/quota.py`.
    max_bytes_per_user: int | None = None


@dataclass(frozen=True)
class NodeSettings:
    """What the one job node (this machine's dockerd) offers; None means "detect"."""

    cpu: float | None = None
    memory: int | None = None  # bytes
    gpu: int | None = None


@dataclass(frozen=True)
class JobsSettings:
    # Jobs a user may have pending or running at once; None means no limit.
    max_running_jobs_per_user: int | None = None
    # Names this installation's containers on the engine; None derives it from the data dir,
    # so two installations (or test servers) on one dockerd never adopt each other's jobs.
    orchestrator_instance: str | None = None
    docker_url: str | None = None
    # How often the scheduler looks at containers when nothing wakes it earlier.
    poll_interval_s: float = 1.0
    # The length of one minute of `max_run_time_minutes`; tests and demos shorten it.
    life_span_minute_s: float = 60.0
    # Where finished runs' output is kept; None means `<data-dir>/job-logs`.
    log_archive_dir: Path | None = None
    # Jobs' HTTP ports are served at `<job id | name--owner>.<http_domain>`, an origin of their
    # own: a job's pages must not share the platform's origin (cookies, framing). Every browser
    # resolves `*.localhost` to loopback; a real deployment points a wildcard DNS record here.
    http_domain: str = "jobs.localhost"
    # The most processes (threads included) one job container may have: a fork bomb in a
    # job stops there instead of exhausting the host's PID space.
    pids_limit: int = DEFAULT_PIDS_LIMIT
    # The address jobs reach the API at: the server also listens there (jobs cannot reach
    # the loopback `[server] host`). "auto": the engine's default bridge gateway (docker0);
    # "off": no such listener, jobs are told the public URL.
    api_host: str = "auto"
    # Its port; None means the server's `port`.
    api_port: int | None = None
    # The API base URL jobs are told (`NEURO_PASSED_CONFIG`); None means
    # `http://<api_host>:<api_port>`, set when the listener is bound.
    api_url: URL | None = None
    # A job's output kept in the archive; past it a marker line says the rest was dropped.
    log_cap_bytes: int = 1024**3


@dataclass(frozen=True)
class DisksSettings:
    # Where disk images and their mount points live; None means `<data-dir>/disks`.
    root: Path | None = None
    # The most bytes of disks one user may hold per cluster; None means no limit.
    max_total_bytes_per_user: int | None = None
    # How often used_bytes is refreshed and unused disks past their life span are deleted.
    refresh_interval_s: float = 60.0


@dataclass(frozen=True)
class RegistrySettings:
    # The registry the first cluster advertises (and clusters without a `registry_url`);
    # None means the platform's public origin, which serves `/v2/` (see registry/).
    url: URL | None = None
    # How often unreferenced blobs are deleted from the private registry (pushes get 503
    # while it runs): daily by default; `neuro-platform admin registry gc` runs it now.
    gc_interval_s: float = 24 * 3600.0
    # Debian's `docker-registry` (distribution 2.8), the private registry the platform runs.
    binary: str = "docker-registry"


@dataclass(frozen=True)
class SlurmSettings:
    """The `[slurm]` table: present, jobs run on this Slurm cluster instead of the local
    dockerd (orchestrator/slurm.py, docs/scale-out.md)."""

    # slurmrestd's unix socket (openapi/v0.0.38) and the JWT the platform sends it.
    restd_socket: Path
    token_file: Path
    # A directory every node and the platform host see at the same path: per-job logs and
    # outcomes, and `images/` (saved images the nodes load instead of pulling).
    shared_dir: Path
    # The Slurm user the token belongs to: jobs run as it (podman needs root, or rootless).
    user: str = "root"
    partition: str | None = None  # None: the cluster's default partition
    # Where preemptible (scheduled) jobs go: a partition Slurm may preempt; None: `partition`.
    preemptible_partition: str | None = None
    # A shell file each job sources on its node before running podman (runtime settings).
    node_env_file: Path | None = None
    # exec/attach run `srun --overlap --jobid` from this host (a login node): the command,
    # and the cluster's slurm.conf when it is not the default one (None: srun's default).
    srun: str = "srun"
    slurm_conf: Path | None = None


@dataclass(frozen=True)
class BucketsSettings:
    """Object storage (docs/buckets-server.md): an embedded SeaweedFS by default, or any S3
    endpoint given with its admin credentials."""

    enabled: bool = True
    # An external S3 endpoint; None means the embedded SeaweedFS (started on first use).
    endpoint_url: URL | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    # The S3 URL clients are told; None means the endpoint (or the embedded one's address).
    public_endpoint_url: URL | None = None
    # The embedded S3 gateway's address: "auto" is the jobs' API host (the engine bridge's
    # gateway, which the host reaches too), else loopback; its port, 0 for a free one.
    s3_host: str = "auto"
    s3_port: int = 0
    binary: str = "weed"
    # Lifetime of `make_tmp_credentials` answers (a revoke ends them at once).
    tmp_credentials_ttl_s: int = 3600
    # `import/external` refuses endpoints on loopback, private, link-local and other
    # non-global addresses (SSRF) unless listed here: host names, IP addresses or networks.
    import_allowed_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterSettings:
    name: str
    orgs: tuple[str | None, ...]
    presets: tuple[Preset, ...]
    registry_url: URL | None = None
    # Service URLs; None means "derive from the public URL" (see config/handlers.py).
    storage_url: URL | None = None
    monitoring_url: URL | None = None
    secrets_url: URL | None = None
    disks_url: URL | None = None
    buckets_url: URL | None = None
    # Privileged containers are root on the host: off unless the operator allows them here,
    # and then only for users granted them (`neuro-platform admin user grant privileged`).
    allow_privileged: bool = False
    # Where this cluster's jobs run: the local dockerd or the `[slurm]` cluster
    # (docs/scale-out.md). Unset: "slurm" when a `[slurm]` table exists, else "docker".
    engine: str = "docker"
    # What the cluster's engine offers (`[clusters.node]`); None: the `[node]` table.
    node: NodeSettings | None = None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    clusters: tuple[ClusterSettings, ...]
    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    storage: StorageSettings = StorageSettings()
    jobs: JobsSettings = JobsSettings()
    node: NodeSettings = NodeSettings()
    disks: DisksSettings = DisksSettings()
    registry: RegistrySettings = RegistrySettings()
    slurm: SlurmSettings | None = None
    buckets: BucketsSettings = BucketsSettings()

    @property
    def registry_url(self) -> URL:
        return self.registry.url or self.public_url

    def cluster_registry_url(self, cluster: ClusterSettings) -> URL:
        return cluster.registry_url or self.registry_url

    @property
    def orchestrator_instance(self) -> str:
        if self.jobs.orchestrator_instance is not None:
            return self.jobs.orchestrator_instance
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()
        return f"p{digest[:12]}"

    @property
    def log_archive_dir(self) -> Path:
        return self.jobs.log_archive_dir or self.data_dir / "job-logs"

    @property
    def public_url(self) -> URL:
        if self.server.public_url is not None:
            return self.server.public_url
        return URL.build(scheme="http", host=self.server.host, port=self.server.port)

    @property
    def jobs_api_url(self) -> URL:
        """The API base URL jobs are told: the jobs' listener, else the public URL."""
        return self.jobs.api_url or self.public_url

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "jwt-signing-key"

    def cluster(self, name: str) -> ClusterSettings | None:
        return next((c for c in self.clusters if c.name == name), None)

    @property
    def all_orgs(self) -> frozenset[str]:
        return frozenset(org for c in self.clusters for org in c.orgs if org is not None)


@dataclass(frozen=True)
class CommandLineOverrides:
    data_dir: Path | None = None
    host: str | None = None
    port: int | None = None


def default_data_dir(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path(env.get("HOME", str(Path.home()))) / ".local" / "share"
    return base / "neuro-platform"


def load_settings(
    config_file: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: CommandLineOverrides = CommandLineOverrides(),
) -> Settings:
    env = os.environ if env is None else env
    raw = _read_toml(config_file) if config_file is not None else {}
    _apply_env(raw, env)
    _apply_overrides(raw, overrides)
    return _build(raw, env)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise SettingsError(f"cannot read config file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"config file {path} is not valid TOML: {e}") from e


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for suffix, (section, key, convert) in _ENV_KEYS.items():
        name = ENV_PREFIX + suffix
        if name in env:
            try:
                value = convert(env[name])
            except ValueError as e:
                raise SettingsError(f"environment variable {name}: {e}") from e
            _section(raw, section)[key] = value


def _apply_overrides(raw: dict[str, Any], overrides: CommandLineOverrides) -> None:
    server = _section(raw, "server")
    if overrides.data_dir is not None:
        server["data_dir"] = str(overrides.data_dir)
    if overrides.host is not None:
        server["host"] = overrides.host
    if overrides.port is not None:
        server["port"] = overrides.port


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    section = raw.setdefault(name, {})
    if not isinstance(section, dict):
        raise SettingsError(f"[{name}] must be a table")
    return section


def _build(raw: dict[str, Any], env: Mapping[str, str]) -> Settings:
    unknown = set(raw) - {
        "server",
        "database",
        "auth",
        "registry",
        "clusters",
        "storage",
        "jobs",
        "node",
        "disks",
        "slurm",
        "buckets",
    }
    if unknown:
        raise SettingsError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    server = _Table(_section(raw, "server"), "[server]")
    data_dir = Path(server.text("data_dir", str(default_data_dir(env)))).expanduser()
    public_url = server.optional_text("public_url")
    server_settings = ServerSettings(
        host=server.text("host", DEFAULT_HOST),
        port=server.integer("port", DEFAULT_PORT, minimum=0, maximum=65535),
        public_url=_http_url(public_url, "[server] public_url") if public_url else None,
    )
    server.reject_unknown()

    database = _Table(_section(raw, "database"), "[database]")
    database_url = database.text("url", f"sqlite+aiosqlite:///{data_dir / 'platform.db'}")
    database.reject_unknown()

    auth = _Table(_section(raw, "auth"), "[auth]")
    auth_settings = AuthSettings(
        access_token_ttl_s=auth.integer("access_token_ttl_s", AuthSettings.access_token_ttl_s, 1),
        refresh_token_ttl_s=auth.integer(
            "refresh_token_ttl_s", AuthSettings.refresh_token_ttl_s, 1
        ),
        authorization_code_ttl_s=auth.integer(
            "authorization_code_ttl_s", AuthSettings.authorization_code_ttl_s, 1
        ),
        login_failures=_rate_limit(
            auth.text("login_failures", AuthSettings.login_failures), "[auth] login_failures"
        ),
    )
    auth.reject_unknown()

    registry = _registry(_Table(_section(raw, "registry"), "[registry]"))

    storage = _Table(_section(raw, "storage"), "[storage]")
    storage_root = storage.optional_text("root")
    storage_quota = storage.get("max_bytes_per_user")
    if storage_quota is not None:
        storage_quota = storage.integer("max_bytes_per_user", 0, minimum=1)
    storage.reject_unknown()

    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        clusters=_clusters(raw.get("clusters"), has_slurm=raw.get("slurm") is not None),
        server=server_settings,
        auth=auth_settings,
        storage=StorageSettings(
            root=Path(storage_root).expanduser() if storage_root else None,
            max_bytes_per_user=storage_quota,
        ),
        jobs=_jobs(_Table(_section(raw, "jobs"), "[jobs]")),
        node=_node(_Table(_section(raw, "node"), "[node]")),
        disks=_disks(_Table(_section(raw, "disks"), "[disks]")),
        registry=registry,
        slurm=_slurm(raw.get("slurm")),
        buckets=_buckets(_Table(_section(raw, "buckets"), "[buckets]")),
    )


def _slurm(raw: Any) -> SlurmSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SettingsError("[slurm] must be a table")
    table = _Table(raw, "[slurm]")

    def path(key: str) -> Path:
        value = table.optional_text(key)
        if not value:
            raise SettingsError(f"[slurm] {key} is required")
        return Path(value).expanduser()

    node_env = table.optional_text("node_env_file")
    slurm_conf = table.optional_text("slurm_conf")
    slurm = SlurmSettings(
        restd_socket=path("restd_socket"),
        token_file=path("token_file"),
        shared_dir=path("shared_dir"),
        user=table.text("user", SlurmSettings.user),
        partition=table.optional_text("partition"),
        preemptible_partition=table.optional_text("preemptible_partition"),
        node_env_file=Path(node_env).expanduser() if node_env else None,
        srun=table.text("srun", SlurmSettings.srun),
        slurm_conf=Path(slurm_conf).expanduser() if slurm_conf else None,
    )
    table.reject_unknown()
    return slurm


def _registry(table: _Table) -> RegistrySettings:
    url = table.optional_text("url")
    registry = RegistrySettings(
        url=_http_url(url, "[registry] url") if url else None,
        gc_interval_s=table.number("gc_interval_s", RegistrySettings.gc_interval_s, 1.0),
        binary=table.text("binary", RegistrySettings.binary),
    )
    table.reject_unknown()
    return registry


def _allowed_hosts(value: Any) -> tuple[str, ...]:
    where = "[buckets] import_allowed_hosts"
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SettingsError(f"{where} must be a list of host names, IP addresses or networks")
    hosts = []
    for entry in value:
        try:
            hosts.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            name = entry.strip().lower().rstrip(".")
            if not re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?", name):
                raise SettingsError(
                    f"{where}: {entry!r} is no host name, address or network"
                ) from None
            hosts.append(name)
    return tuple(hosts)


def _buckets(table: _Table) -> BucketsSettings:
    endpoint = table.optional_text("endpoint_url")
    public = table.optional_text("public_endpoint_url")
    s3_host = table.text("s3_host", BucketsSettings.s3_host)
    if s3_host != "auto":
        try:
            ipaddress.ip_address(s3_host)
        except ValueError:
            raise SettingsError('[buckets] s3_host must be "auto" or an IP address') from None
    buckets = BucketsSettings(
        enabled=table.boolean("enabled", True),
        endpoint_url=_http_url(endpoint, "[buckets] endpoint_url") if endpoint else None,
        region=table.text("region", BucketsSettings.region),
        access_key_id=table.optional_text("access_key_id"),
        secret_access_key=table.optional_text("secret_access_key"),
        public_endpoint_url=_http_url(public, "[buckets] public_endpoint_url") if public else None,
        s3_host=s3_host,
        s3_port=table.integer("s3_port", 0, minimum=0, maximum=65535),
        binary=table.text("binary", BucketsSettings.binary),
        tmp_credentials_ttl_s=table.integer(
            "tmp_credentials_ttl_s", BucketsSettings.tmp_credentials_ttl_s, minimum=1
        ),
        import_allowed_hosts=_allowed_hosts(table.get("import_allowed_hosts", [])),
    )
    if buckets.endpoint_url is not None and not (
        buckets.access_key_id and buckets.secret_access_key
    ):
        raise SettingsError("[buckets] endpoint_url needs access_key_id and secret_access_key")
    table.reject_unknown()
    return buckets


def _rate_limit(text: str, where: str) -> str:
    try:
        if parse_rate_limit(text).amount < 1:
            raise ValueError(text)
    except ValueError:
        raise SettingsError(f'{where}: {text!r} is not a rate such as "10 per 5 minutes"') from None
    return text


def _disks(table: _Table) -> DisksSettings:
    limit = table.get("max_total_bytes_per_user")
    if limit is not None:
        limit = table.integer("max_total_bytes_per_user", 0, minimum=1)
    root = table.optional_text("root")
    disks = DisksSettings(
        root=Path(root).expanduser() if root else None,
        max_total_bytes_per_user=limit,
        refresh_interval_s=table.number(
            "refresh_interval_s", DisksSettings.refresh_interval_s, 0.05
        ),
    )
    table.reject_unknown()
    return disks


def _jobs(table: _Table) -> JobsSettings:
    quota = table.get("max_running_jobs_per_user")
    if quota is not None and (not isinstance(quota, int) or isinstance(quota, bool) or quota < 1):
        raise SettingsError("[jobs] max_running_jobs_per_user must be a positive integer")
    archive = table.optional_text("log_archive_dir")
    api_port = table.get("api_port")
    if api_port is not None:
        api_port = table.integer("api_port", 0, minimum=0, maximum=65535)
    api_url = table.optional_text("api_url")
    jobs = JobsSettings(
        max_running_jobs_per_user=quota,
        orchestrator_instance=table.optional_text("orchestrator_instance"),
        docker_url=table.optional_text("docker_url"),
        poll_interval_s=table.number("poll_interval_s", JobsSettings.poll_interval_s, 0.05),
        life_span_minute_s=table.number("life_span_minute_s", JobsSettings.life_span_minute_s, 0.1),
        log_archive_dir=Path(archive).expanduser() if archive else None,
        http_domain=_domain(
            table.text("http_domain", JobsSettings.http_domain), "[jobs] http_domain"
        ),
        pids_limit=table.integer("pids_limit", DEFAULT_PIDS_LIMIT, minimum=16),
        api_host=_api_host(table.text("api_host", JobsSettings.api_host)),
        api_port=api_port,
        api_url=_http_url(api_url, "[jobs] api_url") if api_url else None,
        log_cap_bytes=table.integer("log_cap_bytes", JobsSettings.log_cap_bytes, minimum=1),
    )
    table.reject_unknown()
    return jobs


_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _domain(text: str, where: str) -> str:
    """A lowercase DNS name of at least two labels (no scheme, port or wildcard)."""
    labels = text.split(".")
    if len(labels) < 2 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise SettingsError(f"{where} must be a lowercase domain name like jobs.example.org")
    return text


def _api_host(text: str) -> str:
    if text not in ("auto", "off"):
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise SettingsError(
                f'[jobs] api_host must be "auto", "off" or an IP address, got {text!r}'
            ) from None
    return text


def _node(table: _Table) -> NodeSettings:
    cpu = table.get("cpu")
    if cpu is not None and (not isinstance(cpu, int | float) or isinstance(cpu, bool) or cpu <= 0):
        raise SettingsError(f"{table._where} cpu must be a positive number")
    memory = table.get("memory")
    if memory is not None:
        memory = table.integer("memory", 0, minimum=16 * 1024**2)
    gpu = table.get("gpu")
    if gpu is not None:
        gpu = table.integer("gpu", 0, minimum=0)
    table.reject_unknown()
    return NodeSettings(cpu=None if cpu is None else float(cpu), memory=memory, gpu=gpu)


ENGINES = ("docker", "slurm")


def _clusters(value: Any, *, has_slurm: bool) -> tuple[ClusterSettings, ...]:
    # Before engines were per cluster, a `[slurm]` table sent every job there: it still does
    # for a cluster that names no engine.
    default_engine = "slurm" if has_slurm else "docker"
    if value is None:
        return (
            ClusterSettings(
                name=DEFAULT_CLUSTER,
                orgs=(None,),
                presets=machine_presets(detect_machine()),
                engine=default_engine,
            ),
        )
    if not isinstance(value, list) or not value:
        raise SettingsError("[[clusters]] must be a non-empty array of tables")
    clusters = tuple(
        _cluster(item, index, default_engine, has_slurm) for index, item in enumerate(value)
    )
    names = [c.name for c in clusters]
    if len(set(names)) != len(names):
        raise SettingsError("[[clusters]] names must be unique")
    return clusters


_CLUSTER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def _cluster(value: Any, index: int, default_engine: str, has_slurm: bool) -> ClusterSettings:
    if not isinstance(value, dict):
        raise SettingsError(f"clusters[{index}] must be a table")
    table = _Table(value, f"clusters[{index}]")
    name = table.text("name", "")
    if not name:
        raise SettingsError(f"clusters[{index}] needs a name")
    if not _CLUSTER_NAME.fullmatch(name):
        # It names folders (storage, job host names) and stands in `storage://` URIs.
        raise SettingsError(
            f"clusters[{index}] name {name!r}: use lowercase letters, digits and '-'"
        )
    orgs_raw = table.get("orgs", [NO_ORG])
    if (
        not isinstance(orgs_raw, list)
        or not orgs_raw
        or not all(isinstance(o, str) and o for o in orgs_raw)
    ):
        raise SettingsError(f"clusters[{index}] orgs must be a non-empty list of names")
    presets_raw = table.get("presets")
    if presets_raw is None:
        presets = machine_presets(detect_machine())
    elif isinstance(presets_raw, list) and presets_raw:
        presets = tuple(
            _preset(p, f"clusters[{index}].presets[{i}]") for i, p in enumerate(presets_raw)
        )
    else:
        raise SettingsError(f"clusters[{index}] presets must be a non-empty array of tables")

    def url(key: str) -> URL | None:
        text = table.optional_text(key)
        return _http_url(text, f"clusters[{index}] {key}") if text else None

    cluster = ClusterSettings(
        name=name,
        orgs=tuple(None if o == NO_ORG else o for o in orgs_raw),
        presets=presets,
        registry_url=url("registry_url"),
        storage_url=url("storage_url"),
        monitoring_url=url("monitoring_url"),
        secrets_url=url("secrets_url"),
        disks_url=url("disks_url"),
        buckets_url=url("buckets_url"),
        allow_privileged=table.boolean("allow_privileged", False),
        engine=_engine(table, index, default_engine, has_slurm),
        node=_cluster_node(table, index),
    )
    table.reject_unknown()
    return cluster


def _engine(table: _Table, index: int, default: str, has_slurm: bool) -> str:
    engine = table.text("engine", default)
    if engine not in ENGINES:
        raise SettingsError(f"clusters[{index}] engine must be one of: {', '.join(ENGINES)}")
    if engine == "slurm" and not has_slurm:
        raise SettingsError(f'clusters[{index}] engine "slurm" needs a [slurm] table')
    return engine


def _cluster_node(table: _Table, index: int) -> NodeSettings | None:
    raw = table.get("node")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SettingsError(f"clusters[{index}].node must be a table")
    return _node(_Table(raw, f"clusters[{index}].node"))


def _preset(value: Any, where: str) -> Preset:
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a table")
    table = _Table(value, where)
    name = table.text("name", "")
    if not name:
        raise SettingsError(f"{where} needs a name")
    cpu = table.get("cpu")
    if not isinstance(cpu, int | float) or isinstance(cpu, bool) or cpu < 0.1:
        raise SettingsError(f"{where} cpu must be a number >= 0.1")
    credits = table.get("credits_per_hour", "0")
    try:
        credits_per_hour = Decimal(str(credits))
    except InvalidOperation as e:
        raise SettingsError(f"{where} credits_per_hour must be a decimal number") from e
    gpu = table.get("gpu")
    if gpu is not None and (not isinstance(gpu, int) or isinstance(gpu, bool) or gpu < 1):
        raise SettingsError(f"{where} gpu must be a positive integer")
    preset = Preset(
        name=name,
        cpu=float(cpu),
        memory=table.integer("memory", 0, minimum=16 * 1024**2),
        gpu=gpu,
        gpu_model=table.optional_text("gpu_model"),
        credits_per_hour=credits_per_hour,
        scheduler_enabled=table.boolean("scheduler_enabled", False),
        preemptible_node=table.boolean("preemptible_node", False),
    )
    table.reject_unknown()
    return preset


def _http_url(text: str, where: str) -> URL:
    url = URL(text)
    if url.scheme not in ("http", "https") or not url.host:
        raise SettingsError(f"{where} must be an http(s) URL, got {text!r}")
    return url


class _Table:
    """Typed access to one TOML table that remembers which keys were read."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self._data = data
        self._where = where
        self._seen: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self._seen.add(key)
        return self._data.get(key, default)

    def text(self, key: str, default: str) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise SettingsError(f"{self._where} {key} must be a string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.get(key)
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"{self._where} {key} must be a string")
        return value

    def integer(self, key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        value = self.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise SettingsError(f"{self._where} {key} must be an integer")
        if value < minimum or (maximum is not None and value > maximum):
            raise SettingsError(f"{self._where} {key} is out of range: {value}")
        return value

    def number(self, key: str, default: float, minimum: float) -> float:
        value = self.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
            raise SettingsError(f"{self._where} {key} must be a number >= {minimum}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise SettingsError(f"{self._where} {key} must be true or false")
        return value

    def reject_unknown(self) -> None:
        unknown = set(self._data) - self._seen
        if unknown:
            raise SettingsError(f"{self._where}: unknown key(s) {', '.join(sorted(unknown))}")
