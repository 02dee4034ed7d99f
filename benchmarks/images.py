"""Image push/pull benchmark: docker through our `/v2/` endpoint against docker straight to
the private registry behind it, same run, same image.

Builds a ~200 MB image offline (`neuro-base/debian:bookworm` plus one layer of random bytes),
then per round and per side starts a fresh server (empty storage, so no blob is already
there), and times `docker push` and then `docker pull` of the image after removing it
locally. Sides take turns each round; prints medians and the ratio endpoint/direct (target:
at most 1.10). Not a test: run it by hand,

    uv run python benchmarks/images.py                # 2 rounds, 200 MB
    uv run python benchmarks/images.py --rounds 1 --size-mb 50
"""

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

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


def one_round(work: Path, side: str, index: int) -> tuple[float, float]:
    with running_platform(work / f"{side}-{index}", users={"alice": "alice-password"}) as server:
        env = {**os.environ, "DOCKER_CONFIG": str(work / f"docker-{side}-{index}")}
        if side == "endpoint":
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
        config = (server.data_dir / "registry" / "config.yml").read_text()
        match = re.search(r'addr: "([^"]+)"', config)
        assert match is not None
        return measure(f"{match[1]}/default/alice/bench:v{index}", env)


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
                    print(f"round {index} {side:8}: push {push:6.2f} s  pull {pull:6.2f} s")
        finally:
            subprocess.run(["docker", "rmi", LOCAL], capture_output=True, check=False)
    medians = {
        side: (statistics.median(p for p, _ in r), statistics.median(q for _, q in r))
        for side, r in results.items()
    }
    for side, (push, pull) in medians.items():
        print(f"median {side:8}: push {push:6.2f} s  pull {pull:6.2f} s")
    print(
        f"ratio endpoint/direct: push {medians['endpoint'][0] / medians['direct'][0]:.3f}"
        f"  pull {medians['endpoint'][1] / medians['direct'][1]:.3f}  (target <= 1.10)"
    )


if __name__ == "__main__":
    main()
