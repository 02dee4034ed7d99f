from neuro_platform.testing.fixtures import buckets_platform_server  # noqa: F401 (fixture)
