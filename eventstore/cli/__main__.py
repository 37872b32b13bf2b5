"""``python -m eventstore.cli``: the same as the ``cirec`` script."""

from eventstore.cli.main import main

raise SystemExit(main())
