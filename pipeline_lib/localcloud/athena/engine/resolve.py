"""Binding a statement's table references to data: views inlined, tables scanned into DuckDB.

Each table occurrence becomes its own registered Arrow table, read with only the columns the
statement names, and only the partitions its WHERE conjuncts on partition columns keep (evaluated
by DuckDB over the partitions' typed values, so any predicate prunes exactly as it filters).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from .catalog import TableName, lookup_table, position, table_name
from .information_schema import SCHEMA, information_schema_table
from .errors import AthenaQueryError, user_error
from .scan import table_columns, partition_keys, partition_values_table, scan_table, table_partitions
from .projection import is_projected
from .resolve_views import decode_view
from .types import arrow_schema_to_duckdb, glue_to_arrow

__all__ = ["Binder", "TableRead"]


@dataclass(frozen=True)
class TableRead:
    """What a statement reads of one table occurrence, decided from the analysed statement alone
    (so a compiled statement can read again without analysing again): the registered name, the Glue
    table, the data columns (None: all) and partition columns (None: all) it needs, and its WHERE
    conjuncts on partition columns (copies, taken before Trino's semantics are applied)."""

    reg: str
    glue: dict
    name: TableName
    columns: list[str] | None
    partition_columns: list[str] | None
    predicates: tuple[exp.Expression, ...]

def _conjuncts(where: exp.Expression | None) -> list[exp.Expression]:
    if where is None:
        return []
    node = where.this if isinstance(where, exp.Where) else where
    return list(node.flatten()) if isinstance(node, exp.And) else [node]


class Binder:
    def __init__(self, con: duckdb.DuckDBPyConnection, catalog, storage, catalog_name: str,
                 cancelled: threading.Event, blobs=None, object_files=None) -> None:
        self.con = con
        self.catalog = catalog
        self.storage = storage
        self.catalog_name = catalog_name
        self.cancelled = cancelled
        self.schema: dict[str, dict[str, str]] = {}
        self.bytes_read = 0
        self.files_read: list[str] = []
        self.tables: list[TableName] = []  # what the statement read (for views' and tests' sake)
        self._n = 0
        self._blobs = blobs
        self._object_files = object_files  # ObjectFiles, or None: every object through `blobs`
        self._leases: list = []  # the objects this statement reads from ObjectFiles, pinned until close
        self._prefix = f"{uuid.uuid4().hex}/"
        self._pending: list[tuple[str, dict, TableName]] = []
        self.scans: list[tuple[str, str]] = []  # (name, DuckDB SELECT) of the Parquet tables loaded
        self.cacheable = True  # False once a table whose rows come with the analysis is bound

    def _blob_sink(self, path: str, body: bytes, version=None, uri: str | None = None) -> str:
        """The path DuckDB reads `body` (the object at `uri`, as of `version`) at: its memfd (kept
        for later statements too) when it has a version and fits, else under this statement's
        prefix in the fsspec file system."""
        if version is not None and self._object_files is not None:
            lease = self._object_files.lease(version, uri, body)
            if lease is not None:
                self._leases.append(lease)
                return lease.value.path
        return self._blobs.put(self._prefix + path, body)

    def close(self) -> None:
        """Forget the objects handed to DuckDB for this statement (after DuckDB is done with them:
        a released memfd may be closed, and its number reused)."""
        leases, self._leases = self._leases, []
        for lease in leases:
            self._object_files.release(lease)
        if self._blobs is not None:
            self._blobs.drop_prefix(self._prefix)

    # -- pass 1: names -> views inlined, tables to scan ----------------------------------------
    def bind(self, stmt: exp.Expression, default_db: str | None, depth: int = 0) -> exp.Expression:
        if depth > 16:
            raise user_error("VIEW_IS_RECURSIVE", "View is recursive")
        cte_names = {cte.alias_or_name.lower() for cte in stmt.find_all(exp.CTE)}
        for table in list(stmt.find_all(exp.Table)):
            if not table.name or isinstance(table.this, (exp.Unnest, exp.Anonymous)):
                continue
            if not table.db and table.name.lower() in cte_names:
                continue
            name = table_name(table, default_db, self.catalog_name)
            if name.database == SCHEMA:
                data = information_schema_table(self.catalog, name.name)
                if data is None:
                    raise user_error("TABLE_NOT_FOUND", f"{position(table)}: Table '{name}' does not exist")
                self._n += 1
                reg = f"__t{self._n}"
                self.con.register(reg, data)
                self.cacheable = False  # its rows are registered here, as the catalog is now
                self.schema[reg] = arrow_schema_to_duckdb(data.schema)
                table.replace(exp.Table(this=exp.to_identifier(reg),
                                        alias=exp.TableAlias(this=exp.to_identifier(table.alias or name.name))))
                continue
            glue = lookup_table(self.catalog, name, table)
            alias = table.alias or name.name
            if glue.get("TableType") == "VIRTUAL_VIEW":
                view = decode_view(glue.get("ViewOriginalText") or "")
                inner = sqlglot.parse_one(view["originalSql"], read="athena")
                inner = self.bind(inner, view.get("schema") or name.database, depth + 1)
                table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
                continue
            self._n += 1
            reg = f"__t{self._n}"
            new = exp.Table(this=exp.to_identifier(reg), alias=exp.TableAlias(this=exp.to_identifier(alias)),
                            sample=table.args.get("sample"))
            table.replace(new)
            self._pending.append((reg, glue, name))
            self.tables.append(name)
            self._register_empty(reg, glue)
            # Columns qualified with db (db.t.col) refer to the table by its name.
            for col in stmt.find_all(exp.Column):
                if col.args.get("db") and col.table.lower() == name.name:
                    col.set("db", None)
                    col.set("catalog", None)
        return stmt

    def _register_empty(self, reg: str, glue: dict) -> None:
        """The table's shape (DuckDB types), so the statement is analysed (and fails) before reading."""
        cols = table_columns(glue) + partition_keys(glue)
        self.schema[reg] = arrow_schema_to_duckdb(pa.schema([pa.field(n, glue_to_arrow(t)) for n, t in cols]))

    # -- pass 2: read the data (after analysis: columns are qualified) --------------------------
    def load(self, stmt: exp.Expression) -> None:
        self.read(self.plan(stmt))

    def plan(self, stmt: exp.Expression) -> list[TableRead]:
        """What to read of each table the analysed statement uses."""
        # A star left after qualification reads every column; count(*)'s star names none.
        star = any(not isinstance(s.parent, exp.Count) for s in stmt.find_all(exp.Star))
        names = {c.name.lower() for c in stmt.find_all(exp.Column)}
        names |= {i.name.lower() for i in stmt.find_all(exp.Identifier)}
        tables = {t.name: t for t in stmt.find_all(exp.Table)}
        plans = []
        for reg, glue, name in self._pending:
            node = tables.get(reg)
            if node is None:
                continue
            data_names = [c for c, _ in table_columns(glue)]
            wanted = sorted(n for n in names if n in set(data_names))
            if not wanted and data_names:
                wanted = data_names[:1]  # row counts need one column
            keys = partition_keys(glue)
            predicates = self._partition_predicates(node, {k for k, _ in keys}) if keys else []
            plans.append(TableRead(reg, glue, name, None if star else wanted,
                                   None if star else [k for k, _ in keys if k in names],
                                   tuple(p.copy() for p in predicates)))
        self._pending = []
        return plans

    def read(self, plans: list[TableRead]) -> None:
        """Read each table as planned: its partitions now (pruned), its objects now."""
        for plan in plans:
            if self.cancelled.is_set():
                raise AthenaQueryError("USER_CANCELLED", "Query was cancelled by user")
            glue, name, reg = plan.glue, plan.name, plan.reg
            keys = partition_keys(glue)
            partitions = None
            if keys:
                predicates = list(plan.predicates)
                injected = self._injected(predicates) if is_projected(glue) else {}
                partitions = table_partitions(self.catalog, name.database, name.name, glue, injected)
                partitions = self._prune(keys, partitions, predicates)
            result = scan_table(glue, storage=self.storage, columns=plan.columns, partitions=partitions,
                                partition_columns=plan.partition_columns, blob_sink=self._blob_sink, name=reg)
            self.bytes_read += result.bytes_read
            self.files_read += result.files
            if result.sql is not None:
                self.scans.append((reg, result.sql))
            elif result.table is not None:
                self.con.register(reg, result.table)
            else:  # no objects: the declared columns, no rows
                cols = table_columns(glue) + partition_keys(glue)
                self.con.register(reg, pa.schema([pa.field(n, glue_to_arrow(t)) for n, t in cols]).empty_table())

    def with_scans(self, sql: str) -> str:
        """`sql` (the translated statement) with the Parquet scans it reads as leading CTEs, so
        DuckDB binds each read_parquet once, with the statement (a view is bound twice: when created
        and when used). A statement of another shape (WITH RECURSIVE) reads them as views."""
        scans, self.scans = self.scans, []
        if not scans:
            return sql
        ctes = ", ".join(f'"{reg}" AS ({scan})' for reg, scan in scans)
        if sql.startswith(("SELECT ", "(")):
            return f"WITH {ctes} {sql}"
        if sql.startswith("WITH ") and not sql.startswith("WITH RECURSIVE "):
            return f"WITH {ctes}, {sql[5:]}"
        for reg, scan in scans:
            self.con.execute(f'CREATE TEMP VIEW "{reg}" AS {scan}')
        return sql

    def _partition_predicates(self, node: exp.Table, keys: set[str]) -> list[exp.Expression]:
        select = node.find_ancestor(exp.Select)
        if select is None:
            return []
        alias = node.alias_or_name.lower()
        from_ = select.args.get("from") or select.args.get("from_")
        joins = select.args.get("joins") or []
        sources = ([from_.this] if from_ else []) + [j.this for j in joins]
        single = len(sources) == 1
        # A WHERE filter may only prune a table whose rows are never NULL-extended by an outer join
        # (r.dt IS NULL after a LEFT JOIN depends on the rows pruning would remove).
        for j in joins:
            side = (j.side or "").upper()
            nullable = (side in ("LEFT", "FULL") and j.this is node) or side in ("RIGHT", "FULL")
            if nullable and (j.this is node or side in ("RIGHT", "FULL")):
                return []
        out = []
        for conj in _conjuncts(select.args.get("where")):
            cols = list(conj.find_all(exp.Column))
            if not cols or conj.find(exp.Subquery, exp.Select) is not None:
                continue
            if all(c.name.lower() in keys and ((c.table and c.table.lower() == alias) or (not c.table and single))
                   for c in cols):
                out.append(conj)
        return out

    @staticmethod
    def _injected(predicates: list[exp.Expression]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in predicates:
            if isinstance(p, exp.EQ) and isinstance(p.left, exp.Column) and isinstance(p.right, exp.Literal):
                out.setdefault(p.left.name.lower(), []).append(p.right.this)
            elif isinstance(p, exp.In) and isinstance(p.this, exp.Column) and all(
                    isinstance(e, exp.Literal) for e in p.expressions):
                out.setdefault(p.this.name.lower(), []).extend(e.this for e in p.expressions)
        return out

    def _prune(self, keys, partitions, predicates):
        if not predicates or not partitions:
            return partitions
        fast = _string_key_filter(keys, predicates)
        if fast is not None:
            return [p for p in partitions if fast(p[0])]
        from .functions import install
        from .transpile import fix_semantics, to_duckdb
        values = partition_values_table(keys, [v for v, _ in partitions])
        values = values.append_column("__i", pa.array(range(len(partitions)), pa.int64()))
        conds = []
        for p in predicates:
            c = p.copy()
            for col in c.find_all(exp.Column):
                col.set("table", None)
            conds.append(c)
        where = exp.and_(*conds)
        try:
            # The predicates come from the qualified, typed statement: only Trino's semantics remain
            # to apply before DuckDB evaluates them over the partitions' typed values.
            probe = fix_semantics(exp.select("__i").from_("__parts").where(where), {})
            sql = to_duckdb(probe)
            install(self.con, sql)
            self.con.register("__parts", values)
            try:
                keep = {row[0] for row in self.con.sql(sql).fetchall()}
            finally:
                self.con.unregister("__parts")
        except (duckdb.Error, AthenaQueryError):
            return partitions  # the filter still applies to the rows; only pruning is skipped
        return [p for i, p in enumerate(partitions) if i in keep]


_COMPARE = {exp.EQ: lambda a, b: a == b, exp.NEQ: lambda a, b: a != b, exp.GT: lambda a, b: a > b,
            exp.GTE: lambda a, b: a >= b, exp.LT: lambda a, b: a < b, exp.LTE: lambda a, b: a <= b}


def _string_key_filter(keys, predicates):
    """For `key <op> 'literal'` / `key IN ('a', ...)` on varchar partition keys (the usual dt = '...'),
    a Python test of the partition values: varchar comparison is by code point in Trino as in
    Python. None when any predicate is of another form (DuckDB evaluates those)."""
    index = {k: i for i, (k, t) in enumerate(keys) if t.lower() == "string"}
    tests = []
    for p in predicates:
        if type(p) in _COMPARE and isinstance(p.this, exp.Column) and isinstance(p.expression, exp.Literal) \
                and p.expression.is_string and p.this.name.lower() in index:
            i, op, lit = index[p.this.name.lower()], _COMPARE[type(p)], p.expression.this
            tests.append(lambda values, i=i, op=op, lit=lit: values[i] != "__HIVE_DEFAULT_PARTITION__"
                         and op(values[i], lit))
        elif isinstance(p, exp.In) and isinstance(p.this, exp.Column) and p.this.name.lower() in index and \
                p.expressions and all(isinstance(e, exp.Literal) and e.is_string for e in p.expressions):
            i, wanted = index[p.this.name.lower()], {e.this for e in p.expressions}
            tests.append(lambda values, i=i, wanted=wanted: values[i] in wanted)
        else:
            return None
    return lambda values: all(t(values) for t in tests)
