"""Settings precedence: defaults < TOML file < NEURO_PLATFORM_* environment < flags."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from yarl import URL

from neuro_platform.settings import (
    CommandLineOverrides,
    SettingsError,
    load_settings,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "platform.toml"
    path.write_text(text)
    return path


def test_defaults_use_xdg_data_dir_sqlite_and_loopback(tmp_path: Path) -> None:
    settings = load_settings(None, env={"XDG_DATA_HOME": str(tmp_path)})
    assert settings.data_dir == tmp_path / "neuro-platform"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/neuro-platform/platform.db"
    assert settings.public_url == URL("http://127.0.0.1:8080")
    assert [c.name for c in settings.clusters] == ["default"]
    assert settings.clusters[0].orgs == (None,)
    assert [p.name for p in settings.clusters[0].presets][:3] == [
        "cpu-small",
        "cpu-medium",
        "cpu-large",
    ]


def test_job_logs_keep_a_gibibyte_unless_configured(tmp_path: Path) -> None:
    assert load_settings(None, env={}).jobs.log_cap_bytes == 1024**3
    config = write(tmp_path, "[jobs]\nlog_cap_bytes = 1048576")
    assert load_settings(config, env={}).jobs.log_cap_bytes == 1024**2


def test_toml_then_env_then_flags_take_precedence(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[server]
host = "0.0.0.0"
port = 9000
data_dir = "/from/toml"
public_url = "https://neuro.example.org"
[database]
url = "postgresql+asyncpg://u:p@db/neuro"
[auth]
access_token_ttl_s = 60
""",
    )
    from_toml = load_settings(config, env={})
    assert from_toml.server.port == 9000
    assert from_toml.data_dir == Path("/from/toml")
    assert from_toml.database_url == "postgresql+asyncpg://u:p@db/neuro"
    assert from_toml.auth.access_token_ttl_s == 60
    assert from_toml.public_url == URL("https://neuro.example.org")

    env = {"NEURO_PLATFORM_PORT": "9100", "NEURO_PLATFORM_DATA_DIR": "/from/env"}
    from_env = load_settings(config, env=env)
    assert (from_env.server.port, from_env.data_dir) == (9100, Path("/from/env"))
    assert from_env.server.host == "0.0.0.0"

    flags = CommandLineOverrides(data_dir=Path("/from/flag"), port=9200)
    from_flags = load_settings(config, env=env, overrides=flags)
    assert (from_flags.server.port, from_flags.data_dir) == (9200, Path("/from/flag"))


def test_clusters_orgs_and_presets_from_toml(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[[clusters]]
name = "main"
orgs = ["NO_ORG", "acme"]
[[clusters.presets]]
name = "gpu"
cpu = 8
memory = 34359738368
gpu = 1
gpu_model = "nvidia-a100"
credits_per_hour = "2.5"
""",
    )
    [cluster] = load_settings(config, env={}).clusters
    assert cluster.orgs == (None, "acme")
    [preset] = cluster.presets
    assert (preset.cpu, preset.memory_mb, preset.gpu, preset.gpu_model) == (
        8.0,
        32768,
        1,
        "nvidia-a100",
    )
    assert preset.credits_per_hour == Decimal("2.5")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server\nport = 1", "not valid TOML"),
        ("[server]\nport = 'eighty'", "[server] port must be an integer"),
        ("[server]\nprot = 80", "unknown key(s) prot"),
        ("[sever]\nport = 80", "unknown config section(s): sever"),
        ("[[clusters]]\nname = 'a'\n[[clusters.presets]]\nname = 'p'\ncpu = 0", "cpu must be"),
        ("[[clusters]]\nname = 'a'\n[[clusters]]\nname = 'a'", "names must be unique"),
        ("[[clusters]]\nname = '../x'", "name '../x': use lowercase letters"),
        ("[registry]\nurl = 'ftp://x'", "must be an http(s) URL"),
        ("[auth]\nlogin_failures = 'often'", "[auth] login_failures: 'often' is not a rate"),
        ("[auth]\nlogin_failures = '0 per minute'", "is not a rate"),
        ("[jobs]\napi_host = 'docker0 0.0.0.0'", "[jobs] api_host must be"),
        ("[jobs]\napi_port = 70000", "[jobs] api_port is out of range"),
        ("[jobs]\napi_url = 'file:///x'", "[jobs] api_url must be an http(s) URL"),
        ("[jobs]\nlog_cap_bytes = 0", "[jobs] log_cap_bytes is out of range: 0"),
        ("[jobs]\nlog_cap_bytes = '1G'", "[jobs] log_cap_bytes must be an integer"),
        ("[buckets]\nendpoint = 'http://s3'", "[buckets]: unknown key(s) endpoint"),
        ("[buckets]\nendpoint_url = 'http://s3'", "endpoint_url needs access_key_id"),
        ("[buckets]\nendpoint_url = 's3.example.org'", "[buckets] endpoint_url must be an http"),
        ("[buckets]\ns3_host = 'localhost'", '[buckets] s3_host must be "auto" or an IP'),
        ("[buckets]\ntmp_credentials_ttl_s = 0", "tmp_credentials_ttl_s is out of range"),
        ("[buckets]\nimport_allowed_hosts = '10.0.0.0/8'", "import_allowed_hosts must be a list"),
        ("[buckets]\nimport_allowed_hosts = ['a b']", "'a b' is no host name"),
    ],
)
def test_malformed_config_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(write(tmp_path, text), env={})


def test_malformed_environment_value_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="NEURO_PLATFORM_PORT"):
        load_settings(None, env={"NEURO_PLATFORM_PORT": "http"})


def test_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read config file"):
        load_settings(tmp_path / "absent.toml", env={})


def test_the_jobs_api_address_is_configurable(tmp_path: Path) -> None:
    text = "[jobs]\napi_host = '10.1.2.3'\napi_port = 9000\napi_url = 'http://gw.example:81'"
    settings = load_settings(write(tmp_path, text), env={})

    assert (settings.jobs.api_host, settings.jobs.api_port) == ("10.1.2.3", 9000)
    assert str(settings.jobs_api_url) == "http://gw.example:81"
    assert load_settings(None, env={}).jobs.api_host == "auto"


def test_buckets_default_to_the_embedded_store_or_take_an_endpoint(tmp_path: Path) -> None:
    embedded = load_settings(None, env={}).buckets
    assert (embedded.enabled, embedded.endpoint_url, embedded.s3_host) == (True, None, "auto")
    text = (
        "[buckets]\nendpoint_url = 'https://s3.example.org'\nregion = 'eu-1'\n"
        "access_key_id = 'AK'\nsecret_access_key = 'SK'"
    )
    external = load_settings(write(tmp_path, text), env={}).buckets
    assert str(external.endpoint_url) == "https://s3.example.org"
    assert (external.region, external.access_key_id, external.secret_access_key) == (
        "eu-1",
        "AK",
        "SK",
    )
