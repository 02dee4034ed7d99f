"""``neuro help [COMMAND]... | TOPIC``: a command's help, or one of the help topics."""

from collections.abc import Sequence

import click

from neuro_cli.errors import UserError
from neuro_cli.topics import TOPICS


@click.command(name="help")
@click.argument("words", metavar="[COMMAND]... | TOPIC", nargs=-1)
@click.pass_context
def help_(ctx: click.Context, words: Sequence[str]) -> None:
    """Get help on a command or a topic."""
    if len(words) == 1 and words[0] in TOPICS:
        click.echo(TOPICS[words[0]])
        return
    current = ctx.find_root()
    for word in words:
        group = current.command
        found = group.get_command(current, word) if isinstance(group, click.Group) else None
        if found is None or found.hidden:
            raise UserError(f"No such command or topic: neuro {' '.join(words)}")
        current = click.Context(found, info_name=word, parent=current)
    click.echo(current.get_help())
