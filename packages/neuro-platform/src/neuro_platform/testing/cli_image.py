"""A job image holding our `neuro` CLI, for tests that run it inside a job.

The offline job images have no CLI and no registry can be reached, but
`neuro-base/debian:bookworm`'s python3 has the workspace venv's minor version (3.11), so the
CLI's import closure copied from the venv runs there as it is: its cp311 manylinux wheels
need an older glibc than Debian 12's. Only the distributions `neuro-cli` requires,
recursively, are copied (a few MB, not the whole venv); our own editable packages come as
their sources. The image is tagged by a hash of what it holds, so it is built once per
change of the CLI or its dependencies, like the base images.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

from ..orchestrator.testing import DEBIAN_IMAGE, build_base_image

CLI_IMAGE_REPOSITORY = "neuro-test/cli"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# Debian's python3 searches this directory (and nothing of the venv's).
SITE_PACKAGES = f"/usr/local/lib/python{PYTHON}/dist-packages"
# What the `neuro` console script of neuro-cli's pyproject.toml runs.
ENTRY_SCRIPT = "#!/usr/bin/python3\nimport sys\nfrom neuro_cli.main import main\nsys.exit(main())\n"
DOCKERFILE = f"""\
FROM {DEBIAN_IMAGE}
# The venv's compiled dependencies load only in the python they were built for.
RUN python3 -c 'import sys; v = "%d.%d" % sys.version_info[:2]; assert v == "{PYTHON}", v'
COPY site-packages/ {SITE_PACKAGES}/
COPY neuro /usr/local/bin/neuro
# Compiled now: a job's run should not spend its time (or a read-only root) on it.
RUN python3 -m compileall -q {SITE_PACKAGES} && neuro --version
"""


def build_cli_image() -> str:
    """Build (unless dockerd has it already) the image with our CLI; return its name."""
    build_base_image("debian")
    files = dict(_closure_files("neuro-cli"))
    tag = f"{CLI_IMAGE_REPOSITORY}:{_content_tag(files)}"
    present = subprocess.run(["docker", "image", "inspect", tag], capture_output=True)
    if present.returncode == 0:
        return tag
    with tempfile.TemporaryDirectory(prefix="neuro-cli-image-") as directory:
        context = Path(directory)
        for relative, source in files.items():
            target = context / "site-packages" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        (context / "neuro").write_text(ENTRY_SCRIPT)
        (context / "neuro").chmod(0o755)
        (context / "Dockerfile").write_text(DOCKERFILE)
        # The engine's default build network reaches nothing here, and nothing is fetched.
        built = subprocess.run(
            ["docker", "build", "--network", "none", "-t", tag, str(context)],
            capture_output=True,
            text=True,
        )
    if built.returncode != 0:
        raise RuntimeError(f"building {tag} failed:\n{built.stdout}{built.stderr}")
    return tag


def _closure_files(root: str) -> Iterator[tuple[str, Path]]:
    """(path under site-packages, file in the venv or workspace) for `root` and every
    distribution it requires, recursively, without extras."""
    seen: set[str] = set()
    pending = [root]
    while pending:
        name = _normalized(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise RuntimeError(f"{name}, which {root} needs, is not in this venv") from None
        yield from _dist_files(dist)
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)


def _dist_files(dist: Distribution) -> Iterator[tuple[str, Path]]:
    site = Path(str(dist.locate_file(""))).resolve()
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file))).resolve()
        if not path.is_relative_to(site) or "__pycache__" in path.parts:
            continue  # console scripts in bin/, bytecode of another python
        if path.suffix == ".pth":
            # An editable install of ours: its .pth names the source directory.
            for line in path.read_text().splitlines():
                source = Path(line.strip())
                if line.strip() and source.is_dir():
                    yield from _tree_files(source)
            continue
        yield str(path.relative_to(site)), path


def _tree_files(directory: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield str(path.relative_to(directory)), path


def _content_tag(files: dict[str, Path]) -> str:
    digest = hashlib.sha256(DOCKERFILE.encode() + ENTRY_SCRIPT.encode())
    for relative in sorted(files):
        digest.update(relative.encode() + b"\0" + files[relative].read_bytes())
    return digest.hexdigest()[:16]


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
