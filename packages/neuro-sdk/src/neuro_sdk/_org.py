"""The default of every ``org_name`` argument: the config's current org.

As in the original SDK, ``org_name=None`` means "no org" explicitly, so the default has to be
a distinct sentinel rather than None.
"""

from typing import Protocol


class OrgNameSentinel:
    """Marks an ``org_name`` argument the caller left out."""


ORG_NAME_SENTINEL = OrgNameSentinel()

OrgName = str | None | OrgNameSentinel


class _HasOrg(Protocol):
    @property
    def org_name(self) -> str | None: ...


def resolve_org(org_name: OrgName, config: _HasOrg) -> str | None:
    """``org_name`` as given, or the config's current org when it was left out."""
    return config.org_name if isinstance(org_name, OrgNameSentinel) else org_name
