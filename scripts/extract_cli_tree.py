"""Dev script: dump the original neuro-cli's command tree as JSON.

Run it with the ORIGINAL client's interpreter, which imports its click group (no network,
no config needed), e.g.::

    .cache/interop-venv/bin/python scripts/extract_cli_tree.py \
        > packages/neuro-cli/tests/data/original_cli_tree_22_7_1.json

The output is committed so that the parity test needs neither the original venv nor a
subprocess per command (packages/neuro-cli/tests/test_command_tree_parity.py).
"""

import json
import sys
from typing import Any

import click


def describe(ctx: click.Context, command: click.Command) -> dict[str, Any]:
    options = []
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        options.append(
            {
                "name": param.name,
                "flags": sorted(param.opts),
                "secondary_flags": sorted(param.secondary_opts),
                "takes_value": not param.is_flag and not param.count,
                "hidden": bool(param.hidden),
            }
        )
    node: dict[str, Any] = {
        "hidden": bool(command.hidden),
        "options": sorted(options, key=lambda o: str(o["name"])),
        "arguments": [p.name for p in command.params if isinstance(p, click.Argument)],
    }
    if isinstance(command, click.MultiCommand):
        subcommands = {}
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None:
                continue
            subcommands[name] = describe(click.Context(sub, parent=ctx, info_name=name), sub)
        node["commands"] = subcommands
    return node


def main() -> None:
    from neuro_cli import __version__
    from neuro_cli.main import cli
    from neuro_cli.topics import topics

    ctx = click.Context(cli, info_name="neuro")
    tree = {
        "version": __version__,
        "root": describe(ctx, cli),
        "help_topics": sorted(topics.list_commands(ctx)),
    }
    json.dump(tree, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
