"""Storage transfer benchmark: our `neuro cp`, the original neuro-cli 22.7.1 and local `cp -r`.

Starts our server on a loopback port, then uploads and downloads (a) one big file and (b)
many 4 KiB files in nested folders with each client, and copies the same data locally with
`cp -r` as the physical bound. Prints seconds, MB/s and ratios. Not a test: run it by hand,

    uv run python benchmarks/storage.py                 # 1 GiB and 5,000 files
    uv run python benchmarks/storage.py --big-mib 64 --small-files 500 --repeat 1  # quick

Two local baselines: `cp -r` alone, and `cp -r` followed by `sync -f` on the copy, timed
together ("cp+sync"). An upload to our server is on disk when the client returns (the
server flushes every CREATE and WRITE before it answers); a plain `cp` is not, so for
uploads cp+sync is the like-for-like bound. A download is not flushed by any client, so
for downloads plain cp is the bound.

Below the table, the big file's bounds for any client and server that talk over a socket
(see loopback.py): the file sent through a loopback connection by the kernel alone, plain
and flushed. Next to them, the same file moved by our SDK inside this process (the
transfer without a command's start) and what our CLI takes to copy an empty file (its
start, config, requests and exit): together they say how close our transfer comes to the
machine's limit and what the command adds.

Every case runs `--repeat` times (3 by default); the table shows each side's best run and
lists every run below it. On the development VMs (Firecracker) writing a gigabyte into
memory the guest has not used lately costs about 2.3 s more than writing it into memory
just freed (the hypervisor backs the pages on first touch): dd of 1 GiB into a new file
took 0.16-2.4 s while older copies were kept, and 0.17-0.20 s every time right after the
previous copy was deleted. So every copy of the big file (each side's upload, download and
local copies) is deleted right after it is checked, and each run writes into memory just
freed: all sides measure their own work, not the hypervisor. Trees of small files are kept
to the end instead: right after trees of 5,000 files were deleted, a `cp -r` of 5,000
files took 1-3 s here instead of 0.13 s.
"""

import asyncio
import filecmp
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import (
    ORIGINAL_NEURO,
    OUR_NEURO,
    SMALL_FILE_SIZE,
    logged_in,
    make_data,
    parse_arguments,
    timed,
)
from loopback import loopback_copy
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import running_platform


@dataclass(frozen=True)
class Row:
    case: str
    size: int  # bytes moved
    ours: list[float]  # seconds, one per run
    original: list[float] | None
    local: list[float]  # cp
    local_synced: list[float]  # cp+sync
    durable: bool  # the client's copy is flushed to disk when it returns (uploads)


def measure(
    work: Path,
    clients: dict[str, tuple[Path, dict[str, str]]],
    name: str,
    source: Path,
    size: int,
    recursive: bool,
    repeat: int,
) -> list[Row]:
    flags = ["-r"] if recursive else []
    times: dict[tuple[str, str], list[float]] = {}
    local: list[float] = []
    local_synced: list[float] = []
    for run in range(repeat):
        for client, (executable, env) in clients.items():
            remote = f"storage:bench-{client}-{name}-{run}"
            upload = [str(executable), "--skip-stats", "cp", *flags, str(source), remote]
            times.setdefault((client, "upload"), []).append(timed(upload, env))
            target = work / f"down-{client}-{name}-{run}"
            download = [str(executable), "--skip-stats", "cp", *flags, remote, str(target)]
            times.setdefault((client, "download"), []).append(timed(download, env))
            check = ["diff", "-r", "-q", str(source), str(target)]
            if subprocess.run(check, capture_output=True, check=False).returncode != 0:
                raise SystemExit(f"{client}: the downloaded {name} differs from the source")
            if not recursive:
                timed([str(executable), "--skip-stats", "rm", remote], env)
                target.unlink()
        copy = work / f"local-{name}-{run}"
        local.append(timed(["cp", "-r", str(source), str(copy)], dict(os.environ)))
        copy_and_flush = 'cp -r "$1" "$2" && sync -f "$2"'
        synced = work / f"local-synced-{name}-{run}"
        if not recursive:
            copy.unlink()
        command = ["sh", "-c", copy_and_flush, "sh", str(source), str(synced)]
        local_synced.append(timed(command, dict(os.environ)))
        if not recursive:
            synced.unlink()
    return [
        Row(
            f"{name} {direction}",
            size,
            times[("ours", direction)],
            times.get(("original", direction)),
            local,
            local_synced,
            durable=direction == "upload",
        )
        for direction in ("upload", "download")
    ]


@dataclass(frozen=True)
class Bounds:
    """What no client over a socket avoids, for the big file: seconds, one per run."""

    loopback: list[float]  # kernel only: sendfile into a loopback socket, splice into a file
    loopback_flushed: list[float]  # the same, flushed to disk as our server flushes
    command: list[float]  # our CLI copying an empty file: its start, requests and exit
    sdk_upload: list[float]  # our SDK's upload_file inside one process: no CLI start
    sdk_download: list[float]  # our SDK's download_file inside one process


def measure_bounds(work: Path, source: Path, env: dict[str, str], repeat: int) -> Bounds:
    bounds = Bounds([], [], [], [], [])
    config = Path(env["NEUROMATION_CONFIG"])  # the CLI's: the SDK logs in the same way
    for _ in range(repeat):
        for flush, runs in ((False, bounds.loopback), (True, bounds.loopback_flushed)):
            target = work / "loopback-copy"
            os.sync()
            runs.append(loopback_copy(source, target, flush=flush))
            target.unlink()
        empty = work / "empty"
        empty.touch()
        copy_empty = [str(OUR_NEURO), "--skip-stats", "cp", str(empty), "storage:bench-empty"]
        bounds.command.append(timed(copy_empty, env))
        target = work / "sdk-copy"
        asyncio.run(sdk_transfers(config, source, target, bounds))
        if not filecmp.cmp(source, target, shallow=False):
            raise SystemExit("sdk: the downloaded big file differs from the source")
        target.unlink()
    return bounds


