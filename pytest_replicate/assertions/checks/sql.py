"""``is-sql`` and ``contains-sql``, with promptfoo 0.123.1's rules and a Python SQL parser.

promptfoo parses with node-sql-parser in the value's ``databaseType`` (MySQL by default),
after its own checks (an odd number of backticks, ``select a b from``: a likely missing
comma, ``generate_series`` in MySQL), and checks ``allowedTables`` / ``allowedColumns``
against node-sql-parser's ``type::db::table`` and ``type::table::column`` lists, each
allowed entry a case-insensitive regular expression for a whole item. We parse with
sqlglot (pure Python, no dependencies, actively maintained, dialects for every database
node-sql-parser knows but DB2, FlinkSQL and NoQL) and build the same lists from its tree.
Where two parsers disagree on an unusual statement the verdicts can differ; the README says so.

``contains-sql`` tries each fenced code block marked ``sql`` or unmarked (or, without one,
the whole output) and passes on the first valid one, as promptfoo does.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...jscompat.regex import compile_js
from ...jscompat.values import js_trim
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..spec import AssertionSpec

if TYPE_CHECKING:
    from sqlglot import exp

# node-sql-parser's database names (promptfoo's ``databaseType``, any case) -> sqlglot's dialects.
DIALECTS = {
    "mysql": "mysql", "mariadb": "mysql", "postgresql": "postgres", "bigquery": "bigquery", "sqlite": "sqlite",
    "transactsql": "tsql", "hive": "hive", "snowflake": "snowflake", "redshift": "redshift", "athena": "athena",
    "trino": "trino",
}
_NAMES = "MySQL, MariaDB, PostgresQL, BigQuery, Sqlite, TransactSQL, Hive, Snowflake, Redshift, Athena, Trino"
_MISSING_COMMA = r"\bselect\s+(?:{m}\s+)*(?!{m}\b)[A-Za-z_][A-Za-z0-9_]*\s+[A-Za-z_][A-Za-z0-9_]*\s+from\b"
_STANDARD_MODIFIERS = "(?:all|distinct)"
_MYSQL_MODIFIERS = ("(?:all|distinct(?:row)?|high_priority|straight_join|sql_(?:big_result|buffer_result|cache|"
                    "calc_found_rows|no_cache|small_result))")


def _value_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "value must be a mapping: {databaseType, allowedTables, allowedColumns} (all optional)"
    database = value.get("databaseType")
    if database is not None and (not isinstance(database, str) or database.lower() not in DIALECTS):
        return (f"databaseType {database!r} is not supported: sqlglot, which checks the SQL here, has no such "
                f"dialect; use one of {_NAMES}")
    for key in ("allowedTables", "allowedColumns"):
        if key in value and not (isinstance(value[key], list) and all(isinstance(item, str) for item in value[key])):
            return f"{key} must be a list of patterns such as 'select::null::users'"
    return None


def _strip_ignored(sql: str, database: str) -> str:
    """The SQL with quoted text, comments and dollar-quoted bodies blanked, for the heuristics."""
    chunks: list[str] = []
    brackets = database in ("TransactSQL", "Sqlite")
    plain = cursor = 0
    while cursor < len(sql):
        char = sql[cursor]
        end, replacement = None, " "
        if char in "'\"`" or (char == "[" and brackets):
            end, replacement = _quoted_end(sql, cursor, char), " ? "
        elif sql.startswith("--", cursor) or char == "#":
            end = cursor + 1
            while end < len(sql) and sql[end] not in "\r\n":
                end += 1
        elif sql.startswith("/*", cursor):
            close = sql.find("*/", cursor + 2)
            end = len(sql) if close < 0 else close + 2
        elif char == "$":
            delimiter = _dollar_delimiter(sql, cursor)
            if delimiter:
                close = sql.find(delimiter, cursor + len(delimiter))
                end, replacement = (len(sql) if close < 0 else close + len(delimiter)), " ? "
        if end is None:
            cursor += 1
            continue
        chunks += [sql[plain:cursor], replacement]
        cursor = plain = end
    chunks.append(sql[plain:])
    return "".join(chunks)


def _quoted_end(sql: str, start: int, quote: str) -> int:
    closing = "]" if quote == "[" else quote
    cursor = start + 1
    while cursor < len(sql):
        if closing != "]" and sql[cursor] == "\\":
            cursor += 2
            continue
        if sql[cursor] == closing:
            if sql[cursor + 1:cursor + 2] == closing:
                cursor += 2
                continue
            return cursor + 1
        cursor += 1
    return len(sql)


def _dollar_delimiter(sql: str, start: int) -> str | None:
    end = start + 1
    while end < len(sql) and (sql[end].isascii() and (sql[end].isalnum() or sql[end] == "_")):
        end += 1
    if end < len(sql) and sql[end] == "$" and not sql[start + 1:start + 2].isdigit():
        return sql[start:end + 1]
    return None


def _syntax_suspect(sql: str, database: str) -> bool:
    """promptfoo's checks made before parsing."""
    trimmed = js_trim(sql)
    if not trimmed or trimmed.count("`") % 2:
        return True
    modifiers = _MYSQL_MODIFIERS if database in ("MySQL", "MariaDB") else _STANDARD_MODIFIERS
    if compile_js(_MISSING_COMMA.format(m=modifiers), "i").test(_strip_ignored(trimmed, database)):
        return True
    return database == "MySQL" and compile_js(r"\bgenerate_series\s*\(", "i").test(trimmed)


