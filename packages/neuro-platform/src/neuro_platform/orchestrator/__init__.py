"""The job runtime: an engine-independent interface, on the Docker Engine or on Slurm."""

from .base import Orchestrator as Orchestrator
from .base import StartProgress as StartProgress
from .docker import DockerOrchestrator as DockerOrchestrator
from .errors import ContainerCannotRunError as ContainerCannotRunError
from .errors import ContainerNotFoundError as ContainerNotFoundError
from .errors import ContainerNotRunningError as ContainerNotRunningError
from .errors import ImagePullError as ImagePullError
from .errors import ImagePushError as ImagePushError
from .errors import InvalidImageNameError as InvalidImageNameError
from .errors import OrchestratorError as OrchestratorError
from .interactive import InteractiveSession as InteractiveSession
from .interactive import Output as Output
from .interactive import StreamOptions as StreamOptions
from .reasons import JobReason as JobReason
from .slurm import SlurmOrchestrator as SlurmOrchestrator
from .spec import BindMount as BindMount
from .spec import ContainerSpec as ContainerSpec
from .spec import RegistryAuth as RegistryAuth
from .spec import VolumeMount as VolumeMount
from .state import ContainerPhase as ContainerPhase
from .state import ContainerState as ContainerState
from .state import ContainerStats as ContainerStats
