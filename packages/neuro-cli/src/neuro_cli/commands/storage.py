"""``neuro storage``: cp, ls, mkdir, mv, rm, glob, df, tree (cp/ls/mkdir/mv/rm are also
top-level shortcuts).

Arguments are ``storage:`` URIs or local paths (plain or ``file:``); commands parse them,
call the SDK and hand results to ``formatters.storage``.
"""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules
# (and the HTTP stack) at start-up.
from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

import click
from yarl import URL

import neuro_sdk
from neuro_cli.errors import UserError
from neuro_cli.root import Root
from neuro_cli.runner import async_command

if TYPE_CHECKING:
    from neuro_cli.formatters.storage import TransferProgressBar, TreeNode

DEFAULT_IGNORE_FILE = ".neuroignore"
SORT_KEYS: dict[str, Callable[[neuro_sdk.FileStatus], Any]] = {
    "name": lambda status: status.name,
    "size": lambda status: status.size,
    "time": lambda status: status.modification_time,
}


@click.group()
def storage() -> None:
    """Storage operations."""


def parse_uri(client: neuro_sdk.Client, text: str) -> URL:
    # One set of rules for the SDK and the CLI: the public parser's (docs/protocol.md §5).
    return client.parse.str_to_uri(text, allowed_schemes=("file", "storage"))


def parse_storage_uri(client: neuro_sdk.Client, text: str) -> URL:
    uri = parse_uri(client, text if ":" in text.split("/", 1)[0] else f"storage:{text}")
    if uri.scheme != "storage":
        raise UserError(f"Expected a storage: URI, got {text!r}")
    return uri


# -- cp ----------------------------------------------------------------------------------


class _OrderedFiltersCommand(click.Command):
    """Keeps the command-line order of --exclude and --include (later ones win)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["filter_order"] = [
            arg.split("=", 1)[0]
            for arg in args
            if arg.split("=", 1)[0] in ("--exclude", "--include")
        ]
        return super().parse_args(ctx, args)


def _filter_lines(
    ctx: click.Context, excludes: Sequence[str], includes: Sequence[str]
) -> list[str]:
    """gitignore lines for the filters, in the order the user gave them."""
    pending = {"--exclude": list(excludes), "--include": list(includes)}
    lines = []
    for flag in ctx.meta.get("filter_order", []):
        if pending[flag]:
            pattern = pending[flag].pop(0)
            lines.append(pattern if flag == "--exclude" else "!" + pattern)
    return lines


def make_filter(lines: Sequence[str]) -> Callable[[str], Awaitable[bool]] | None:
    if not lines:
        return None
    from pathspec import GitIgnoreSpec

    spec = GitIgnoreSpec.from_lines(lines)

    async def accept(relative: str) -> bool:
        return not spec.match_file(relative)

    return accept


# Options that cp (here and in ``neuro blob``), mv and rm share; each keeps its place in
# --help.
exclude_option = click.option(
    "--exclude", "excludes", multiple=True, help="Exclude files matching PATTERN."
)
include_option = click.option(
    "--include", "includes", multiple=True, help="Include files matching PATTERN."
)
exclude_from_files_option = click.option(
    "--exclude-from-files",
    "exclude_from_files",
    metavar="FILES",
    default=None,
    help="Space-separated names of ignore files (gitignore syntax) used when uploading "
    f"[default: {DEFAULT_IGNORE_FILE}; config: storage.cp-exclude-from-files].",
)
no_target_directory_option = click.option(
    "-T", "--no-target-directory", is_flag=True, help="Treat DESTINATION as a normal file."
)
_glob_option = click.option(
    "--glob/--no-glob",
    "use_glob",
    default=True,
    show_default=True,
    help="Expand glob patterns (*, ?, [...], **) in SOURCES.",
)


def split_sources(
    sources: Sequence[str],
    destination: str | None,
    target_directory: str | None,
    no_target_directory: bool,
) -> tuple[list[str], str]:
    """The source texts and the target text of ``cp``/``mv`` SOURCES... DESTINATION (or
    ``-t DIRECTORY`` SOURCES...); whether any source is needed is the caller's rule."""
    arguments = [*sources, *([destination] if destination is not None else [])]
    if target_directory is not None:
        if no_target_directory:
            raise click.UsageError("Cannot combine --target-directory and --no-target-directory")
        return arguments, target_directory
    if len(arguments) < 2:
        raise click.UsageError("Missing SOURCES or DESTINATION")
    return arguments[:-1], arguments[-1]


@dataclass(frozen=True)
class CopyOptions:
    """How cp copies, here and in ``neuro blob``."""

    recursive: bool
    update: bool
    continue_: bool
    filter: Callable[[str], Awaitable[bool]] | None
    ignore_file_names: frozenset[str]

    def require_recursive(self, src: URL) -> None:
        if not self.recursive:
            raise UserError(f"{src} is a directory; use -r to copy it recursively")