# Words node-sql-parser never takes as an unquoted name (sqlglot would read ``FROM t ORDER`` as an alias).
_RESERVED = frozenset({"SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "HAVING", "LIMIT", "JOIN", "ON", "UNION",
                       "INSERT", "UPDATE", "DELETE", "INTO", "VALUES", "SET", "AND", "OR", "NOT"})


def _statements(sql: str, database: str) -> list[Any] | None:
    """The parsed statements, or None when ``sql`` is not a sequence of complete SQL statements."""
    import sqlglot  # imported on first use: it is large, and most suites never need it
    from sqlglot import exp
    from sqlglot.tokens import TokenType

    _quiet_fallback()
    dialect = sqlglot.Dialect.get_or_raise(DIALECTS[database.lower()])
    try:
        tokens = dialect.tokenize(sql)
        parsed = dialect.parser(error_level=sqlglot.ErrorLevel.RAISE).parse(tokens, sql)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None
    if any(a.token_type == b.token_type == TokenType.COMMA for a, b in itertools.pairwise(tokens)):
        return None  # sqlglot skips an empty item in a list
    statements: list[Any] = [statement for statement in parsed if statement is not None]
    if not statements or not all(_complete(statement) for statement in statements):
        return None
    if any(not identifier.quoted and identifier.name.upper() in _RESERVED
           for statement in statements for identifier in statement.find_all(exp.Identifier)):
        return None
    return statements


@functools.cache
def _quiet_fallback() -> None:
    """Drop sqlglot's warning that it reads a statement it does not know as a bare command: we refuse those."""
    logging.getLogger("sqlglot").addFilter(lambda record: "Falling back to parsing as a 'Command'" not in record.getMessage())


def _complete(statement: exp.Expression) -> bool:
    """Whether sqlglot's reading is a whole statement (it also reads bare expressions and half statements)."""
    from sqlglot import exp

    if isinstance(statement, exp.Update):
        return bool(statement.expressions)
    if isinstance(statement, exp.Delete):
        return bool(statement.this)
    if any(isinstance(select, exp.Select) and not select.expressions for select in statement.find_all(exp.Select)):
        return False  # a bare SELECT
    return isinstance(statement, (exp.Query, exp.Insert, exp.Create, exp.Drop, exp.Alter, exp.Merge, exp.TruncateTable,
                                  exp.Use, exp.Show, exp.Describe, exp.Set, exp.Transaction, exp.Commit, exp.Rollback,
                                  exp.Grant))


_TARGETS = {"Insert": "insert", "Update": "update", "Delete": "delete", "Create": "create", "Drop": "drop",
            "Alter": "alter", "TruncateTable": "truncate"}


def _tables(statement: exp.Expression) -> Iterator[str]:
    """node-sql-parser's ``type::db::table`` items."""
    from sqlglot import exp

    kind = _TARGETS.get(type(statement).__name__)
    target = statement.this if kind else None
    if isinstance(target, exp.Schema):
        target = target.this
    for table in statement.find_all(exp.Table):
        if not table.name:
            continue
        yield f"{kind if table is target else 'select'}::{table.db or 'null'}::{table.name}"


