"""Errors of the job runtime, each carrying the job reason (docs/protocol.md §3.5) it stands for.

OrchestratorError                 reason Error: the engine failed unexpectedly
├── ImagePullError                reason ErrImagePull: unknown image or unreachable registry
├── ImagePushError                reason Error: the registry refused or lost a push (`job save`)
├── InvalidImageNameError         reason InvalidImageName: a malformed image reference
├── ContainerCannotRunError       reason ContainerCannotRun: the engine refused the container
├── ContainerNotFoundError        reason NotFound: no container for this job
└── ContainerNotRunningError      reason NotFound: the job's container is not running

The last two are also `errors.NotFoundError`: a client addressing such a job gets 404.
"""

from __future__ import annotations

from ..errors import NotFoundError
from .reasons import JobReason


class OrchestratorError(Exception):
    reason: JobReason = JobReason.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImagePullError(OrchestratorError):
    reason = JobReason.ERR_IMAGE_PULL


class ImagePushError(OrchestratorError):
    pass


class InvalidImageNameError(OrchestratorError):
    reason = JobReason.INVALID_IMAGE_NAME


class ContainerCannotRunError(OrchestratorError):
    reason = JobReason.CONTAINER_CANNOT_RUN


class ContainerNotFoundError(OrchestratorError, NotFoundError):
    reason = JobReason.NOT_FOUND


class ContainerNotRunningError(OrchestratorError, NotFoundError):
    reason = JobReason.NOT_FOUND
