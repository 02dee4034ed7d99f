"""Storage transfer benchmark: our `neuro cp`, the original neuro-cli 22.7.1 and local `cp -r`.

Starts our server on a loopback port, then uploads and downloads (a) one big file and (b)
many 4 KiB files in nested folders with each client, and copies the same data locally with
`cp -r` as the physical bound. Prints seconds, MB/s and ratios. Not a test: run it by hand,

    uv run python benchmarks/storage.py                 # 1 GiB and 5,000 files
    uv run python benchmarks/storage.py --big-mib 64 --small-files 500   # a quick run
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from neuro_platform.testing.server import running_platform

REPO_ROOT = Path(__file__).resolve().parents[1]
ORIGINAL_NEURO = REPO_ROOT / ".cache" / "interop-venv" / "bin" / "neuro"
OUR_NEURO = Path(sys.executable).with_name("neuro")
SMALL_FILE_SIZE = 4096
FILES_PER_FOLDER = 100
WRITE_BLOCK = 16 * 2**20


@dataclass(frozen=True)
class Row:
    case: str
    size: int  # bytes moved
    ours: float  # seconds
    original: float | None
    local: float


def make_big_file(path: Path, mib: int) -> None:
    block = os.urandom(WRITE_BLOCK)
    with path.open("wb") as file:
        for written in range(0, mib * 2**20, WRITE_BLOCK):
            file.write(block[: min(WRITE_BLOCK, mib * 2**20 - written)])


def make_small_files(root: Path, count: int) -> None:
    """`count` files of 4 KiB, 100 per folder, folders nested two levels deep."""
    for index in range(count):
        folder = (
            root / f"group{index // (FILES_PER_FOLDER * 10)}" / f"dir{index // FILES_PER_FOLDER}"
        )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{index}.bin").write_bytes(os.urandom(SMALL_FILE_SIZE))


def timed(command: Sequence[str], env: dict[str, str]) -> float:
    # Every run starts with nothing left to write back: otherwise whoever runs next pays for
    # flushing the previous run's gigabyte to disk.
    os.sync()
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def client_env(config_dir: Path, bytecode_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEURO") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {"NEURO_CLI_DISABLE_PYPI_VERSION_CHECK": "1", "NEUROMATION_CONFIG": str(config_dir)}
    # Both clients start with compiled bytecode, as installed packages do: without it every
    # run of a workspace (editable) install compiles its modules anew (~0.4 s here). The
    # login below fills the cache, so no timed run pays for compiling.
    env["PYTHONPYCACHEPREFIX"] = str(bytecode_dir)
    return env


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return path


def measure(
    work: Path,
    clients: dict[str, tuple[Path, dict[str, str]]],
    name: str,
    source: Path,
    size: int,
    recursive: bool,
) -> list[Row]:
    flags = ["-r"] if recursive else []
    times: dict[tuple[str, str], float] = {}
    for client, (executable, env) in clients.items():
        remote = f"storage:bench-{client}-{name}"
        upload = [str(executable), "--skip-stats", "cp", *flags, str(source), remote]
        times[(client, "upload")] = timed(upload, env)
        target = fresh(work / f"down-{client}-{name}")
        download = [str(executable), "--skip-stats", "cp", *flags, remote, str(target)]
        times[(client, "download")] = timed(download, env)
        check = ["diff", "-r", "-q", str(source), str(target)]
        if subprocess.run(check, capture_output=True, check=False).returncode != 0:
            raise SystemExit(f"{client}: the downloaded {name} differs from the source")
    local_copy: Callable[[], float] = lambda: timed(  # noqa: E731
        ["cp", "-r", str(source), str(fresh(work / f"local-{name}"))], dict(os.environ)
    )
    local = local_copy()
    return [
        Row(
            f"{name} {direction}",
            size,
            times[("ours", direction)],
            times.get(("original", direction)),
            local,
        )
        for direction in ("upload", "download")
    ]


def print_table(rows: Sequence[Row]) -> None:
    def rate(size: int, seconds: float | None) -> str:
        return "-" if seconds is None else f"{size / seconds / 1e6:8.1f}"

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:8.2f}"

    header = (
        f"{'case':<24}{'ours s':>9}{'orig s':>9}{'cp s':>9}"
        f"{'ours MB/s':>11}{'orig MB/s':>11}{'cp MB/s':>10}{'orig/ours':>11}{'ours/cp':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        speedup = "-" if row.original is None else f"{row.original / row.ours:10.2f}x"
        print(
            f"{row.case:<24}{seconds(row.ours):>9}{seconds(row.original):>9}"
            f"{seconds(row.local):>9}{rate(row.size, row.ours):>11}"
            f"{rate(row.size, row.original):>11}{rate(row.size, row.local):>10}"
            f"{speedup:>11}{row.local / row.ours:8.2f}x"
        )
    print("orig/ours: how many times faster ours is; ours/cp: our throughput as a share of cp's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big file")
    parser.add_argument("--small-files", type=int, default=5000, help="number of 4 KiB files")
    parser.add_argument("--no-original", action="store_true", help="skip neuro-cli 22.7.1")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="storage-bench-") as temp:
        work = Path(temp)
        print(f"preparing {args.big_mib} MiB and {args.small_files} x 4 KiB files in {work}")
        big = work / "big.bin"
        make_big_file(big, args.big_mib)
        small = work / "small"
        make_small_files(small, args.small_files)
        (work / "server").mkdir()
        with running_platform(work / "server", users={"alice": "alice-password"}) as server:
            token = server.issue_token("alice")
            clients: dict[str, tuple[Path, dict[str, str]]] = {"ours": (OUR_NEURO, {})}
            if not args.no_original and ORIGINAL_NEURO.exists():
                clients["original"] = (ORIGINAL_NEURO, {})
            for name, (executable, _) in list(clients.items()):
                env = client_env(work / f"config-{name}", work / "bytecode")
                login = ["config", "login-with-token", token, str(server.api_url)]
                timed([str(executable), "--skip-stats", *login], env)
                clients[name] = (executable, env)
            rows = [
                *measure(work, clients, "big file", big, args.big_mib * 2**20, False),
                *measure(
                    work,
                    clients,
                    "small files",
                    small,
                    args.small_files * SMALL_FILE_SIZE,
                    True,
                ),
            ]
    print_table(rows)


if __name__ == "__main__":
    main()
