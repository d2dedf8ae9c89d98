"""`python -m capacity` runs the capctl CLI."""

from capacity.cli import main

main()
