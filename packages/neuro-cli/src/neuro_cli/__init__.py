"""neuro_cli."""
