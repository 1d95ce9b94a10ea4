"""`python -m apptk.cli ...`, the same as the `apptk` console script."""

from apptk.cli.main import main

main()
