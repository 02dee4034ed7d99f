"""Session-wide test setup, loaded for every package by `-p` in the root pyproject's addopts.

Tests interrupt CLI processes with SIGINT (Ctrl-C handling, ending `neuro port-forward`). A shell
that starts `make test` in the background makes SIGINT ignored, and an ignored signal stays
ignored in every child process, so those tests would wait forever. Installing Python's handler
here makes children start with the default disposition again.

Every test that uses a fixture which talks to the local dockerd is marked `docker`, and every
test that uses a fixture which starts SeaweedFS is marked `seaweedfs`, so that `make test-fast`
(which leaves out every engine's marker: the Makefile's FAST_TESTS) can leave them out without
each test saying so. A test that reaches an engine some other way says so itself
(`@pytest.mark.docker`, `@pytest.mark.seaweedfs`, `@pytest.mark.registry`).

The suite runs in parallel (pytest-xdist, `-n 4 --dist loadfile`; CONTRIBUTING.md): each test
file is one unit of work, so a module-scoped server starts once, on one worker, not once per
worker that happens to get some of its tests. The Slurm tests (everything under a `tests/slurm/`
folder, and the `[slurm]` variants of `both_orchestrators` tests) are one unit across files:
the test cluster has two small nodes, and its tests fill them, wait for them and cancel jobs on
them, so they run one at a time, as before. That is
this plugin's scheduler, not `xdist_group` marks: with pytest 9.2, xdist 3.8's `loadgroup`
ignores them (pytest-dev/pytest-xdist#1386). `make test` runs everything else in parallel
first (`--slurm-unit skip`), then the Slurm unit alone (`--slurm-unit only`): run beside the
other workers, at a load of 6-9 on two cores, its interactive steps (`srun --pty`) timed out
in four clean-clone runs out of six.

A parallel run's temporary files go under a short `/tmp/nt-XXXXXXXX/` instead of
`/tmp/pytest-of-USER/pytest-N/`: each worker's own folder (`popen-gwN/`) made a server's
`<data dir>/registry/registry.sock` longer than a unix socket path may be (107 bytes) for tests
with long names, and the registry then answers 503. The folder is removed when every test
passed, and kept, for its logs, when one failed.

A test marked `both_orchestrators` that uses `jobs_platform_server` (or the jobs tests'
`shared_server`) runs twice, `[docker]` and `[slurm]` (jobs on the Slurm test cluster; that
variant is also marked `slurm`): for what a job offers users, which must behave the same on
both (docs/scale-out.md).
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from typing import Any

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
        "console_server",
        "docker_cli",
    }
)

# The fixtures (of any package's tests) that start the embedded SeaweedFS.
SEAWEEDFS_FIXTURES = frozenset({"seaweed", "buckets_platform_server"})

# The server fixtures that `both_orchestrators` parametrizes (testing/fixtures.py, the jobs
# tests' conftest), and their variants.
BOTH_ORCHESTRATORS = ("jobs_platform_server", "shared_server")
ORCHESTRATORS = ("docker", "slurm")


# The Slurm tests' folder, wherever a test run's root is.
SLURM_TESTS = "/tests/slurm/"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slurm-unit",
        choices=("only", "skip"),
        default=None,
        help="run only the Slurm unit (see in_slurm_unit), or everything but it",
    )


def in_slurm_unit(nodeid: str) -> bool:
    """The tests that use the Slurm test cluster's nodes, which run one at a time."""
    return SLURM_TESTS in f"/{nodeid.split('::', 1)[0]}" or nodeid.endswith("[slurm]")


# Before pytest's tmp_path plugin reads `--basetemp`.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if _parallel_controller(config) and not config.option.basetemp:
        config.option.basetemp = config.stash[_SHORT_BASETEMP] = tempfile.mkdtemp(prefix="nt-")
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    basetemp = session.config.stash.get(_SHORT_BASETEMP, None)
    if basetemp is not None and exitstatus == pytest.ExitCode.OK:
        shutil.rmtree(basetemp, ignore_errors=True)


_SHORT_BASETEMP = pytest.StashKey[str]()


def _parallel_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to xdist workers (not in a worker)."""
    workers = config.getoption("numprocesses", None)
    return bool(workers) and workers != "0" and not hasattr(config, "workerinput")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if DOCKER_FIXTURES.intersection(fixtures):
            item.add_marker(pytest.mark.docker)
        if SEAWEEDFS_FIXTURES.intersection(fixtures):
            item.add_marker(pytest.mark.seaweedfs)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "slurm" in (params.get(server) for server in BOTH_ORCHESTRATORS):
            item.add_marker(pytest.mark.slurm)
    unit = config.getoption("slurm_unit")
    if unit is not None:
        wanted = unit == "only"
        deselected = [item for item in items if in_slurm_unit(item.nodeid) != wanted]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if in_slurm_unit(item.nodeid) == wanted]


# Before xdist's own implementation, which would answer `--dist loadfile` with plain files.
@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FilesAndSlurm(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if in_slurm_unit(nodeid):
                return "slurm"
            return str(super()._split_scope(nodeid))

    return FilesAndSlurm(config, log)
