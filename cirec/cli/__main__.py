"""``python -m cirec.cli``: the same as the ``cirec`` script."""

from cirec.cli.main import main

raise SystemExit(main())