async def copy_options(
    ctx: click.Context,
    client: neuro_sdk.Client,
    *,
    recursive: bool,
    update: bool,
    continue_: bool,
    excludes: Sequence[str],
    includes: Sequence[str],
    exclude_from_files: str | None,
) -> CopyOptions:
    """The options, with the filters of the user config (``storage`` section) first."""
    user_config = await client.config.get_user_config()
    storage_config = user_config.get("storage", {})
    lines = [*storage_config.get("cp-exclude", []), *_filter_lines(ctx, excludes, includes)]
    if exclude_from_files is None:
        ignore_names = storage_config.get("cp-exclude-from-files", [DEFAULT_IGNORE_FILE])
    else:
        ignore_names = exclude_from_files.split()
    return CopyOptions(
        recursive=recursive,
        update=update,
        continue_=continue_,
        filter=make_filter(lines),
        ignore_file_names=frozenset(ignore_names),
    )


@storage.command(cls=_OrderedFiltersCommand)
@click.argument("sources", nargs=-1, required=False)
@click.argument("destination", required=False)
@click.option("-r", "--recursive", is_flag=True, help="Copy directories recursively.")
@click.option(
    "-u", "--update", is_flag=True, help="Copy only when the source is newer than the target."
)
@click.option(
    "--continue",
    "continue_",
    is_flag=True,
    help="Continue copying partially copied files (append past the target's end).",
)
@exclude_option
@include_option
@exclude_from_files_option
@click.option(
    "-t",
    "--target-directory",
    default=None,
    help="Copy all SOURCES into DIRECTORY.",
    metavar="DIRECTORY",
)
@no_target_directory_option
@_glob_option
@click.option("-p/-P", "--progress/--no-progress", default=False, help="Show progress bars.")
@click.pass_context
@async_command
async def cp(
    ctx: click.Context,
    sources: tuple[str, ...],
    destination: str | None,
    recursive: bool,
    update: bool,
    continue_: bool,
    excludes: tuple[str, ...],
    includes: tuple[str, ...],
    exclude_from_files: str | None,
    target_directory: str | None,
    no_target_directory: bool,
    use_glob: bool,
    progress: bool,
) -> None:
    """Copy files and directories between local disk and storage.

    Either SOURCES or DESTINATION is a storage: URI, the other local paths.
    Use -r for directories. Patterns of --exclude/--include follow gitignore rules;
    the last matching one wins.
    """
    root: Root = ctx.obj
    source_texts, target_text = split_sources(
        sources, destination, target_directory, no_target_directory
    )
    if not source_texts:
        raise click.UsageError("Missing SOURCES")
    if no_target_directory and len(source_texts) > 1:
        raise click.UsageError("-T needs exactly one source")

    async with root.client() as client:
        options = await copy_options(
            ctx,
            client,
            recursive=recursive,
            update=update,
            continue_=continue_,
            excludes=excludes,
            includes=includes,
            exclude_from_files=exclude_from_files,
        )
        target = parse_uri(client, target_text)
        src_uris = [uri for text in source_texts for uri in await _expand(client, text, use_glob)]
        target_is_dir = await _into_dir(
            client, target, len(src_uris), target_directory, no_target_directory
        )
        copier = _Copier(client, options)
        bar: TransferProgressBar | None = None
        if progress:
            from neuro_cli.formatters.storage import TransferProgressBar

            bar = TransferProgressBar(root.console)
        if bar is not None:
            bar.__enter__()
        try:
            for src in src_uris:
                dst = target / _basename(src) if target_is_dir else target
                await copier.copy(src, dst, bar)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)


def _basename(uri: URL) -> str:
    return uri.path.rstrip("/").rpartition("/")[2]


async def _expand(client: neuro_sdk.Client, text: str, use_glob: bool = True) -> list[URL]:
    uri = parse_uri(client, text)
    if use_glob and client.parse.is_glob_pattern(uri):
        async with client.storage.glob(uri) as found:
            matches = [match async for match in found]
        if not matches:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", text)
        return matches
    return [uri]


async def _into_dir(
    client: neuro_sdk.Client,
    target: URL,
    sources: int,
    target_directory: str | None,
    no_target_directory: bool,
) -> bool:
    """Whether the sources go into ``target`` (as cp and mv decide it), not onto it."""
    return target_directory is not None or (
        not no_target_directory and (sources > 1 or await _is_dir(client, target))
    )


async def _is_dir(client: neuro_sdk.Client, uri: URL) -> bool:
    if uri.scheme == "file":
        return client.parse.uri_to_path(uri).is_dir()
    try:
        return (await client.storage.stat(uri)).is_dir()
    except (neuro_sdk.ResourceNotFound, FileNotFoundError):
        return False


