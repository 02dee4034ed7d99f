"""Session-wide test setup, loaded for every package by `-p` in the root pyproject's addopts.

Tests interrupt CLI processes with SIGINT (Ctrl-C handling, ending `neuro port-forward`). A shell
that starts `make test` in the background makes SIGINT ignored, and an ignored signal stays
ignored in every child process, so those tests would wait forever. Installing Python's handler
here makes children start with the default disposition again.

Every test that uses a fixture which talks to the local dockerd is marked `docker`, so that
`make test-fast` (`-m "not docker and not postgres and not browser and not interop"`) can leave
them out without each test saying so. A test that reaches dockerd some other way says
`@pytest.mark.docker` itself.

The suite runs in parallel (pytest-xdist, `--dist loadgroup`; CONTRIBUTING.md). Each test file
is one xdist group, so a module-scoped server starts once, on one worker, not once per worker
that happens to get some of its tests. The Slurm tests are one group across files: the test
cluster has two small nodes, and its tests fill them, wait for them and cancel jobs on them,
so they run one at a time as they did before. A test that explicitly names an `xdist_group`
keeps it.
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


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config.addinivalue_line(
        "markers", "docker: needs the local dockerd (set for every test using a fixture that does)"
    )


# Before xdist's own hook, which reads the groups to name the tests' scheduling scope.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DOCKER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)
        if item.get_closest_marker("xdist_group") is None:
            group = "slurm" if item.get_closest_marker("slurm") else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))
