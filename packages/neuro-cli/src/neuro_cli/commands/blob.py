"""``neuro blob``: buckets, their blobs and bucket credentials (docs/buckets.md).

The subcommands and options are the original client's. Blob arguments are ``blob:`` URIs
(``blob:bucket/key``, ``blob://cluster/[org/]owner/bucket/key``), parsed by the SDK's
public parser; a trailing ``/`` is kept, since ``folder/`` and ``folder`` differ for keys.
"""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules
# (and the HTTP stack) at start-up.
from __future__ import annotations

import glob as globmodule
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from yarl import URL

import neuro_sdk
from neuro_cli.commands.disk import parse_duration
from neuro_cli.commands.storage import (
    CopyOptions,
    _OrderedFiltersCommand,
    copy_options,
    exclude_from_files_option,
    exclude_option,
    include_option,
    no_target_directory_option,
    split_sources,
)
from neuro_cli.errors import UserError, describe_error, error_line
from neuro_cli.orgs import chosen_org
from neuro_cli.root import Root
from neuro_cli.runner import async_command

if TYPE_CHECKING:
    from neuro_cli.formatters.buckets import UriFormatter

BLOB = "blob"
STDIN, STDOUT = "/dev/stdin", "/dev/stdout"
_CLUSTER_HELP = "Perform on a specified cluster (the current cluster by default)."
_OWNER_HELP = "Owner of bucket to assume for named bucket (the current user by default)"


@click.group()
def blob() -> None:
    """Blob storage operations."""


def parse_blob_uri(client: neuro_sdk.Client, text: str, *, allow_file: bool = False) -> URL:
    """A ``blob:`` (or, with ``allow_file``, local) URI; a trailing "/" survives."""
    schemes = (BLOB, "file") if allow_file else (BLOB,)
    if not allow_file and not text.startswith(f"{BLOB}:"):
        raise UserError(f"Expected a blob: URI, got {text!r}")
    uri = client.parse.str_to_uri(text, allowed_schemes=schemes)
    if uri.scheme == BLOB and text.endswith("/") and not uri.path.endswith("/"):
        uri = uri.with_path(uri.path + "/")
    return uri


def uri_formatter(client: neuro_sdk.Client, full: bool) -> UriFormatter:
    def short(uri: URL) -> str:
        text = str(client.parse.normalize_uri(uri, short=True))
        return text + "/" if uri.path.endswith("/") and not text.endswith("/") else text

    return str if full else short


async def _bucket_names(client: neuro_sdk.Client, cluster: str | None) -> dict[str, str]:
    async with client.buckets.list(cluster_name=cluster) as buckets:
        return {b.id: b.name or b.id async for b in buckets}


# -- buckets -------------------------------------------------------------------------------


@blob.command()
@click.option("--cluster", help="Look on a specified cluster (the current cluster by default).")
@click.option("--full-uri", is_flag=True, help="Output full bucket URI.")
@click.option("--long-format", is_flag=True, help="Output all info about bucket.")
@click.pass_obj
@async_command
async def lsbucket(root: Root, cluster: str | None, full_uri: bool, long_format: bool) -> None:
    """List buckets."""
    from neuro_cli.formatters.buckets import format_buckets

    async with root.client() as client:
        async with client.buckets.list(cluster_name=cluster) as found:
            buckets = [bucket async for bucket in found]
        root.print(format_buckets(buckets, uri_formatter(client, full_uri), long=long_format))


@blob.command()
@click.option("--cluster", help=_CLUSTER_HELP)
@click.option("--name", help="Optional bucket name")
@click.option("--org", help="Perform in a specified org (the current org by default).")
@click.pass_obj
@async_command
async def mkbucket(root: Root, cluster: str | None, name: str | None, org: str | None) -> None:
    """Create a new bucket."""
    from neuro_cli.formatters.buckets import format_bucket

    async with root.client() as client:
        bucket = await client.buckets.create(
            name=name, cluster_name=cluster, org_name=chosen_org(org, client.config.org_name)
        )
        root.print(format_bucket(bucket, uri_formatter(client, False)))


_PROVIDERS = ("aws", "minio", "open_stack", "azure", "gcp")


