"""Disks (docs/protocol.md §8.2): size-limited ext4 images, loop-mounted and bound into jobs."""
