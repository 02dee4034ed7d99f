"""The test support that `make test-fast` relies on: markers by fixture, and no dockerd needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from neuro_platform.orchestrator.testing import remove_instance_containers


def _collected(tmp_path: Path, marker: str) -> list[str]:
    tmp_path.joinpath("conftest.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef busybox_image():\n    return 'x'\n\n"
        "@pytest.fixture\ndef uses_an_image(busybox_image):\n    return busybox_image\n"
    )
    tmp_path.joinpath("test_sample.py").write_text(
        "def test_direct(busybox_image):\n    pass\n\n"
        "def test_indirect(uses_an_image):\n    pass\n\n"
        "def test_plain(tmp_path):\n    pass\n"
    )
    plugins = ["-p", "neuro_platform.testing.pytest_plugin", "-p", "no:cacheprovider"]
    options = ["--strict-markers", "--collect-only", "-q", "-m", marker]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, *options, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode in (0, 5), result.stdout + result.stderr  # 5: none selected
    return sorted(line.split("::")[-1] for line in result.stdout.splitlines() if "::" in line)


def test_a_test_using_a_docker_fixture_is_marked_docker(tmp_path: Path) -> None:
    assert _collected(tmp_path, "docker") == ["test_direct", "test_indirect"]
    # Hostile: a test that needs no dockerd stays in `make test-fast`.
    assert _collected(tmp_path, "not docker") == ["test_plain"]


def test_removing_containers_where_no_engine_answers_removes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    remove_instance_containers("test-no-engine")  # no error: nothing can be left behind there


def test_other_engine_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "not-a-scheme://x")
    with pytest.raises(subprocess.CalledProcessError):
        remove_instance_containers("test-bad-engine-url")