@blob.command()
@click.option("--provider", required=True, type=click.Choice(_PROVIDERS), help="Bucket provider.")
@click.option(
    "--provider-bucket-name",
    required=True,
    help="Name of bucket (or container in case of Azure) inside the provider",
)
@click.option("--aws-access-key-id", help="AWS access_key_id to use to access the bucket.")
@click.option("--aws-secret-access-key", help="AWS secret_access_key to access the bucket.")
@click.option("--aws-region-name", help="AWS region to use to access the bucket.")
@click.option("--aws-endpoint-url", help="S3 endpoint, for a non-AWS S3-compatible provider.")
@click.option("--azure-storage-account-url", help="Azure account url.")
@click.option("--azure-storage-credential", help="Azure storage credential.")
@click.option("--azure-storage-sas-token", help="Azure shared access signature token.")
@click.option("--gcp-sa-credential", help="GCP service account key, base64-encoded JSON.")
@click.option("--cluster", help=_CLUSTER_HELP)
@click.option("--name", help="Optional bucket name")
@click.option("--org", help="Perform in a specified org (the current org by default).")
@click.pass_obj
@async_command
async def importbucket(
    root: Root,
    provider: str,
    provider_bucket_name: str,
    aws_access_key_id: str | None,
    aws_secret_access_key: str | None,
    aws_region_name: str | None,
    aws_endpoint_url: str | None,
    azure_storage_account_url: str | None,
    azure_storage_credential: str | None,
    azure_storage_sas_token: str | None,
    gcp_sa_credential: str | None,
    cluster: str | None,
    name: str | None,
    org: str | None,
) -> None:
    """Import an existing bucket."""
    from neuro_cli.formatters.buckets import format_bucket

    credentials: dict[str, str] = {}
    if provider in ("aws", "minio", "open_stack"):
        if not aws_access_key_id or not aws_secret_access_key:
            raise click.UsageError(
                "--aws-access-key-id and --aws-secret-access-key are required for this provider"
            )
        credentials = {
            "access_key_id": aws_access_key_id,
            "secret_access_key": aws_secret_access_key,
        }
        if aws_region_name:
            credentials["region_name"] = aws_region_name
        if aws_endpoint_url:
            credentials["endpoint_url"] = aws_endpoint_url
    elif provider == "azure":
        if not azure_storage_account_url or not (
            azure_storage_credential or azure_storage_sas_token
        ):
            raise click.UsageError(
                "--azure-storage-account-url and a credential or SAS token are required"
            )
        credentials = {"storage_endpoint": azure_storage_account_url}
        if azure_storage_credential:
            credentials["credential"] = azure_storage_credential
        if azure_storage_sas_token:
            credentials["sas_token"] = azure_storage_sas_token
    else:
        if not gcp_sa_credential:
            raise click.UsageError("--gcp-sa-credential is required for provider gcp")
        credentials = {"key_data": gcp_sa_credential}
    async with root.client() as client:
        bucket = await client.buckets.import_external(
            provider=neuro_sdk.Bucket.Provider(provider),
            provider_bucket_name=provider_bucket_name,
            credentials=credentials,
            name=name,
            cluster_name=cluster,
            org_name=chosen_org(org, client.config.org_name),
        )
        root.print(format_bucket(bucket, uri_formatter(client, False)))


@blob.command()
@click.argument("bucket")
@click.option("--cluster", help="Look on a specified cluster (the current cluster by default).")
@click.option("--full-uri", is_flag=True, help="Output full bucket URI.")
@click.option("--owner", help=_OWNER_HELP)
@click.pass_obj
@async_command
async def statbucket(
    root: Root, bucket: str, cluster: str | None, full_uri: bool, owner: str | None
) -> None:
    """Get bucket BUCKET."""
    from neuro_cli.formatters.buckets import format_bucket

    async with root.client() as client:
        found = await client.buckets.get(bucket, cluster_name=cluster, bucket_owner=owner)
        root.print(format_bucket(found, uri_formatter(client, full_uri)))


