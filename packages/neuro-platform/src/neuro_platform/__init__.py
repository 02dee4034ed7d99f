"""neuro_platform."""
