"""An ad hoc write for tests: any function of a connection, applied by the sink like a real one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.ops import WriteOp


@dataclass(frozen=True)
class Adhoc(WriteOp):
    """A test's own write (never spooled: it is not registered)."""

    fn: Callable[[duckdb.DuckDBPyConnection], Any]

    def apply(self, con: duckdb.DuckDBPyConnection) -> Any:
        """Run the function."""
        return self.fn(con)
