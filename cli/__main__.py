"""`python -m cli` runs the rtrec command line."""

from cli.main import main

main()
