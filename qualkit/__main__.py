"""``python -m qualkit`` runs the CLI."""

from qualkit.cli import main

main()