@blob.command()
@click.argument("bucket")
@click.option("--cluster", help="Look on a specified cluster (the current cluster by default).")
@click.option("--owner", help=_OWNER_HELP)
@click.pass_obj
@async_command
async def du(root: Root, bucket: str, cluster: str | None, owner: str | None) -> None:
    """Get storage usage for BUCKET."""
    from neuro_cli.formatters.buckets import format_usage

    async with root.client() as client:
        found = await client.buckets.get(bucket, cluster_name=cluster, bucket_owner=owner)
        label = found.name or found.id
        if found.owner != client.username:
            label += f" (owner {found.owner})"
        usage = neuro_sdk.BucketUsage(total_bytes=0, object_count=0)
        async with client.buckets.get_disk_usage(
            found.id, cluster_name=cluster, bucket_owner=found.owner
        ) as usages:
            async for partial in usages:
                usage = partial  # the last one is the whole bucket
        root.print(format_usage(label, usage))


@blob.command()
@click.argument("buckets", nargs=-1, required=True)
@click.option("--cluster", help=_CLUSTER_HELP)
@click.option("-f", "--force", is_flag=True, help="Force removal of all blobs inside bucket")
@click.option("--owner", help=_OWNER_HELP)
@click.pass_obj
@async_command
async def rmbucket(
    root: Root, buckets: tuple[str, ...], cluster: str | None, force: bool, owner: str | None
) -> None:
    """Remove bucket BUCKET."""
    async with root.client() as client:
        for name in buckets:
            found = await client.buckets.get(name, cluster_name=cluster, bucket_owner=owner)
            if force:
                await client.buckets.blob_rm(found.uri, recursive=True)
            await client.buckets.rm(found.id, cluster_name=cluster, bucket_owner=found.owner)
            root.info(f"Bucket with id '{found.id}' was successfully removed.")


@blob.command("set-bucket-publicity")
@click.argument("bucket")
@click.argument("public_level", type=click.Choice(["public", "private"], case_sensitive=False))
@click.option("--cluster", help=_CLUSTER_HELP)
@click.option("--owner", help=_OWNER_HELP)
@click.pass_obj
@async_command
async def set_bucket_publicity(
    root: Root, bucket: str, public_level: str, cluster: str | None, owner: str | None
) -> None:
    """Change public access settings for BUCKET.

    Examples:

        neuro blob set-bucket-publicity my-bucket public

        neuro blob set-bucket-publicity my-bucket private
    """
    public = public_level.lower() == "public"
    async with root.client() as client:
        await client.buckets.set_public_access(
            bucket, public, cluster_name=cluster, bucket_owner=owner
        )
    root.info(f"Bucket '{bucket}' was made {'public' if public else 'non-public'}.")


# -- blobs ---------------------------------------------------------------------------------


@blob.command()
@click.argument("paths", nargs=-1)
@click.option("-l", "long_format", is_flag=True, help="use a long listing format.")
@click.option("--full-uri", is_flag=True, help="Output full bucket URI.")
@click.option("-h", "--human-readable", is_flag=True, help="with -l print human readable sizes.")
@click.option(
    "-r", "--recursive", is_flag=True, help="List all keys under the URL path, not one level."
)
@click.pass_obj
@async_command
async def ls(
    root: Root,
    paths: tuple[str, ...],
    long_format: bool,
    full_uri: bool,
    human_readable: bool,
    recursive: bool,
) -> None:
    """List buckets or bucket contents."""
    from neuro_cli.formatters.buckets import format_blob_listing

    async with root.client() as client:
        fmt = uri_formatter(client, full_uri)
        if not paths:
            async with client.buckets.list() as found:
                buckets = [bucket async for bucket in found]
            root.print(
                format_blob_listing(buckets, fmt, long=long_format, human_readable=human_readable)
            )
            return
        for text in paths:
            uri = parse_blob_uri(client, text)
            async with client.buckets.list_blobs(uri, recursive=recursive) as found:
                entries = [entry async for entry in found]
            root.print(
                format_blob_listing(entries, fmt, long=long_format, human_readable=human_readable)
            )


@blob.command()
@click.argument("patterns", nargs=-1)
@click.option("--full-uri", is_flag=True, help="Output full bucket URI.")
@click.pass_obj
@async_command
async def glob(root: Root, patterns: tuple[str, ...], full_uri: bool) -> None:
    """List resources that match PATTERNS."""
    async with root.client() as client:
        fmt = uri_formatter(client, full_uri)
        for text in patterns:
            async with client.buckets.glob_blobs(parse_blob_uri(client, text)) as found:
                async for entry in found:
                    root.print(fmt(entry.uri))


