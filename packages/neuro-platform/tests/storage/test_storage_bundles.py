"""CREATETAR and OPENTAR, our extension for many small files, on a real server."""

from __future__ import annotations

import io
import tarfile
from typing import Any

from neuro_platform.testing import PlatformServer

from .conftest import StorageUser, grant


def _tar(*members: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
                continue
            name, content = member
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _untar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        files = {}
        for member in archive:
            extracted = archive.extractfile(member)
            assert extracted is not None
            files[member.name] = extracted.read()
        return files


async def _create_tar(user: StorageUser, directory: str, body: bytes) -> tuple[int, dict[str, Any]]:
    response = await user.request(
        "PUT", directory, "CREATETAR", data=body, headers={"Content-Type": "application/x-tar"}
    )
    return response.status, await response.json()


async def _open_tar(user: StorageUser, directory: str, names: list[str]) -> tuple[int, bytes]:
    response = await user.request("POST", directory, "OPENTAR", json={"names": names})
    return response.status, await response.read()


async def test_a_bundle_creates_each_file_and_reads_back(alice: StorageUser) -> None:
    files = {"a.txt": b"alpha", "empty": b"", "пробел и юникод.bin": bytes(range(256)) * 16}
    status, body = await _create_tar(alice, "alice/bundle/deep", _tar(*files.items()))

    assert (status, body) == (201, {"created": 3})
    for name, content in files.items():
        assert await alice.read(f"alice/bundle/deep/{name}") == content
    status, archive = await _open_tar(alice, "alice/bundle/deep", [*files, "missing"])
    assert status == 200
    assert _untar(archive) == files  # a missing name is left out, not an error


async def test_bad_bundles_are_refused_whole_and_write_nothing(alice: StorageUser) -> None:
    link = tarfile.TarInfo("link")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    bad_bodies = [
        _tar(("ok.txt", b"fine"), ("../escape.txt", b"out")),
        _tar(("ok.txt", b"fine"), ("sub/nested.txt", b"nested")),
        _tar(("ok.txt", b"fine"), link),
        _tar(("ok.txt", b"fine"), ("ok.txt", b"twice")),
        _tar(("ok.txt", b"fine"), (".neuro-partial-x", b"reserved")),
        b"this is not a tar archive" * 40,
    ]
    for body in bad_bodies:
        status, error = await _create_tar(alice, "alice/refused", body)
        assert status == 400, error
        assert error["errno"] == "EINVAL"
    assert (await alice.stat("alice/refused/ok.txt")).status == 404
    assert (await alice.stat("alice/escape.txt")).status == 404

    status, _ = await _open_tar(alice, "alice", ["../bob/x"])
    assert status == 400


async def test_bundles_need_the_same_permissions_as_single_files(
    platform_server: PlatformServer, alice: StorageUser, bob: StorageUser
) -> None:
    await alice.put("alice/shared/readable.txt", b"for bob")
    await alice.put("alice/shared/private.txt", b"not for bob")
    await grant(platform_server, "bob", "storage://default/alice/shared/readable.txt", "read")

    status, error = await _create_tar(bob, "alice/shared", _tar(("planted.txt", b"bob")))
    assert status == 403
    assert error["missing"] == [
        {"uri": "storage://default/alice/shared/planted.txt", "action": "write"}
    ]
    assert (await alice.stat("alice/shared/planted.txt")).status == 404

    status, archive = await _open_tar(bob, "alice/shared", ["readable.txt", "private.txt"])
    assert status == 200
    assert _untar(archive) == {"readable.txt": b"for bob"}
