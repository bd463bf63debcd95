"""``python -m simdb``."""

from simdb.cli import main

main()
