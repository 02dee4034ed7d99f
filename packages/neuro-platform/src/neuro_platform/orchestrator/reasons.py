"""The status-reason vocabulary of job objects (docs/protocol.md §3.5).

The orchestrator speaks it so that the jobs service can copy a reason into a job's history
without translating it; clients (`neuro status`, the SDK) show these strings verbatim.
"""

from enum import StrEnum


class JobReason(StrEnum):
    CREATING = "Creating"
    SCHEDULING = "Scheduling"
    PULLING = "Pulling"
    CONTAINER_CREATING = "ContainerCreating"
    POD_INITIALIZING = "PodInitializing"
    ERR_IMAGE_PULL = "ErrImagePull"
    IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
    INVALID_IMAGE_NAME = "InvalidImageName"
    CONTAINER_CANNOT_RUN = "ContainerCannotRun"
    OOM_KILLED = "OOMKilled"
    COMPLETED = "Completed"
    ERROR = "Error"
    COLLECTED = "Collected"
    NOT_FOUND = "NotFound"
    CLUSTER_NOT_FOUND = "ClusterNotFound"
    CLUSTER_SCALING_UP = "ClusterScalingUp"
    CLUSTER_SCALE_UP_FAILED = "ClusterScaleUpFailed"
    RESTARTING = "Restarting"
    # Suspended for a higher job: by the platform's scheduler, or by the engine (Slurm).
    PREEMPTED = "Preempted"
    DISK_UNAVAILABLE = "DiskUnavailable"
    QUOTA_EXHAUSTED = "QuotaExhausted"
    LIFE_SPAN_ENDED = "LifeSpanEnded"
    USER_REQUESTED = "UserRequested"
    USER_REMOVED = "UserRemoved"  # the owner's account was removed (`removals/`)
