"""Where the server listens for jobs, and what URL jobs are told."""

from __future__ import annotations

from pathlib import Path

from neuro_platform.jobs.api_listener import bind_jobs_listener
from neuro_platform.settings import Settings, load_settings


def settings(tmp_path: Path, server: str, jobs: str) -> Settings:
    path = tmp_path / "platform.toml"
    path.write_text(f"[server]\n{server}\n[jobs]\n{jobs}\n")
    return load_settings(path, env={})


def test_the_listener_binds_the_configured_address_and_jobs_are_told_it(tmp_path: Path) -> None:
    sock, resolved = bind_jobs_listener(
        settings(tmp_path, "port = 8080", "api_host = '127.0.0.3'\napi_port = 0")
    )
    assert sock is not None
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.3"
        assert str(resolved.jobs_api_url) == f"http://127.0.0.3:{port}"
    finally:
        sock.close()


def test_off_keeps_the_public_url(tmp_path: Path) -> None:
    sock, resolved = bind_jobs_listener(settings(tmp_path, "port = 8080", "api_host = 'off'"))

    assert sock is None
    assert str(resolved.jobs_api_url) == "http://127.0.0.1:8080"


def test_a_server_on_every_address_needs_no_second_listener(tmp_path: Path) -> None:
    # Binding the jobs' address first would keep the main listener from binding its port.
    sock, resolved = bind_jobs_listener(
        settings(tmp_path, "host = '0.0.0.0'\nport = 8080", "api_host = '10.9.8.7'")
    )

    assert sock is None
    assert str(resolved.jobs_api_url) == "http://10.9.8.7:8080"


def test_an_explicit_url_wins(tmp_path: Path) -> None:
    sock, resolved = bind_jobs_listener(
        settings(
            tmp_path,
            "port = 0",
            "api_host = '127.0.0.3'\napi_url = 'https://api.example.com'",
        )
    )
    assert sock is not None
    sock.close()
    assert str(resolved.jobs_api_url) == "https://api.example.com"
