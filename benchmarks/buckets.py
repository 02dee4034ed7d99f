"""Bucket transfer benchmark: our `neuro blob cp`, the original neuro-cli 22.7.1 and a plain
boto3 transfer (`boto3.s3.transfer`, what `aws s3 cp` uses), all to the same SeaweedFS.

Starts our server on a loopback port (with its embedded SeaweedFS), creates one bucket per
client, then uploads and downloads (a) one big file and (b) many 4 KiB files in nested
folders. boto3 uses the bucket's scoped credentials from `make_tmp_credentials`, so it
talks to the very same endpoint as the two CLIs, with its default TransferConfig (8 MiB
multipart threshold and parts, 10 threads) and one thread pool of 32 for the small files.
Prints seconds, MB/s and the ratios ours/original and ours/boto3 (above 1: ours is
faster). Not a test: run it by hand,

    uv run python benchmarks/buckets.py                  # 1 GiB and 2,000 files
    uv run python benchmarks/buckets.py --big-mib 128 --small-files 300 --repeat 1  # quick

Each case runs `--repeat` times; the table shows each side's best run. Every download is
compared byte for byte with its source, then deleted, so each run writes into memory just
freed (see benchmarks/storage.py for why that matters on the development VMs).
"""

import asyncio
import filecmp
import functools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from _common import (
    ORIGINAL_NEURO,
    OUR_NEURO,
    SMALL_FILE_SIZE,
    logged_in,
    make_data,
    parse_arguments,
    timed,
)
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]

import neuro_sdk
from neuro_platform.testing.server import running_platform


@dataclass(frozen=True)
class Row:
    case: str
    size: int
    times: dict[str, list[float]]  # side -> seconds of each run


def timed_call(action: Callable[[], object]) -> float:
    os.sync()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def same_tree(left: Path, right: Path) -> bool:
    compared = filecmp.dircmp(left, right)
    if compared.left_only or compared.right_only or compared.diff_files or compared.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(same_tree(left / sub, right / sub) for sub in compared.common_dirs)


class Boto3Side:
    """The same bucket reached with plain boto3 and its scoped credentials."""

    def __init__(self, credentials: dict[str, str]) -> None:
        self.client = boto3.client(
            "s3",
            endpoint_url=credentials.get("endpoint_url"),
            region_name=credentials.get("region_name") or "us-east-1",
            aws_access_key_id=credentials["access_key_id"],
            aws_secret_access_key=credentials["secret_access_key"],
            aws_session_token=credentials.get("session_token"),
        )
        self.bucket = credentials["bucket_name"]
        self.config = TransferConfig()

    def upload_file(self, path: Path, key: str) -> None:
        self.client.upload_file(str(path), self.bucket, key, Config=self.config)

    def download_file(self, key: str, path: Path) -> None:
        self.client.download_file(self.bucket, key, str(path), Config=self.config)

    def upload_tree(self, root: Path, prefix: str) -> None:
        files = [p for p in root.rglob("*") if p.is_file()]
        with ThreadPoolExecutor(32) as pool:
            list(
                pool.map(
                    lambda p: self.client.upload_file(
                        str(p), self.bucket, prefix + p.relative_to(root).as_posix()
                    ),
                    files,
                )
            )

    def download_tree(self, prefix: str, root: Path) -> None:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            keys += [item["Key"] for item in page.get("Contents", [])]

        def fetch(key: str) -> None:
            target = root / key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, key, str(target))

        with ThreadPoolExecutor(32) as pool:
            list(pool.map(fetch, [k for k in keys if not k.endswith("/")]))