class _Copier:
    def __init__(self, client: neuro_sdk.Client, options: CopyOptions) -> None:
        self._storage = client.storage
        self._parse = client.parse
        self._options = options

    async def copy(self, src: URL, dst: URL, bar: TransferProgressBar | None) -> None:
        options = self._options
        flags = {"update": options.update, "continue_": options.continue_}
        if src.scheme == "file" and dst.scheme == "storage":
            path = self._parse.uri_to_path(src)
            if path.is_dir():
                options.require_recursive(src)
                await self._storage.upload_dir(
                    src,
                    dst,
                    filter=options.filter,
                    ignore_file_names=options.ignore_file_names,
                    progress=bar,
                    **flags,
                )
            else:
                await self._storage.upload_file(src, dst, progress=bar, **flags)
        elif src.scheme == "storage" and dst.scheme == "file":
            if (await self._storage.stat(src)).is_dir():
                options.require_recursive(src)
                await self._storage.download_dir(
                    src, dst, filter=options.filter, progress=bar, **flags
                )
            else:
                await self._storage.download_file(src, dst, progress=bar, **flags)
        else:
            raise UserError(
                f"Copying from {src.scheme}: to {dst.scheme}: is not supported; "
                "one side must be storage:, the other a local path"
            )


# -- ls, tree, glob, df ------------------------------------------------------------------


@storage.command()
@click.argument("paths", nargs=-1)
@click.option("-l", "long_format", is_flag=True, help="Use a long listing format.")
@click.option("-h", "--human-readable", is_flag=True, help="With -l print sizes like 1K 234M.")
@click.option(
    "-a", "--all", "show_all", is_flag=True, help="Do not ignore entries starting with '.'."
)
@click.option(
    "-d", "--directory", is_flag=True, help="List directories themselves, not their contents."
)
@click.option(
    "--sort",
    type=click.Choice(list(SORT_KEYS)),
    default="name",
    show_default=True,
    help="Sort by the given field.",
)
@click.pass_obj
@async_command
async def ls(
    root: Root,
    paths: tuple[str, ...],
    long_format: bool,
    human_readable: bool,
    show_all: bool,
    directory: bool,
    sort: str,
) -> None:
    """List directory contents (by default the home directory on storage)."""
    from neuro_cli.formatters.storage import (
        long_row_maker,
        print_long_rows,
        print_short_listing,
    )

    key = SORT_KEYS[sort]
    # Each entry's row is made as it arrives, while the server is still sending the rest;
    # the rows are printed once sorted.
    row = long_row_maker(human_readable=human_readable) if long_format else _entry_name
    async with root.client() as client:
        for index, text in enumerate(paths or ("storage:",)):
            uri = parse_storage_uri(client, text)
            entries: list[tuple[Any, Any]] | None = None  # (sort key, long row or name)
            if not directory:
                entries = await _listed(client, uri, lambda s: (key(s), row(s)), show_all)
            if entries is None:
                status = await client.storage.stat(uri)
                entries = [(key(status), row(status))]
            entries.sort(key=itemgetter(0))
            if len(paths) > 1:
                root.print(("\n" if index else "") + f"{uri}:")
            if long_format:
                print_long_rows(root.console, [entry for _, entry in entries])
            elif entries:
                print_short_listing(root.console, [entry for _, entry in entries])


_T = TypeVar("_T")


async def _listed(
    client: neuro_sdk.Client,
    uri: URL,
    make: Callable[[neuro_sdk.FileStatus], _T],
    show_all: bool,
) -> list[_T] | None:
    """``make`` of each entry of the directory ``uri``, or None if ``uri`` is no directory:
    listing it is refused (ENOTDIR), so no stat needs to go first (nor did the original
    CLI send one)."""
    try:
        async with client.storage.list(uri) as listed:
            return [make(s) async for s in listed if show_all or not s.name.startswith(".")]
    except NotADirectoryError:
        return None


def _entry_name(status: neuro_sdk.FileStatus) -> str:
    return status.name


@storage.command()
@click.argument("path", required=False, default="storage:")
@click.option("-s", "--size", "sizes", is_flag=True, help="Print the size of each file.")
@click.option("-h", "--human-readable", is_flag=True, help="Print sizes like 1K 234M.")
@click.option("-a", "--all", "show_all", is_flag=True, help="Show entries starting with '.'.")
@click.option(
    "--sort",
    type=click.Choice(list(SORT_KEYS)),
    default="name",
    show_default=True,
    help="Sort the entries of each directory by this field.",
)
@click.pass_obj
@async_command
async def tree(
    root: Root, path: str, sizes: bool, human_readable: bool, show_all: bool, sort: str
) -> None:
    """List the contents of a storage directory as a tree."""
    from neuro_cli.formatters.storage import TreeNode, format_tree

    async with root.client() as client:
        uri = parse_storage_uri(client, path)

        async def children(directory: URL) -> tuple[TreeNode, ...]:
            async with client.storage.list(directory) as listed:
                statuses = sorted(
                    [s async for s in listed if show_all or not s.name.startswith(".")],
                    key=SORT_KEYS[sort],
                )
            return tuple(
                [TreeNode(s, await children(s.uri) if s.is_dir() else ()) for s in statuses]
            )

        nodes = await children(uri)
        root.print(format_tree(uri, nodes, sizes=sizes, human_readable=human_readable))


