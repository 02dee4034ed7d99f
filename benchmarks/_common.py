"""What the transfer benchmarks (storage.py, buckets.py) share: the clients, the data they
copy, a timed command and the clients' environment. Not a benchmark itself."""

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ORIGINAL_NEURO = REPO_ROOT / ".cache" / "interop-venv" / "bin" / "neuro"
OUR_NEURO = Path(sys.executable).with_name("neuro")
SMALL_FILE_SIZE = 4096
FILES_PER_FOLDER = 100
WRITE_BLOCK = 16 * 2**20


def parse_arguments(description: str, small_files: int, repeat_help: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big file")
    parser.add_argument(
        "--small-files", type=int, default=small_files, help="number of 4 KiB files"
    )
    parser.add_argument("--no-original", action="store_true", help="skip neuro-cli 22.7.1")
    parser.add_argument("--repeat", type=int, default=3, help=repeat_help)
    return parser.parse_args()


def make_data(work: Path, big_mib: int, small_files: int) -> tuple[Path, Path]:
    """The big file and the tree of small files, in `work`."""
    print(f"preparing {big_mib} MiB and {small_files} x 4 KiB files in {work}")
    big = work / "big.bin"
    make_big_file(big, big_mib)
    small = work / "small"
    make_small_files(small, small_files)
    return big, small


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
    # login (`logged_in`) fills the cache, so no timed run pays for compiling.
    env["PYTHONPYCACHEPREFIX"] = str(bytecode_dir)
    return env


def logged_in(executable: Path, work: Path, name: str, token: str, api_url: str) -> dict[str, str]:
    """The environment of a client (`executable`) logged in to the server with `token`; its
    config and bytecode live in `work`."""
    env = client_env(work / f"config-{name}", work / "bytecode")
    login = ["config", "login-with-token", token, api_url]
    timed([str(executable), "--skip-stats", *login], env)
    return env