def _columns(statement: exp.Expression) -> Iterator[str]:
    """node-sql-parser's ``type::table::column`` items (``(.*)`` for ``*``)."""
    from sqlglot import exp

    aliases = {table.alias_or_name: table.name for table in statement.find_all(exp.Table)}
    target = statement.this
    if isinstance(statement, exp.Insert):
        name = target.this.name if isinstance(target, exp.Schema) else target.name
        listed = target.expressions if isinstance(target, exp.Schema) else []
        yield from (f"insert::{name}::{column.name}" for column in listed) if listed else [f"insert::{name}::(.*)"]
    elif isinstance(statement, exp.Update):
        for assignment in statement.expressions:
            yield f"update::null::{assignment.this.name}"
    elif isinstance(statement, exp.Delete):
        yield f"delete::{target.name}::(.*)"
    set_targets = {id(a.this) for a in statement.expressions} if isinstance(statement, exp.Update) else set()
    for column in statement.find_all(exp.Column):
        if id(column) in set_targets or (isinstance(statement, exp.Insert) and column.parent is target):
            continue
        table = aliases.get(column.table, column.table) if column.table else "null"
        yield f"select::{table}::{'(.*)' if isinstance(column.this, exp.Star) else column.name}"
    for select in statement.find_all(exp.Select):
        if any(isinstance(projection, exp.Star) for projection in select.expressions):
            yield "select::null::(.*)"


def _unique(items: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass
class _Finding:
    passed: bool
    reasons: list[str]


def _check_sql(sql: str, value: Any) -> _Finding:
    options = value if isinstance(value, dict) else {}
    database = options.get("databaseType") or "MySQL"
    reasons: list[str] = []
    syntax = f"SQL statement does not conform to the provided {database} database syntax."
    if _syntax_suspect(sql, database):
        reasons.append(syntax)
    statements = _statements(sql, database)
    if statements is None:
        reasons.append(syntax)
    for key, lister, what in (("allowedTables", _tables, "table"), ("allowedColumns", _columns, "column")):
        allowed = options.get(key)
        if allowed is None:
            continue
        patterns = list(allowed)
        if key == "allowedColumns":  # promptfoo also allows an unqualified form of each qualified column
            patterns += [f"{p.split('::')[0]}::null::{p.split('::')[2]}" for p in allowed
                         if len(p.split("::")) == 3 and p.split("::")[1] != "null"]
        if statements is None:
            reasons.append(f"SQL validation failed: the {what}s cannot be listed, the SQL does not parse.")
            continue
        found = _unique(item for statement in statements for item in lister(statement))
        if not all(any(compile_js(f"^{p}$", "i").test(item) for p in patterns) for item in found):
            reasons.append(f"SQL references unauthorized {what}(s). Found: [{', '.join(found)}]. "
                           f"Allowed: [{', '.join(allowed)}].")
    return _Finding(not reasons, reasons)


@assertion("is-sql", needs_value=False, validate_value=_value_problem)
def check_is_sql(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    finding = _check_sql(output_text(output), value)
    return Verdict(finding.passed, " ".join(finding.reasons) or "The output SQL statement is valid")


def sql_blocks(text: str) -> list[str]:
    """The bodies of the fenced code blocks marked ``sql`` or unmarked, as promptfoo finds them."""
    blocks: list[str] = []
    active: tuple[str, int, bool, list[str]] | None = None  # fence character, length, is SQL, body
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        fence = _fence(line)
        if active is None:
            if fence:
                language = js_trim(fence[2]).lower()
                active = (fence[0], fence[1], language in ("", "sql"), [])
            continue
        if fence and not fence[2].strip(" \t") and fence[0] == active[0] and fence[1] >= active[1]:
            if active[2]:
                blocks.append(js_trim("\n".join(active[3])))
            active = None
        else:
            active[3].append(line)
    return blocks


def _fence(line: str) -> tuple[str, int, str] | None:
    """(character, length, info string) of a code fence line."""
    index = 0
    while index < 3 and line[index:index + 1] in (" ", "\t"):
        index += 1
    character = line[index:index + 1]
    if character not in ("`", "~"):
        return None
    start = index
    while line[index:index + 1] == character:
        index += 1
    return (character, index - start, line[index:]) if index - start >= 3 else None


@assertion("contains-sql", needs_value=False, validate_value=_value_problem)
def check_contains_sql(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    text = output_text(output)
    reason = "Output does not contain valid SQL"
    for candidate in sql_blocks(text) or [text]:
        if not js_trim(candidate):
            continue
        finding = _check_sql(candidate, value)
        if finding.passed:
            return Verdict(True, "The output contains a valid SQL statement")
        reason = " ".join(finding.reasons)
    return Verdict(False, reason)