@storage.command()
@click.argument("patterns", nargs=-1, required=True)
@click.option("--dironly", is_flag=True, help="Match directories only.")
@click.pass_obj
@async_command
async def glob(root: Root, patterns: tuple[str, ...], dironly: bool) -> None:
    """List storage resources that match PATTERNS (*, ?, [..] and ** for any depth)."""
    from neuro_cli.formatters.storage import format_uris

    async with root.client() as client:
        for pattern in patterns:
            uri = parse_storage_uri(client, pattern)
            async with client.storage.glob(uri, dironly=dironly) as found:
                matches = [match async for match in found]
            if matches:
                root.print(format_uris(matches))


@storage.command()
@click.option("-h", "--human-readable", is_flag=True, help="Print sizes like 1K 234M.")
@click.pass_obj
@async_command
async def df(root: Root, human_readable: bool) -> None:
    """Show the storage usage of the current cluster and org."""
    from neuro_cli.formatters.storage import format_disk_usage

    async with root.client() as client:
        usage = await client.storage.disk_usage()
        root.print(format_disk_usage(usage, human_readable=human_readable))


# -- mkdir, mv, rm -----------------------------------------------------------------------


@storage.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-p", "--parents", is_flag=True, help="Make parent directories; no error if existing."
)
@click.pass_obj
@async_command
async def mkdir(root: Root, paths: tuple[str, ...], parents: bool) -> None:
    """Make storage directories."""
    async with root.client() as client:
        for text in paths:
            uri = parse_storage_uri(client, text)
            await client.storage.mkdir(uri, parents=parents, exist_ok=parents)


@storage.command()
@click.argument("sources", nargs=-1)
@click.argument("destination", required=False)
@click.option(
    "-t",
    "--target-directory",
    default=None,
    metavar="DIRECTORY",
    help="Move all SOURCES into DIRECTORY.",
)
@no_target_directory_option
@_glob_option
@click.pass_obj
@async_command
async def mv(
    root: Root,
    sources: tuple[str, ...],
    destination: str | None,
    target_directory: str | None,
    no_target_directory: bool,
    use_glob: bool,
) -> None:
    """Move or rename storage files and directories.

    \b
    neuro mv storage:results/*.log storage:logs
    neuro mv -t storage:logs storage:a.log storage:b.log
    """
    source_texts, target_text = split_sources(
        sources, destination, target_directory, no_target_directory
    )
    if not source_texts:
        raise click.UsageError("Missing SOURCES or DESTINATION")
    async with root.client() as client:
        target = parse_storage_uri(client, target_text)
        src_uris = [
            uri
            for text in source_texts
            for uri in await _expand(client, _storage_text(text), use_glob)
        ]
        if any(uri.scheme != "storage" for uri in src_uris):
            raise UserError("mv moves storage: files only; use cp for local ones")
        into = await _into_dir(client, target, len(src_uris), target_directory, no_target_directory)
        for src in src_uris:
            await client.storage.mv(src, target / _basename(src) if into else target)


def _storage_text(text: str) -> str:
    # mv and rm work on storage only: a bare path means one there.
    return text if ":" in text.split("/", 1)[0] else f"storage:{text}"


class _PrintRemoved(neuro_sdk.AbstractDeleteProgress):
    def __init__(self, root: Root) -> None:
        self._root = root

    def delete(self, data: neuro_sdk.StorageProgressDelete) -> None:
        from neuro_cli.formatters.storage import format_removed

        self._root.print(format_removed(data))


@storage.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-r", "--recursive", is_flag=True, help="Remove directories and their contents.")
@click.option("-p/-P", "--progress/--no-progress", default=False, help="Print each removed entry.")
@_glob_option
@click.pass_obj
@async_command
async def rm(
    root: Root, paths: tuple[str, ...], recursive: bool, progress: bool, use_glob: bool
) -> None:
    """Remove storage files and directories."""
    async with root.client() as client:
        for text in paths:
            uris = await _expand(client, _storage_text(text), use_glob)
            for uri in uris:
                await client.storage.rm(
                    uri, recursive=recursive, progress=_PrintRemoved(root) if progress else None
                )