async def sdk_transfers(config: Path, source: Path, target: Path, bounds: Bounds) -> None:
    """One upload and one download of `source` by our SDK in this process: the transfer
    itself, without the start of a command."""
    remote = URL("storage:bench-sdk")
    async with await neuro_sdk.get(path=config) as client:
        os.sync()
        started = time.perf_counter()
        await client.storage.upload_file(URL(source.as_uri()), remote)
        bounds.sdk_upload.append(time.perf_counter() - started)
        os.sync()
        started = time.perf_counter()
        await client.storage.download_file(remote, URL(target.as_uri()))
        bounds.sdk_download.append(time.perf_counter() - started)
        await client.storage.rm(remote)


def print_bounds(bounds: Bounds) -> None:
    loopback, flushed = min(bounds.loopback), min(bounds.loopback_flushed)
    upload, download = min(bounds.sdk_upload), min(bounds.sdk_download)
    print(
        f"\nthe big file through a loopback socket, kernel only (sendfile, splice): "
        f"{loopback:.2f} s, flushed like an upload {flushed:.2f} s"
        f"\nour SDK moving it inside one process (no command start): upload {upload:.2f} s "
        f"({flushed / upload:.2f}x the flushed loopback's throughput), download "
        f"{download:.2f} s ({loopback / download:.2f}x the loopback's)"
        f"\nour CLI copying an empty file (neuro cp): {min(bounds.command):.2f} s"
    )
    runs = {
        "loopback": bounds.loopback,
        "flushed": bounds.loopback_flushed,
        "sdk up": bounds.sdk_upload,
        "sdk down": bounds.sdk_download,
        "empty cp": bounds.command,
    }
    print(
        "all runs: "
        + "  ".join(
            f"{name} " + " ".join(f"{t:.2f}" for t in values) for name, values in runs.items()
        )
    )


def print_table(rows: Sequence[Row]) -> None:
    def rate(size: int, seconds: float | None) -> str:
        return "-" if seconds is None else f"{size / seconds / 1e6:8.1f}"

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:8.2f}"

    def best(values: list[float] | None) -> float | None:
        return None if values is None else min(values)

    header = (
        f"{'case':<24}{'ours s':>9}{'orig s':>9}{'cp s':>9}{'cp+sync s':>11}"
        f"{'ours MB/s':>11}{'orig MB/s':>11}{'cp MB/s':>10}"
        f"{'orig/ours':>11}{'ours/cp':>9}{'ours/cp+sync':>14}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ours, original = best(row.ours), best(row.original)
        local, synced = min(row.local), min(row.local_synced)
        assert ours is not None
        speedup = "-" if original is None else f"{original / ours:10.2f}x"
        against_synced = f"{synced / ours:13.2f}x" if row.durable else "-"
        print(
            f"{row.case:<24}{seconds(ours):>9}{seconds(original):>9}"
            f"{seconds(local):>9}{seconds(synced):>11}{rate(row.size, ours):>11}"
            f"{rate(row.size, original):>11}{rate(row.size, local):>10}"
            f"{speedup:>11}{local / ours:8.2f}x{against_synced:>14}"
        )
    print(
        "each side's best run; orig/ours: how many times faster ours is; ours/cp and\n"
        "ours/cp+sync: our throughput as a share of the local copy's (cp+sync only for uploads,\n"
        "which our server flushes to disk before it answers; no client flushes a download)"
    )
    print("\nall runs, seconds:")
    for row in rows:
        sides = [("ours", row.ours), ("orig", row.original), ("cp", row.local)]
        sides.append(("cp+sync", row.local_synced))
        runs = "  ".join(
            f"{side} {' '.join(f'{t:.2f}' for t in values)}"
            for side, values in sides
            if values is not None
        )
        print(f"  {row.case:<22}{runs}")


def main() -> None:
    args = parse_arguments(__doc__.split("\n\n")[0], 5000, "runs of each case (median)")

    with tempfile.TemporaryDirectory(prefix="storage-bench-") as temp:
        work = Path(temp)
        big, small = make_data(work, args.big_mib, args.small_files)
        (work / "server").mkdir()
        with running_platform(work / "server", users={"alice": "alice-password"}) as server:
            token = server.issue_token("alice")
            clients: dict[str, tuple[Path, dict[str, str]]] = {"ours": (OUR_NEURO, {})}
            if not args.no_original and ORIGINAL_NEURO.exists():
                clients["original"] = (ORIGINAL_NEURO, {})
            for name, (executable, _) in list(clients.items()):
                env = logged_in(executable, work, name, token, str(server.api_url))
                clients[name] = (executable, env)
            rows = [
                *measure(work, clients, "big file", big, args.big_mib * 2**20, False, args.repeat),
                *measure(
                    work,
                    clients,
                    "small files",
                    small,
                    args.small_files * SMALL_FILE_SIZE,
                    True,
                    args.repeat,
                ),
            ]
            bounds = measure_bounds(work, big, clients["ours"][1], args.repeat)
    print_table(rows)
    print_bounds(bounds)


if __name__ == "__main__":
    main()
