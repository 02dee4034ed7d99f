"""One module per command group; ``neuro_cli.main`` assembles the tree."""
