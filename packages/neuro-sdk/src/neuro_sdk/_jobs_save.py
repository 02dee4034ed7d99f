"""``Jobs.save``: commit a running job's container to an image of the platform registry.

The monitoring service answers NDJSON (docs/protocol.md §4 ``save``): ``CommitStarted``,
``CommitFinished``, then the engine's push progress; an error is a line
``{"error": ..., "errorDetail": {"message": ...}}``.

The progress classes are the images API's (``_images``).
"""

import json
from collections.abc import AsyncIterable
from typing import Any, Protocol

from ._errors import ClientError
from ._images import (
    ImageCommitFinished,
    ImageCommitStarted,
    ImageProgressSave,
    ImageProgressStep,
)
from ._images_refs import RemoteImage


class JobSaveProgress(Protocol):
    """The callbacks ``Jobs.save`` reports to (``AbstractDockerImageProgress`` has them)."""

    def save(self, data: ImageProgressSave) -> None: ...

    def commit_started(self, data: ImageCommitStarted) -> None: ...

    def commit_finished(self, data: ImageCommitFinished) -> None: ...

    def step(self, data: ImageProgressStep) -> None: ...


class ImageSaveError(ClientError):
    """The platform could not commit or push the job's image (its message says why)."""


async def report_save(
    lines: AsyncIterable[bytes],
    job_id: str,
    image: RemoteImage,
    progress: JobSaveProgress | None,
) -> None:
    """Reads the NDJSON answer and reports it; raises ImageSaveError for an error line or
    an answer that ends before the push does."""
    if progress is not None:
        progress.save(ImageProgressSave(job_id, image))
    expected = ["CommitStarted", "CommitFinished"]
    pushed = False
    async for line in lines:
        if not line.strip():
            continue
        item = _load(line)
        if "error" in item:
            detail = item.get("errorDetail")
            message = detail.get("message") if isinstance(detail, dict) else None
            raise ImageSaveError(str(message or item["error"]))
        if expected:
            status = item.get("status")
            if status != expected[0]:
                raise ImageSaveError(f"Unexpected answer to job save: status {status!r}")
            expected.pop(0)
            if progress is not None:
                if status == "CommitStarted":
                    progress.commit_started(ImageCommitStarted(job_id, image))
                else:
                    progress.commit_finished(ImageCommitFinished(job_id))
            continue
        if "aux" in item:  # the engine's last word: the pushed manifest's digest
            pushed = True
        step = _step(item, image.tag)
        if step is not None and progress is not None:
            progress.step(step)
    if expected or not pushed:
        raise ImageSaveError("The platform stopped answering before the image was pushed")


def _load(line: bytes) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except ValueError:
        raise ImageSaveError(f"Unexpected answer to job save: {line[:200]!r}") from None
    if not isinstance(item, dict):
        raise ImageSaveError(f"Unexpected answer to job save: {line[:200]!r}")
    return item


def _step(item: dict[str, Any], tag: str | None) -> ImageProgressStep | None:
    """A layer's progress; lines about the whole image (no id, or the tag's) are not steps."""
    layer = item.get("id")
    if not isinstance(layer, str) or layer == tag:
        return None
    status = str(item.get("status", ""))
    text = item.get("progress")
    message = f"{layer}: {status} {text}" if text else f"{layer}: {status}"
    detail = item.get("progressDetail") or {}
    return ImageProgressStep(message, layer, status, detail.get("current"), detail.get("total"))
