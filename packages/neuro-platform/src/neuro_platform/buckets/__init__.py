"""Buckets (docs/protocol.md §8.4): object storage on an embedded SeaweedFS or any S3."""
