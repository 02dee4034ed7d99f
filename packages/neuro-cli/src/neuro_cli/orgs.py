"""The rule of every `--org` option, stated once (as the original CLI's): left out, the
current org; the literal NO_ORG, no org; anything else, that org."""

NO_ORG = "NO_ORG"  # the literal users type for "no org"


def chosen_org(option: str | None, current: str | None) -> str | None:
    """The org an `--org` option value names, given the config's ``current`` org."""
    if option is None:
        return current
    return None if option == NO_ORG else option
