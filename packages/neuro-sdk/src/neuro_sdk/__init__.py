"""neuro_sdk."""
