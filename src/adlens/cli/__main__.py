"""``python -m adlens.cli``: the same as the ``adlens`` command (handy without an installed script)."""

from adlens.cli import main

main()
