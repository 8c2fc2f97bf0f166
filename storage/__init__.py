"""SQLite persistence for the coaching bot: the Database and small repositories (see README.md)."""

from storage.db import Database
from storage.errors import StorageBusy, StorageError, StorageFull

__all__ = ["Database", "StorageBusy", "StorageError", "StorageFull"]
