"""Where each cluster's services live under `/api/v1`.

The one rule both the mounting of the per-cluster sub-applications and `/config` use, so a
URL the platform advertises is always one it serves.
"""

from __future__ import annotations

from ..settings import ClusterSettings, Settings


def cluster_prefix(settings: Settings, cluster: ClusterSettings) -> str:
    """`""` for the first cluster (served at the top level), `/clusters/<name>` for the others."""
    return "" if cluster.name == settings.clusters[0].name else f"/clusters/{cluster.name}"
