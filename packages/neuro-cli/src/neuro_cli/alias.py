"""``[alias]`` entries of the user config as commands (``neuro help aliases``).

An internal alias (``cmd = "ls -l"``) runs a neuro command with preset arguments, the
typed ones appended; an external alias (``exec = "du {path}"``) runs a program, with the
options and arguments it declares parsed like a command's. Aliases never shadow a
built-in command: the root group looks them up only for names it does not know.
"""

import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

import neuro_sdk

# One `args` item: NAME, [NAME] (optional), NAME... (any number, at least one) or [NAME]...
ARG_RE = re.compile(r"(?P<open>\[)?(?P<name>[A-Za-z_][\w-]*)(?P<close>\])?(?P<many>\.\.\.)?")
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
ALIAS_SETTINGS = {
    "ignore_unknown_options": True,
    "allow_extra_args": True,
    "allow_interspersed_args": False,
}


class InternalAlias(click.Command):
    def __init__(self, name: str, definition: Mapping[str, Any]) -> None:
        self.target = str(definition["cmd"])
        help_text = definition.get("help") or f"Alias for 'neuro {self.target}'."
        super().__init__(name, help=help_text, context_settings=ALIAS_SETTINGS)

    def invoke(self, ctx: click.Context) -> Any:
        words = shlex.split(self.target)
        assert ctx.parent is not None
        group = ctx.parent.command
        assert isinstance(group, click.Group)
        # Built-ins only: an alias cannot run another alias (or itself).
        command = group.get_command(ctx.parent, words[0]) if words else None
        if command is None:
            raise click.UsageError(
                f"Alias {self.name} refers to unknown command {' '.join(words[:1])!r}", ctx
            )
        with command.make_context(words[0], [*words[1:], *ctx.args], parent=ctx) as sub_ctx:
            return command.invoke(sub_ctx)


class ExternalAlias(click.Command):
    def __init__(self, name: str, definition: Mapping[str, Any]) -> None:
        self.exec = str(definition["exec"])
        options = [_parse_option(text) for text in definition.get("options", [])]
        arguments = _parse_args(str(definition.get("args", "")))
        self.placeholders = _placeholders(self.exec, options, arguments)
        help_text = definition.get("help") or f"Alias for '{self.exec}'."
        super().__init__(name, help=help_text, params=[*options, *arguments])

    def invoke(self, ctx: click.Context) -> Any:
        values = {param.name: _as_words(param, ctx.params[param.name]) for param in self.params}
        if self.placeholders:
            line = PLACEHOLDER_RE.sub(
                lambda m: " ".join(shlex.quote(w) for w in values[m[1]]), self.exec
            )
            argv = shlex.split(line)
        else:
            argv = [*shlex.split(self.exec), *(w for words in values.values() for w in words)]
        try:
            code = subprocess.run(argv).returncode
        except OSError as exc:
            raise click.ClickException(
                f"Alias {self.name}: cannot run {argv[0]!r}: {exc}"
            ) from None
        if code:
            raise click.exceptions.Exit(code)


def load_alias(config_path: Path | None, name: str) -> click.Command | None:
    """The alias ``name`` of the user config, or None when there is none."""
    import asyncio

    factory = neuro_sdk.Factory(config_path)
    config = asyncio.run(factory.load_user_config())
    definition = config.get("alias", {}).get(name)
    return None if definition is None else make_alias(name, definition)


def make_alias(name: str, definition: Mapping[str, Any]) -> click.Command:
    if "cmd" in definition and "exec" not in definition:
        return InternalAlias(name, definition)
    if "exec" in definition and "cmd" not in definition:
        return ExternalAlias(name, definition)
    raise neuro_sdk.ConfigError(f"Alias {name} needs exactly one of 'cmd' and 'exec'")


def _parse_option(text: str) -> click.Option:
    """``"-s, --size VALUE  help"``: a flag (counted) unless a VALUE follows the names."""
    names, _, help_text = str(text).strip().partition("  ")
    flags = []
    metavar = None
    for word in names.replace(",", " ").replace("=", " ").split():
        if re.fullmatch(r"--[A-Za-z][\w-]*|-[A-Za-z]", word):
            flags.append(word)
        elif metavar is None and re.fullmatch(r"[A-Za-z_]\w*", word):
            metavar = word.upper()
        else:
            raise neuro_sdk.ConfigError(f"Cannot parse alias option {text!r}")
    if not flags:
        raise neuro_sdk.ConfigError(f"Alias option {text!r} has no -x or --name")
    if metavar is None:
        return click.Option(flags, count=True, help=help_text.strip())
    return click.Option(flags, multiple=True, metavar=metavar, help=help_text.strip())


def _parse_args(text: str) -> list[click.Argument]:
    arguments = []
    for word in text.split():
        match = ARG_RE.fullmatch(word)
        if match is None or bool(match["open"]) != bool(match["close"]):
            raise neuro_sdk.ConfigError(f"Cannot parse alias argument {word!r} in {text!r}")
        arguments.append(
            click.Argument(
                [match["name"].upper()],
                required=not match["open"],
                nargs=-1 if match["many"] else 1,
                type=click.UNPROCESSED,
            )
        )
    return arguments


def _placeholders(
    line: str, options: Sequence[click.Option], arguments: Sequence[click.Argument]
) -> bool:
    """Whether ``exec`` has {name} placeholders; each must name a declared parameter."""
    names = {param.name for param in [*options, *arguments]}
    found = PLACEHOLDER_RE.findall(line)
    for name in found:
        key = name.lower().replace("-", "_")
        if key != name or key not in names:
            raise neuro_sdk.ConfigError(f"Unknown parameter {{{name}}} in {line!r}")
    return bool(found)


def _as_words(param: click.Parameter, value: Any) -> list[str]:
    """The command-line words a parsed value stands for."""
    if isinstance(param, click.Argument):
        if value is None:
            return []
        return list(value) if isinstance(value, tuple) else [str(value)]
    assert isinstance(param, click.Option)
    flag = max(param.opts, key=len)
    if param.count:
        return [flag] * int(value or 0)
    return [word for item in value or () for word in (flag, str(item))]
