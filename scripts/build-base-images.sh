#!/usr/bin/env bash
# Builds the offline job images without any registry, into the local Docker Engine.
#
#   scripts/build-base-images.sh [busybox] [debian]     (no argument: both)
#
# neuro-base/busybox:latest  static busybox and its applet links (~2 MB, ~0.1 s): the tests' image.
# neuro-base/debian:bookworm debootstrap minbase with python3 (~200 MB, ~40 s): demo and network
#                            tests (busybox's static wget cannot resolve names).
# An image already known to dockerd is kept; the Debian root filesystem is cached under
# <repo>/.cache/base-images so that a wiped dockerd re-imports it in seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/base-images"

busybox_image=neuro-base/busybox:latest
debian_image=neuro-base/debian:bookworm
debian_suite=bookworm

image_exists() {
    docker image inspect "$1" >/dev/null 2>&1
}

build_busybox() {
    if image_exists "$busybox_image"; then
        echo "$busybox_image: present"
        return
    fi
    local busybox rootfs
    # Debian's busybox-static ships a static /bin/busybox (the dynamic one would need a libc).
    busybox=/bin/busybox
    if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
        echo "a static busybox is needed: apt-get install busybox-static" >&2
        exit 1
    fi
    rootfs=$(mktemp -d)
    # shellcheck disable=SC2064  # expand now: the variable is local
    trap "rm -rf '$rootfs'" RETURN
    mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev}
    chmod 1777 "$rootfs/tmp"
    chmod 700 "$rootfs/root"
    cp "$busybox" "$rootfs/bin/busybox"
    for applet in $("$rootfs/bin/busybox" --list); do
        [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
    done
    # Users known by name so that `id`, `whoami` and `ls -l` behave as in a real distribution.
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
        >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    tar -C "$rootfs" --numeric-owner -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$busybox_image" >/dev/null
    echo "$busybox_image: built"
}

# The mirror apt already uses (no internet here, only Debian's mirror), deb822 or one-line style.
debian_mirror() {
    local mirror=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        mirror=$(awk -v suite="$debian_suite" '
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
            /^$/ { if (found && uri != "") { print uri; exit } ; uri = ""; found = 0 }
            END { if (found && uri != "") print uri }
        ' /etc/apt/sources.list.d/*.sources | head -n 1)
    fi
    if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
        mirror=$(awk -v suite="$debian_suite" '
            $1 == "deb" { n = 2; if ($2 ~ /^\[/) { while ($n !~ /\]$/) n++; n++ }
                          if ($(n + 1) == suite) { print $n; exit } }
        ' /etc/apt/sources.list)
    fi
    echo "${mirror:-http://deb.debian.org/debian}"
}

build_debian() {
    if image_exists "$debian_image"; then
        echo "$debian_image: present"
        return
    fi
    local rootfs="$cache/debian-$debian_suite" mirror
    if [ ! -f "$rootfs.complete" ]; then
        command -v debootstrap >/dev/null || { echo "apt-get install debootstrap" >&2; exit 1; }
        mirror=$(debian_mirror)
        echo "debootstrap $debian_suite from $mirror"
        rm -rf "$rootfs"
        mkdir -p "$cache"
        debootstrap --variant=minbase --include=python3,ca-certificates "$debian_suite" "$rootfs" "$mirror"
        # Packages lists and the .deb cache only make the image bigger.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        touch "$rootfs.complete"
    fi
    tar -C "$rootfs" --numeric-owner -c . | docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'ENV LANG=C.UTF-8' -c 'CMD ["bash"]' - "$debian_image" >/dev/null
    echo "$debian_image: built"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(busybox debian)
for target in "${targets[@]}"; do
    case "$target" in
        busybox) build_busybox ;;
        debian) build_debian ;;
        *) echo "unknown image: $target (expected busybox or debian)" >&2; exit 2 ;;
    esac
done
