"""``python -m qualkit.cli`` runs the CLI."""

from qualkit.cli import main

main()