def measure(
    work: Path,
    clis: dict[str, dict[str, str]],
    boto: dict[str, Boto3Side],
    buckets: dict[str, str],
    source: Path,
    size: int,
    repeat: int,
) -> list[Row]:
    is_dir = source.is_dir()
    case = "small files" if is_dir else "big file"
    up: dict[str, list[float]] = {}
    down: dict[str, list[float]] = {}
    for run in range(repeat):
        for side, env in clis.items():
            executable = OUR_NEURO if side == "ours" else ORIGINAL_NEURO
            remote = f"blob:{buckets[side]}/{case.replace(' ', '-')}-{run}"
            flags = ["-r"] if is_dir else []
            base = [str(executable), "--skip-stats", "blob", "cp", *flags]
            up.setdefault(side, []).append(timed([*base, str(source), remote], env))
            target = work / f"down-{side}-{run}"
            down.setdefault(side, []).append(timed([*base, remote, str(target)], env))
            check(source, target, side)
        s3, key, target = (
            boto["boto3"],
            f"{case.replace(' ', '-')}-{run}",
            work / f"down-boto3-{run}",
        )
        if is_dir:
            upload = functools.partial(s3.upload_tree, source, key + "/")
            download = functools.partial(s3.download_tree, key + "/", target)
        else:
            upload = functools.partial(s3.upload_file, source, key)
            download = functools.partial(s3.download_file, key, target)
        up.setdefault("boto3", []).append(timed_call(upload))
        down.setdefault("boto3", []).append(timed_call(download))
        check(source, target, "boto3")
    return [Row(f"{case} up", size, up), Row(f"{case} down", size, down)]


def check(source: Path, target: Path, side: str) -> None:
    same = same_tree(source, target) if source.is_dir() else filecmp.cmp(source, target, False)
    if not same:
        raise SystemExit(f"{side}: the downloaded copy differs from the source")
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()


def print_table(rows: Sequence[Row]) -> None:
    sides = ["ours", "original", "boto3"]
    header = f"{'case':<18}" + "".join(f"{s + ' s':>12}{s + ' MB/s':>14}" for s in sides)
    print(header + f"{'ours/orig':>11}{'ours/boto3':>12}")
    for row in rows:
        best = {side: min(times) for side, times in row.times.items()}
        line = f"{row.case:<18}"
        for side in sides:
            if side in best:
                line += f"{best[side]:>12.2f}{row.size / best[side] / 1e6:>14.1f}"
            else:
                line += f"{'-':>12}{'-':>14}"
        ratios = [f"{best[o] / best['ours']:.2f}x" if o in best else "-" for o in sides[1:]]
        print(line + f"{ratios[0]:>11}{ratios[1]:>12}")
    print("\nall runs (seconds):")
    for row in rows:
        for side, times in row.times.items():
            print(f"  {row.case:<18} {side:<9} " + " ".join(f"{t:.2f}" for t in times))


async def prepare_buckets(config: Path, sides: Sequence[str]) -> tuple[dict[str, str], Any]:
    async with await neuro_sdk.Factory(config).get() as client:
        names = {}
        for side in sides:
            bucket = await client.buckets.create(name=f"bench-{side}")
            names[side] = bucket.name or bucket.id
        credentials = await client.buckets.request_tmp_credentials(names["boto3"])
        return names, dict(credentials.credentials)


def main() -> None:
    args = parse_arguments(__doc__.split("\n\n")[0], 2000, "runs of each case (best shown)")

    with tempfile.TemporaryDirectory(prefix="buckets-bench-") as temp:
        work = Path(temp)
        big, small = make_data(work, args.big_mib, args.small_files)
        with running_platform(work / "server", users={"alice": "alice-password"}) as server:
            token = server.issue_token("alice")
            clis: dict[str, dict[str, str]] = {"ours": {}}
            if not args.no_original and ORIGINAL_NEURO.exists():
                clis["original"] = {}
            for side in list(clis):
                executable = OUR_NEURO if side == "ours" else ORIGINAL_NEURO
                clis[side] = logged_in(executable, work, side, token, str(server.api_url))
            config = Path(clis["ours"]["NEUROMATION_CONFIG"])
            buckets, credentials = asyncio.run(prepare_buckets(config, [*clis, "boto3"]))
            boto = {"boto3": Boto3Side(credentials)}
            rows = [
                *measure(work, clis, boto, buckets, big, args.big_mib * 2**20, args.repeat),
                *measure(
                    work,
                    clis,
                    boto,
                    buckets,
                    small,
                    args.small_files * SMALL_FILE_SIZE,
                    args.repeat,
                ),
            ]
    print_table(rows)


if __name__ == "__main__":
    main()
