"""Session-wide test setup, loaded for every package by `-p` in the root pyproject's addopts.

Tests interrupt CLI processes with SIGINT (Ctrl-C handling, ending `neuro port-forward`). A shell
that starts `make test` in the background makes SIGINT ignored, and an ignored signal stays
ignored in every child process, so those tests would wait forever. Installing Python's handler
here makes children start with the default disposition again.

Every test that uses a fixture which talks to the local dockerd is marked `docker`, so that
`make test-fast` (`-m "not docker and not postgres and not browser and not interop"`) can leave
them out without each test saying so. A test that reaches dockerd some other way says
`@pytest.mark.docker` itself.

A test marked `both_orchestrators` that uses `jobs_platform_server` (or the jobs tests'
`shared_server`) runs twice, `[docker]` and `[slurm]` (jobs on the Slurm test cluster; that
variant is also marked `slurm`): for what a job offers users, which must behave the same on
both (docs/scale-out.md).
"""

from __future__ import annotations

import signal

import pytest

# The fixtures (of any package's tests) that need dockerd: images, orchestrators, job servers.
DOCKER_FIXTURES = frozenset(
    {
        "busybox_image",
        "debian_image",
        "cli_image",
        "instance",
        "orchestrator",
        "make_server",
        "shared_server",
        "jobs_platform_server",
    }
)

# The server fixtures that `both_orchestrators` parametrizes (testing/fixtures.py, the jobs
# tests' conftest), and their variants.
BOTH_ORCHESTRATORS = ("jobs_platform_server", "shared_server")
ORCHESTRATORS = ("docker", "slurm")


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config.addinivalue_line(
        "markers", "docker: needs the local dockerd (set for every test using a fixture that does)"
    )
    config.addinivalue_line(
        "markers",
        "both_orchestrators: run with jobs_platform_server on dockerd and on the Slurm cluster",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not metafunc.definition.get_closest_marker("both_orchestrators"):
        return
    for server in BOTH_ORCHESTRATORS:
        if server in metafunc.fixturenames:
            metafunc.parametrize(server, ORCHESTRATORS, indirect=True, scope="module")
            return


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DOCKER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "slurm" in (params.get(server) for server in BOTH_ORCHESTRATORS):
            item.add_marker(pytest.mark.slurm)