class _FailPrinter(neuro_sdk.AbstractRecursiveFileProgress):
    """No progress shown, but a skipped file is still reported."""

    def start(self, data: neuro_sdk.StorageProgressStart) -> None:
        pass

    def step(self, data: neuro_sdk.StorageProgressStep) -> None:
        pass

    def complete(self, data: neuro_sdk.StorageProgressComplete) -> None:
        pass

    def enter(self, data: neuro_sdk.StorageProgressEnterDir) -> None:
        pass

    def leave(self, data: neuro_sdk.StorageProgressLeaveDir) -> None:
        pass

    def fail(self, data: neuro_sdk.StorageProgressFail) -> None:
        click.echo(f"WARNING: {data.src} -> {data.dst}: {data.message}", err=True)


@blob.command(cls=_OrderedFiltersCommand)
@click.argument("sources", nargs=-1, required=False)
@click.argument("destination", required=False)
@click.option(
    "--continue",
    "continue_",
    is_flag=True,
    help="Continue copying partially-copied files. Only for copying from Blob Storage.",
)
@exclude_from_files_option
@exclude_option
@include_option
@click.option(
    "--glob/--no-glob",
    "use_glob",
    default=True,
    show_default=True,
    help="Expand glob patterns in SOURCES with explicit scheme.",
)
@no_target_directory_option
@click.option(
    "-p/-P", "--progress/--no-progress", default=True, help="Show progress, on by default."
)
@click.option("-r", "--recursive", is_flag=True, help="Recursive copy, off by default")
@click.option(
    "-t", "--target-directory", metavar="DIRECTORY", help="Copy all SOURCES into DIRECTORY."
)
@click.option(
    "-u",
    "--update",
    is_flag=True,
    help="Copy only when the SOURCE file is newer than the destination or it is missing.",
)
@click.pass_context
@async_command
async def cp(
    ctx: click.Context,
    sources: tuple[str, ...],
    destination: str | None,
    continue_: bool,
    exclude_from_files: str | None,
    excludes: tuple[str, ...],
    includes: tuple[str, ...],
    use_glob: bool,
    no_target_directory: bool,
    progress: bool,
    recursive: bool,
    target_directory: str | None,
    update: bool,
) -> None:
    """Copy blobs into and from Blob Storage.

    Either SOURCES or DESTINATION is a blob: URI, the other local paths (copying between
    blob: and storage: is not supported). Use /dev/stdin and /dev/stdout to upload from
    standard input or print a blob. A source with a trailing "/" copies its contents.
    Patterns of --exclude/--include follow gitignore rules; the last matching one wins.
    """
    root: Root = ctx.obj
    source_texts, target_text = split_sources(
        sources, destination, target_directory, no_target_directory
    )
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
        copier = _BlobCopier(client, options)
        src_uris: list[tuple[URL, str]] = []
        for text in source_texts:
            src_uris += await _expand(client, text, use_glob)
        if no_target_directory and len(src_uris) > 1:
            raise click.UsageError("-T needs exactly one source")
        target = _parse_cp_uri(client, target_text)
        target_is_dir = target_directory is not None or (
            not no_target_directory and await _is_dir(client, target)
        )
        bar = None
        if progress and root.console.is_terminal and not root.quiet:
            from neuro_cli.formatters.storage import TransferProgressBar

            bar = TransferProgressBar(root.console)
            bar.__enter__()
        failures: list[str] = []
        try:
            for src, name in src_uris:
                dst = _child(target, name) if target_is_dir and name else target
                try:
                    await copier.copy(src, dst, bar or _FailPrinter())
                except (OSError, ValueError, neuro_sdk.NeuroError) as error:
                    if len(src_uris) == 1:
                        raise
                    failures.append(f"cannot copy {src} to {dst}: {describe_error(error)}")
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        for failure in failures[:-1]:
            click.echo(error_line(failure), err=True)
        if failures:
            raise UserError(failures[-1])


def _parse_cp_uri(client: neuro_sdk.Client, text: str) -> URL:
    if text in (STDIN, STDOUT):
        return URL.build(scheme="file", host="", path=text)
    uri = parse_blob_uri(client, text, allow_file=True)
    if uri.scheme not in (BLOB, "file"):
        raise UserError(f"Unsupported URI {text!r}: copy between blob: and local files")
    return uri


