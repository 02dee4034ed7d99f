"""The test support that `make test-fast` relies on: markers by fixture, the Makefile's rule,
and no dockerd needed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from neuro_platform.orchestrator.testing import remove_instance_containers
from neuro_platform.testing import pytest_plugin

REPOSITORY = Path(__file__).resolve().parents[3]


def _fast_tests() -> str:
    """The Makefile's FAST_TESTS, its continuation lines joined."""
    makefile = (REPOSITORY / "Makefile").read_text()
    found = re.search(r"^FAST_TESTS := ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert found is not None
    return " ".join(found.group(1).replace("\\\n", " ").split())


def _write_sample(tmp_path: Path) -> None:
    tmp_path.joinpath("conftest.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture\ndef busybox_image():\n    return 'x'\n\n"
        "@pytest.fixture\ndef uses_an_image(busybox_image):\n    return busybox_image\n\n"
        "@pytest.fixture\ndef seaweed():\n    return 'x'\n\n"
        "@pytest.fixture\ndef buckets_platform_server():\n    return 'x'\n\n"
        "@pytest.fixture\ndef uses_buckets(buckets_platform_server):\n    return 'x'\n\n"
        # After the plugin has marked them: each test's markers, one line each.
        "def pytest_collection_finish(session):\n"
        "    for item in session.items:\n"
        "        names = sorted({m.name for m in item.iter_markers()})\n"
        "        print('MARKERS', item.name, *names)\n"
    )
    tmp_path.joinpath("test_sample.py").write_text(
        "import pytest\n\n"
        "def test_direct(busybox_image):\n    pass\n\n"
        "def test_indirect(uses_an_image):\n    pass\n\n"
        "def test_seaweed(seaweed):\n    pass\n\n"
        "def test_buckets(uses_buckets):\n    pass\n\n"
        "@pytest.mark.registry\ndef test_registry():\n    pass\n\n"
        "def test_plain(tmp_path):\n    pass\n"
    )


def _collected(tmp_path: Path, *options: str) -> dict[str, list[str]]:
    """The sample's tests that `pytest --collect-only OPTIONS` selects, with their markers."""
    # The plugin alone, as a top-level module (its package's __init__ imports the whole
    # platform), and no other plugin: the sample needs none, and they took most of the start.
    plugin = pytest_plugin.__file__
    assert plugin is not None
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(plugin).parent),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    plugins = ["-p", "pytest_plugin", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "--collect-only", "-q", *options, "."],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode in (0, 5), result.stdout + result.stderr  # 5: none selected
    lines = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("MARKERS")]
    return {name: markers for name, *markers in lines}


def _declared_markers() -> list[str]:
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    declared: list[str] = pyproject["tool"]["pytest"]["ini_options"]["markers"]
    return [m.split(":", 1)[0] for m in declared]


def test_make_test_fast_leaves_out_the_tests_of_every_engine(tmp_path: Path) -> None:
    """A test using a fixture that needs dockerd (directly or through another fixture) or
    starts SeaweedFS is marked so by itself; one marked `registry` says so itself."""
    _write_sample(tmp_path)
    assert _collected(tmp_path) == {
        "test_direct": ["docker"],
        "test_indirect": ["docker"],
        "test_seaweed": ["seaweedfs"],
        "test_buckets": ["seaweedfs"],
        "test_registry": ["registry"],
        "test_plain": [],
    }
    # Hostile: a test that needs no engine stays in `make test-fast`, and only it.
    assert list(_collected(tmp_path, "-m", _fast_tests())) == ["test_plain"]


def test_the_makefile_leaves_out_every_declared_engine() -> None:
    """Every marker in the root pyproject names an engine some tests need: test-fast must
    leave each out (and docker, which the plugin declares)."""
    left_out = set(re.findall(r"not (\w+)", _fast_tests()))
    assert left_out == {*_declared_markers(), "docker"}


def test_removing_containers_where_no_engine_answers_removes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    remove_instance_containers("test-no-engine")  # no error: nothing can be left behind there


def test_other_engine_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "not-a-scheme://x")
    with pytest.raises(subprocess.CalledProcessError):
        remove_instance_containers("test-bad-engine-url")
