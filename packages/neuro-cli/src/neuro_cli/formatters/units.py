"""Human-readable quantities."""


def format_memory_mb(memory_mb: int) -> str:
    """Presets carry memory in MiB (2**20 bytes); show GiB once it reads better."""
    if memory_mb < 1024:
        return f"{memory_mb} MiB"
    gib = memory_mb / 1024
    return f"{gib:.0f} GiB" if gib.is_integer() else f"{gib:.1f} GiB"


def format_cpu(cpu: float) -> str:
    # 1.0 -> "1", 0.5 -> "0.5": trailing zeros are noise in a table.
    return f"{cpu:g}"
