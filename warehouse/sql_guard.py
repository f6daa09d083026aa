"""What a user's SQL may be, read from DuckDB's own parser: one or more SELECTs, or EXPLAIN of one.

The check does not look for words in the text. Each statement's type comes from
``extract_statements``; a SELECT (which includes ``FROM …`` shorthand, SUMMARIZE, DESCRIBE, SHOW,
PIVOT/UNPIVOT with an explicit IN list, VALUES and TABLE) is serialised by DuckDB into its syntax
tree (``json_serialize_sql``, which refuses anything but a SELECT), and every table function in the
tree must be one that only reads, and no scalar function in it may have side effects beyond
randomness or the clock. ``EXPLAIN`` and ``EXPLAIN ANALYZE`` (which runs what it explains) are
accepted only around a statement that passes the same check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb

from warehouse.base import WarehouseError

# Table functions that only read: generators, file readers (held to the sandbox's file system),
# and catalog/lake introspection. Anything else (checkpoint, query, postgres_query/_execute,
# ducklake maintenance, logging and profiling switches, read_duckdb, ...) is refused.
READ_TABLE_FUNCTIONS = frozenset(
    {
        "range", "generate_series", "unnest", "repeat", "repeat_row", "summary",
        "glob", "sniff_csv", "read_text", "read_blob",
        "read_csv", "read_csv_auto", "read_parquet", "parquet_scan",
        "read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto",
        "read_ndjson", "read_ndjson_auto", "read_ndjson_objects",
        "parquet_metadata", "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata",
        "json_each", "json_tree", "icu_calendar_names", "pg_timezone_names",
        "pragma_table_info", "pragma_show", "pragma_storage_info", "pragma_database_size",
        "pragma_metadata_info", "pragma_version", "pragma_platform", "pragma_collations",
        "pragma_user_agent",
        "duckdb_columns", "duckdb_constraints", "duckdb_databases", "duckdb_dependencies",
        "duckdb_extensions", "duckdb_functions", "duckdb_indexes", "duckdb_keywords",
        "duckdb_memory", "duckdb_optimizers", "duckdb_schemas", "duckdb_sequences",
        "duckdb_settings", "duckdb_tables", "duckdb_types", "duckdb_views",
        "ducklake_snapshots", "ducklake_table_info", "ducklake_table_insertions",
        "ducklake_table_deletions", "ducklake_list_files", "ducklake_current_snapshot",
        "ducklake_last_committed_snapshot", "ducklake_options", "ducklake_settings",
    }
)  # fmt: skip
# Scalar functions DuckDB marks as having side effects that change nothing outside the query.
HARMLESS_SIDE_EFFECTS = frozenset(
    {
        "random", "setseed", "uuid", "uuidv4", "uuidv7", "gen_random_uuid", "error", "stats", "sleep_ms",
        "current_connection_id", "current_query", "current_query_id", "current_transaction_id",
    }
)  # fmt: skip
ALLOWED = "SELECT/WITH/FROM/VALUES/TABLE, SHOW, DESCRIBE, SUMMARIZE, PIVOT … IN (…), EXPLAIN [ANALYZE]"


class SandboxRefused(WarehouseError):
    """A statement that could change data or files, or reach outside the sandbox."""


def _refuse(what: str) -> SandboxRefused:
    """The one-line refusal, naming what was found and what is accepted."""
    return SandboxRefused(
        f"read-only: {what} is not allowed (axiswatch sql only reads: {ALLOWED}; "
        "it never writes, exports, installs, attaches or changes settings)"
    )


def check_query(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse the whole script unless every statement only reads (see the module docstring)."""
    side_effects = _side_effect_functions(con)
    statements = con.extract_statements(query)
    if not statements:
        raise SandboxRefused("no statement to run")
    for statement in statements:
        _check_statement(con, statement, side_effects, explained=False)


