"""``neuro image`` (and the shortcuts ``neuro images``, ``push``, ``pull``): images in the
platform registry (docs/protocol.md §6)."""

# Annotations stay unevaluated: naming SDK classes in them must not import the SDK modules
# (and the HTTP stack) at start-up.
from __future__ import annotations

import dataclasses
import re

import click

import neuro_sdk
from neuro_cli.errors import UserError
from neuro_cli.root import Root
from neuro_cli.runner import async_command


@click.group()
def image() -> None:
    """Container image operations."""


@click.command()
@click.argument("local_image")
@click.argument("remote_image", required=False)
@click.pass_obj
@async_command
async def push(root: Root, local_image: str, remote_image: str | None) -> None:
    """Push an image to the platform registry.

    REMOTE_IMAGE is an image: URI (default: LOCAL_IMAGE's name in your own namespace).
    A missing tag means 'latest'.

    Examples:

        neuro push myimage

        neuro push alpine:latest image:my-alpine:production

        neuro push alpine image:/myfriend/alpine:shared
    """
    from neuro_cli.formatters.images import DockerImageProgress

    async with root.client() as client:
        local = client.parse.local_image(local_image)
        remote = client.parse.remote_image(remote_image) if remote_image else None
        with DockerImageProgress.create(root.console, quiet=root.quiet) as progress:
            result = await client.images.push(local, remote, progress=progress)
    root.print(str(result))


@click.command()
@click.argument("remote_image")
@click.argument("local_image", required=False)
@click.pass_obj
@async_command
async def pull(root: Root, remote_image: str, local_image: str | None) -> None:
    """Pull an image from the platform registry.

    REMOTE_IMAGE is an image: URI; LOCAL_IMAGE defaults to its name and tag.

    Examples:

        neuro pull image:myimage

        neuro pull image:/myfriend/alpine:shared

        neuro pull image:my-alpine:production alpine:from-registry
    """
    from neuro_cli.formatters.images import DockerImageProgress

    async with root.client() as client:
        remote = client.parse.remote_image(remote_image)
        local = client.parse.local_image(local_image) if local_image else None
        with DockerImageProgress.create(root.console, quiet=root.quiet) as progress:
            result = await client.images.pull(remote, local, progress=progress)
    root.print(str(result))


@click.command()
@click.option(
    "--cluster", help="Show images on a specified cluster (the current cluster by default)."
)
@click.option("-l", "format_long", is_flag=True, help="List in long format.")
@click.option("--full-uri", is_flag=True, help="Output full image URI.")
@click.option(
    "-o",
    "--owner",
    multiple=True,
    help="Filter out images by owner (multiple option). "
    "Supports `ME` option to filter by the current user.",
)
@click.option("-n", "--name", metavar="PATTERN", help="Filter out images by name regex.")
@click.pass_obj
@async_command
async def ls(
    root: Root,
    cluster: str | None,
    format_long: bool,
    full_uri: bool,
    owner: tuple[str, ...],
    name: str | None,
) -> None:
    """List images."""
    from neuro_cli.formatters.images import images_table, short_image_formatter

    try:
        name_re = re.compile(name) if name is not None else None
    except re.error as exc:
        raise click.BadParameter(f"{name!r} is not a regular expression: {exc}") from exc
    async with root.client() as client:
        images = await client.images.list(cluster_name=cluster)
        owners = {client.config.username if item == "ME" else item for item in owner}
        fmt = str if full_uri else short_image_formatter(client.config)
    images = [
        image
        for image in images
        if (not owners or image.owner in owners)
        and (name_re is None or name_re.fullmatch(image.name))
    ]
    root.print(images_table(images, fmt, long=format_long, quiet=root.quiet))


@click.command()
@click.option("-l", "format_long", is_flag=True, help="List in long format, with image sizes.")
@click.argument("image_uri", metavar="IMAGE")
@click.pass_obj
@async_command
async def tags(root: Root, format_long: bool, image_uri: str) -> None:
    """List tags for an image in the platform registry.

    Examples:

        neuro image tags image:/myfriend/alpine

        neuro image tags -l image:myimage
    """
    from neuro_cli.formatters.images import tags_table

    async with root.client() as client:
        image = client.parse.remote_image(image_uri, tag_option=neuro_sdk.TagOption.DENY)
        tagged = await client.images.tags(image)
        if format_long:
            found = [await client.images.tag_info(item) for item in tagged]
        else:
            found = [neuro_sdk.Tag(name=str(item.tag)) for item in tagged]
    root.print(f"Tags for {image}")
    root.print(tags_table(found, long=format_long))


@click.command()
@click.option("-f", "force", is_flag=True, help="Force deletion of all tags referencing the image.")
@click.argument("images", nargs=-1, required=True)
@click.pass_obj
@async_command
async def rm(root: Root, force: bool, images: tuple[str, ...]) -> None:
    """Remove images from the platform registry.

    An image with a tag removes that tag's manifest (refused when other tags share it,
    unless -f); without a tag, every tag of the image goes.

    Examples:

        neuro image rm image:/myfriend/alpine:shared

        neuro image rm image:myimage:latest
    """
    async with root.client() as client:
        # ALLOW, as the original: an image without a tag is the whole repository.
        allow = neuro_sdk.TagOption.ALLOW
        parsed = [client.parse.remote_image(item, tag_option=allow) for item in images]
        for item in parsed:
            if item.tag is None:
                for tagged in await client.images.tags(item):
                    await _remove_tag(root, client, tagged, force=True)
            else:
                await _remove_tag(root, client, item, force=force)


async def _remove_tag(
    root: Root, client: neuro_sdk.Client, image: neuro_sdk.RemoteImage, *, force: bool
) -> None:
    digest = await client.images.digest(image)
    if not force:
        untagged = dataclasses.replace(image, tag=None)
        sharing = [
            str(other.tag)
            for other in await client.images.tags(untagged)
            if other.tag != image.tag and await client.images.digest(other) == digest
        ]
        if sharing:
            raise UserError(
                f"Tags {', '.join([str(image.tag), *sharing])} of {untagged} reference the "
                f"same digest {digest}; use -f to delete all of them"
            )
    root.info(f"Deleting {image} identified by {digest}")
    await client.images.rm(image, digest)


@click.command()
@click.argument("image_uri", metavar="IMAGE")
@click.pass_obj
@async_command
async def size(root: Root, image_uri: str) -> None:
    """Get the size of an image (its compressed layers); a missing tag means 'latest'.

    Examples:

        neuro image size image:/myfriend/alpine:shared

        neuro image size image:myimage:latest
    """
    from neuro_cli.formatters.images import format_size

    async with root.client() as client:
        image_size = await client.images.size(client.parse.remote_image(image_uri))
    root.print(format_size(image_size))


@click.command()
@click.argument("image_uri", metavar="IMAGE")
@click.pass_obj
@async_command
async def digest(root: Root, image_uri: str) -> None:
    """Get the digest of an image in the registry; a missing tag means 'latest'.

    Examples:

        neuro image digest image:/myfriend/alpine:shared

        neuro image digest image:myimage:latest
    """
    async with root.client() as client:
        root.print(await client.images.digest(client.parse.remote_image(image_uri)))


for _command in (ls, push, pull, rm, size, digest, tags):
    image.add_command(_command)
# `neuro images` is `neuro image ls` under the name the original CLI gives it.
images = click.Command(
    "images", callback=ls.callback, params=ls.params, help=ls.help, short_help="List images."
)
