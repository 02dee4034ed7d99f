"""The image registry: `/v2/` in front of a private `docker-registry` (docs/protocol.md §6)."""

from .names import ImageReference as ImageReference
from .names import InvalidRepositoryNameError as InvalidRepositoryNameError
from .names import check_repository as check_repository
from .names import cluster_of_host as cluster_of_host
from .names import image_ref_to_uri as image_ref_to_uri
