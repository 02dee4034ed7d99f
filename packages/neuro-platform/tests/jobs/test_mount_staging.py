"""Staging mounts on this machine's real mount table (the tests run as root, as the server does)."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from neuro_platform.jobs.mount_staging import MountStaging

_LIBC = ctypes.CDLL(None, use_errno=True)


def mounted(path: Path) -> bool:
    with open("/proc/self/mountinfo") as mountinfo:
        return any(line.split()[4] == str(path) for line in mountinfo)


def test_a_bind_shows_the_opened_directory_even_after_its_path_is_swapped(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "marker").write_text("inside")
    staging = MountStaging(tmp_path / "job-mounts")
    fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
    # Swapped for a link to the root before the bind: the fd still names the directory.
    source.rename(tmp_path / "moved")
    source.symlink_to("/")
    try:
        target = staging.bind("job-1", "s0", fd)
    finally:
        os.close(fd)
    try:
        assert os.listdir(target) == ["marker"]
        assert (tmp_path / "job-mounts").stat().st_mode & 0o777 == 0o700
    finally:
        staging.release("job-1")
    assert not (tmp_path / "job-mounts" / "job-1").exists()
    assert (tmp_path / "moved" / "marker").read_text() == "inside"


def test_start_up_unmounts_left_overs_and_never_deletes_what_they_showed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "precious").write_text("keep me")
    staging = MountStaging(tmp_path / "job-mounts")
    fd = os.open(data, os.O_RDONLY | os.O_DIRECTORY)
    try:
        left_over = staging.bind("gone", "s0", fd)
        kept = staging.bind("running", "s0", fd)
        # A crash between a bind and its release, then another bind on top: stacked mounts.
        assert _LIBC.mount(f"/proc/self/fd/{fd}".encode(), bytes(left_over), None, 4096, None) == 0
    finally:
        os.close(fd)
    try:
        staging.release_all_except({"running"})

        assert not mounted(left_over)
        assert not (tmp_path / "job-mounts" / "gone").exists()
        assert mounted(kept)
        assert (data / "precious").read_text() == "keep me"
    finally:
        staging.release("running")
    assert not mounted(kept)
    assert os.listdir(tmp_path / "job-mounts") == []
