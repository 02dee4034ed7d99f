"""Storage: the files of each cluster, served per docs/protocol.md §5."""