def _child(target: URL, name: str) -> URL:
    return target.with_path(target.path.rstrip("/") + "/" + name)


async def _expand(client: neuro_sdk.Client, text: str, use_glob: bool) -> list[tuple[URL, str]]:
    """The sources a text names, each with the name it gets in a target directory ("" for
    a source with a trailing "/": its contents go into the target itself)."""
    uri = _parse_cp_uri(client, text)
    if use_glob and globmodule.has_magic(text) and text.startswith(f"{BLOB}:"):
        async with client.buckets.glob_blobs(uri) as found:
            matches = [(entry.uri, entry.name) async for entry in found]
        if not matches:
            raise FileNotFoundError(f"No blobs match {text}")
        return matches
    if use_glob and globmodule.has_magic(text) and uri.scheme == "file":
        paths = sorted(globmodule.glob(str(client.parse.uri_to_path(uri)), recursive=True))
        if not paths:
            raise FileNotFoundError(f"No files match {text}")
        return [(client.parse.path_to_uri(Path(p)), Path(p).name) for p in paths]
    name = "" if text.endswith("/") else uri.path.rstrip("/").rpartition("/")[2]
    return [(uri, name)]


async def _is_dir(client: neuro_sdk.Client, uri: URL) -> bool:
    if uri.scheme == BLOB:
        return await client.buckets.blob_is_dir(uri)
    if uri.path in (STDIN, STDOUT):
        return False
    return client.parse.uri_to_path(uri).is_dir()


class _BlobCopier:
    def __init__(self, client: neuro_sdk.Client, options: CopyOptions) -> None:
        self._client = client
        self._buckets = client.buckets
        self._options = options

    async def copy(
        self, src: URL, dst: URL, progress: neuro_sdk.AbstractRecursiveFileProgress
    ) -> None:
        options = self._options
        if src.scheme == "file" and dst.scheme == BLOB:
            if options.continue_:
                raise click.UsageError("--continue is not supported for copying to Blob Storage")
            if src.path == STDIN:
                await self._upload_stdin(dst)
            elif self._client.parse.uri_to_path(src).is_dir():
                options.require_recursive(src)
                await self._buckets.upload_dir(
                    src,
                    dst,
                    update=options.update,
                    filter=options.filter,
                    ignore_file_names=options.ignore_file_names,
                    progress=progress,
                )
            else:
                await self._buckets.upload_file(src, dst, update=options.update, progress=progress)
        elif src.scheme == BLOB and dst.scheme == "file":
            if dst.path == STDOUT:
                await self._buckets.download_file(src, dst)
            elif await self._buckets.blob_is_dir(src):
                options.require_recursive(src)
                await self._buckets.download_dir(
                    src,
                    dst,
                    update=options.update,
                    continue_=options.continue_,
                    filter=options.filter,
                    progress=progress,
                )
            else:
                await self._buckets.download_file(
                    src, dst, update=options.update, continue_=options.continue_, progress=progress
                )
        else:
            raise UserError(
                f"Copying from {src.scheme}: to {dst.scheme}: is not supported; "
                "one side must be blob:, the other a local path"
            )

    async def _upload_stdin(self, dst: URL) -> None:
        # A pipe has no size to plan parts by: spool it to a temporary file first.
        import shutil
        import tempfile

        with tempfile.NamedTemporaryFile(prefix="neuro-blob-") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool, 1024 * 1024)
            spool.flush()
            spooled = self._client.parse.path_to_uri(Path(spool.name))
            await self._buckets.upload_file(spooled, dst)


# -- rm, sign-url --------------------------------------------------------------------------


class _DeletePrinter(neuro_sdk.AbstractDeleteProgress):
    def __init__(self, root: Root, fmt: UriFormatter) -> None:
        self._root = root
        self._fmt = fmt

    def delete(self, data: neuro_sdk.StorageProgressDelete) -> None:
        self._root.info(f"removed {self._fmt(data.uri)}")


