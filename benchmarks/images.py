"""Image push/pull benchmark: docker through our `/v2/` endpoint against docker straight to
the same kind of private registry, same run, same image.

Builds a ~200 MB image offline (`neuro-base/debian:bookworm` plus one layer of random bytes),
then per round and per side starts from empty storage (so no blob is already there), and
times `docker push` and then `docker pull` of the image after removing it locally. The
endpoint side is a fresh platform server; the platform's own registry listens on a unix
socket that docker cannot use, so the direct side is a `docker-registry serve` of its own
with the platform's config (`RegistryFiles.write_config`) but a TCP loopback listener. Sides
take turns each round; prints each round, the medians, the spread (max - min) and the ratio
endpoint/direct (target: at most 1.10). Not a test: run it by hand,

    uv run python benchmarks/images.py                # 2 rounds, 200 MB
    uv run python benchmarks/images.py --rounds 1 --size-mb 50
"""

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from neuro_platform.registry.private import RegistryFiles
from neuro_platform.testing.server import running_platform

BASE = "neuro-base/debian:bookworm"
LOCAL = "neuro-bench/images:local"


def docker(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, env=env, input=stdin, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def build_image(work: Path, size_mb: int) -> None:
    (work / "random.bin").write_bytes(os.urandom(size_mb * 1024 * 1024))
    (work / "Dockerfile").write_text(f"FROM {BASE}\nCOPY random.bin /random.bin\n")
    docker("build", "-q", "-t", LOCAL, str(work))


def timed(*args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    docker(*args, env=env)
    return time.perf_counter() - start


def measure(ref: str, env: dict[str, str]) -> tuple[float, float]:
    """(push s, pull s) of LOCAL as `ref`; LOCAL exists again afterwards."""
    docker("tag", LOCAL, ref)
    push = timed("push", ref, env=env)
    docker("rmi", ref, LOCAL)  # the layers go: the pull must fetch them
    try:
        pull = timed("pull", ref, env=env)
    finally:
        docker("tag", ref, LOCAL)
        docker("rmi", ref)
    return push, pull


@contextlib.contextmanager
def direct_registry(root: Path) -> Iterator[str]:
    """`docker-registry serve` over an empty `root` on a free loopback port: `host:port`."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    files = RegistryFiles(root)
    files.write_config(tcp_address=address)
    # Its log (a line per 404 of a blob not pushed yet) goes to a file, as the platform's does.
    with (root / "registry.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", str(files.config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}/v2/", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the direct registry did not start") from None
                time.sleep(0.05)
        yield address
    finally:
        process.terminate()
        process.wait(10)


def one_round(work: Path, side: str, index: int) -> tuple[float, float]:
    env = {**os.environ, "DOCKER_CONFIG": str(work / f"docker-{side}-{index}")}
    if side == "direct":
        with direct_registry(work / f"direct-{index}") as address:
            return measure(f"{address}/default/alice/bench:v{index}", env)
    with running_platform(work / f"{side}-{index}", users={"alice": "alice-password"}) as server:
        host = f"{server.base_url.host}:{server.base_url.port}"
        docker(
            "login",
            "-u",
            "token",
            "--password-stdin",
            host,
            env=env,
            stdin=server.issue_token("alice"),
        )
        return measure(f"{host}/alice/bench:v{index}", env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size-mb", type=int, default=200)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"direct": [], "endpoint": []}
    with tempfile.TemporaryDirectory(prefix="images-bench-") as tmp:
        work = Path(tmp)
        build_image(work, args.size_mb)
        try:
            for index in range(args.rounds):
                order = ("direct", "endpoint") if index % 2 == 0 else ("endpoint", "direct")
                for side in order:
                    push, pull = one_round(work, side, index)
                    results[side].append((push, pull))
                    print(
                        f"round {index} {side:8}: push {push:6.2f} s  pull {pull:6.2f} s",
                        flush=True,
                    )
        finally:
            subprocess.run(["docker", "rmi", LOCAL], capture_output=True, check=False)
    medians = {
        side: (statistics.median(p for p, _ in r), statistics.median(q for _, q in r))
        for side, r in results.items()
    }
    for side, (push, pull) in medians.items():
        pushes, pulls = [p for p, _ in results[side]], [q for _, q in results[side]]
        print(
            f"median {side:8}: push {push:6.2f} s  pull {pull:6.2f} s  (spread: push"
            f" {max(pushes) - min(pushes):.2f} s, pull {max(pulls) - min(pulls):.2f} s)"
        )
    # Each round's own ratio: both sides ran back to back, under about the same load, so on a
    # shared machine whose load drifts their median says more than the ratio of the medians.
    ratios = [
        (e[0] / d[0], e[1] / d[1])
        for e, d in zip(results["endpoint"], results["direct"], strict=True)
    ]
    for index, (push_ratio, pull_ratio) in enumerate(ratios):
        print(f"round {index} ratio: push {push_ratio:.3f}  pull {pull_ratio:.3f}")
    print(
        f"median of round ratios: push {statistics.median(r for r, _ in ratios):.3f}"
        f"  pull {statistics.median(r for _, r in ratios):.3f}"
    )
    print(
        f"ratio endpoint/direct: push {medians['endpoint'][0] / medians['direct'][0]:.3f}"
        f"  pull {medians['endpoint'][1] / medians['direct'][1]:.3f}  (target <= 1.10)"
    )


if __name__ == "__main__":
    main()
