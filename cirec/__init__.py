"""cirec, the application: the command line, the demo and the composition root.

:func:`open_store` and :func:`open_read_models` open the stores the environment names
(``MONGO_DB_URL``, else the embedded SQLite file); nothing connects at import time.
"""

from cirec.config import open_read_models, open_store

__all__ = ["open_read_models", "open_store"]