@blob.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--glob/--no-glob", "use_glob", default=True, show_default=True, help="Expand glob patterns."
)
@click.option(
    "-p/-P",
    "--progress/--no-progress",
    default=None,
    help="Show progress, on by default in TTY mode, off otherwise.",
)
@click.option(
    "-r", "--recursive", is_flag=True, help="remove directories and their contents recursively"
)
@click.pass_obj
@async_command
async def rm(
    root: Root, paths: tuple[str, ...], use_glob: bool, progress: bool | None, recursive: bool
) -> None:
    """Remove blobs from bucket."""
    async with root.client() as client:
        show = root.console.is_terminal if progress is None else progress
        printer = _DeletePrinter(root, uri_formatter(client, False)) if show else None
        uris: list[URL] = []
        for text in paths:
            uri = parse_blob_uri(client, text)
            if use_glob and globmodule.has_magic(text):
                async with client.buckets.glob_blobs(uri) as found:
                    uris += [entry.uri async for entry in found]
            else:
                uris.append(uri)
        for uri in uris:
            await client.buckets.blob_rm(uri, recursive=recursive, progress=printer)


@blob.command("sign-url")
@click.argument("path")
@click.option(
    "--expires",
    metavar="TIMEDELTA",
    default="1h",
    show_default=True,
    help="Duration this signature will be valid in the format '1h2m3s'",
)
@click.pass_obj
@async_command
async def sign_url(root: Root, path: str, expires: str) -> None:
    """Make signed url for blob in bucket."""
    seconds = int(parse_duration(expires).total_seconds())
    if seconds <= 0:
        raise click.BadParameter("the duration must be positive", param_hint="--expires")
    async with root.client() as client:
        url = await client.buckets.make_signed_url(parse_blob_uri(client, path), seconds)
    root.print(str(url), soft_wrap=True)  # a wrapped URL is a broken one


# -- persistent credentials ----------------------------------------------------------------


@blob.command()
@click.option("--cluster", help="Look on a specified cluster (the current cluster by default).")
@click.pass_obj
@async_command
async def lscredentials(root: Root, cluster: str | None) -> None:
    """List bucket credentials."""
    from neuro_cli.formatters.buckets import format_credentials_list

    async with root.client() as client:
        async with client.buckets.persistent_credentials_list(cluster_name=cluster) as found:
            credentials = [item async for item in found]
        root.print(format_credentials_list(credentials, await _bucket_names(client, cluster)))


@blob.command()
@click.argument("buckets", nargs=-1, required=True)
@click.option("--cluster", help=_CLUSTER_HELP)
@click.option("--name", help="Optional bucket credential name")
@click.option("--read-only", is_flag=True, help="Make read-only credential")
@click.pass_obj
@async_command
async def mkcredentials(
    root: Root, buckets: tuple[str, ...], cluster: str | None, name: str | None, read_only: bool
) -> None:
    """Create a new bucket credential."""
    from neuro_cli.formatters.buckets import format_credentials

    async with root.client() as client:
        ids = [(await client.buckets.get(b, cluster_name=cluster)).id for b in buckets]
        created = await client.buckets.persistent_credentials_create(
            ids, name=name, read_only=read_only, cluster_name=cluster
        )
        root.print(format_credentials(created, await _bucket_names(client, cluster)))


@blob.command()
@click.argument("bucket_credential")
@click.option("--cluster", help="Look on a specified cluster (the current cluster by default).")
@click.pass_obj
@async_command
async def statcredentials(root: Root, bucket_credential: str, cluster: str | None) -> None:
    """Get bucket credential BUCKET_CREDENTIAL."""
    from neuro_cli.formatters.buckets import format_credentials

    async with root.client() as client:
        found = await client.buckets.persistent_credentials_get(
            bucket_credential, cluster_name=cluster
        )
        root.print(format_credentials(found, await _bucket_names(client, cluster)))


@blob.command()
@click.argument("credentials", nargs=-1, required=True)
@click.option("--cluster", help=_CLUSTER_HELP)
@click.pass_obj
@async_command
async def rmcredentials(root: Root, credentials: tuple[str, ...], cluster: str | None) -> None:
    """Remove bucket credential BUCKET_CREDENTIAL."""
    async with root.client() as client:
        for credential in credentials:
            await client.buckets.persistent_credentials_rm(credential, cluster_name=cluster)
            root.info(f"Bucket credential '{credential}' was successfully removed.")