def _check_statement(
    con: duckdb.DuckDBPyConnection, statement: Any, side_effects: frozenset[str], *, explained: bool
) -> None:
    """One parsed statement: a SELECT whose tree passes, or an EXPLAIN around one."""
    kind = statement.type.name
    if kind == "EXPLAIN" and not explained:
        inner = con.extract_statements(explained_statement(statement.query))
        if len(inner) != 1:
            raise _refuse("EXPLAIN of more than one statement")
        _check_statement(con, inner[0], side_effects, explained=True)
        return
    if kind == "CREATE" and not statement.query.strip():
        raise _refuse("a PIVOT without an IN list (it creates a type; name the values: ON col IN (...))")
    if kind != "SELECT":
        what = kind if kind.isalpha() else "this statement"
        raise _refuse(f"{'EXPLAIN of ' if explained else ''}{what}")
    _check_tree(syntax_tree(con, statement.query), side_effects)


def explained_statement(text: str) -> str:
    """The statement an ``EXPLAIN [ANALYZE] [(options)]`` wraps, located by DuckDB's tokenizer."""
    tokens = [(start, text[start:end].strip()) for start, end, kind in _tokens(text) if kind != "COMMENT"]
    words = [word.upper() for _, word in tokens]
    i = 1 if words[:1] == ["EXPLAIN"] else 0
    if i and i < len(words) and words[i] in ("ANALYZE", "ANALYSE"):
        i += 1
    if i and i < len(words) and words[i] == "(":
        depth = 0
        while i < len(words):
            depth += {"(": 1, ")": -1}.get(words[i], 0)
            i += 1
            if depth == 0:
                break
    if not i or i >= len(tokens):
        raise _refuse("an EXPLAIN this check cannot read")
    return text[tokens[i][0] :]


def _tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of each token DuckDB's tokenizer finds."""
    found = duckdb.tokenize(text)
    for index, (start, kind) in enumerate(found):
        end = found[index + 1][0] if index + 1 < len(found) else len(text)
        yield start, end, kind.name.upper()


def syntax_tree(con: duckdb.DuckDBPyConnection, select: str) -> Any:
    """DuckDB's syntax tree of one SELECT as JSON (DuckDB refuses to serialise anything else)."""
    row = con.execute("SELECT json_serialize_sql(?)", [select]).fetchone()
    try:
        tree = json.loads(row[0]) if row else {}
    except RecursionError as exc:
        raise SandboxRefused("the query is nested too deeply to check; split it") from exc
    if not isinstance(tree, dict) or tree.get("error"):
        message = tree.get("error_message", "not a SELECT") if isinstance(tree, dict) else "not a SELECT"
        raise _refuse(f"a statement DuckDB cannot read as a SELECT ({message})")
    return tree


def functions_in(tree: Any) -> Iterator[tuple[str, str]]:
    """Every ("table" | "scalar", name) call in a syntax tree, walked without recursion."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "TABLE_FUNCTION" and isinstance(node.get("function"), dict):
                yield "table", str(node["function"].get("function_name", "")).lower()
                stack.extend(v for k, v in node["function"].items() if k != "function_name")
                stack.extend(v for k, v in node.items() if k != "function")
                continue
            if node.get("class") == "FUNCTION" and "function_name" in node:
                yield "scalar", str(node["function_name"]).lower()
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _check_tree(tree: Any, side_effects: frozenset[str]) -> None:
    """Refuse a table function that is not a read, or a scalar function with side effects."""
    for kind, name in functions_in(tree):
        if kind == "table" and name not in READ_TABLE_FUNCTIONS:
            raise _refuse(f"the table function {name}()")
        if kind == "scalar" and name in side_effects:
            raise _refuse(f"the function {name}() (it changes state)")


def _side_effect_functions(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Scalar functions that DuckDB marks as having side effects, less the harmless ones."""
    rows = con.execute(
        "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE has_side_effects"
    ).fetchall()
    return frozenset(name for (name,) in rows) - HARMLESS_SIDE_EFFECTS
