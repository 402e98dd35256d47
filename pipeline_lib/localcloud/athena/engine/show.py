"""SHOW DATABASES|TABLES|PARTITIONS|COLUMNS|CREATE TABLE|CREATE VIEW and DESCRIBE, from the catalog."""

from __future__ import annotations

import fnmatch
import re

from sqlglot import exp

from .catalog import TableName, lookup_table, require_database, table_name
from .errors import not_supported, user_error
from .resolve_views import decode_view
from .results import text_outcome, text_table_outcome
from .scan import partition_keys, table_columns

__all__ = ["show", "describe"]


def _parse_name(text: str, default_db: str | None) -> TableName:
    parts = [p.strip('`"').lower() for p in re.findall(r'"[^"]+"|`[^`]+`|[^.\s]+', text)]
    if len(parts) == 3:
        return TableName(parts[0], parts[1], parts[2])
    if len(parts) == 2:
        return TableName("awsdatacatalog", parts[0], parts[1])
    if not default_db:
        raise user_error("MISSING_SCHEMA_NAME", "line 1:1: Schema must be specified when session schema is not set")
    return TableName("awsdatacatalog", default_db, parts[0])


def _like(pattern: str | None):
    if pattern is None:
        return lambda name: True
    # Hive SHOW ... 'pattern': '*' any characters, '|' alternatives.
    alternatives = [p.strip().lower() for p in pattern.split("|")]
    return lambda name: any(fnmatch.fnmatchcase(name.lower(), a) for a in alternatives)


def show(query, sql: str):
    text = sql.strip().rstrip(";").strip()
    stype = "UTILITY"
    m = re.match(r"SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'([^']*)')?$", text, re.I)
    if m:
        names = [d["Name"] for d in query.catalog.get_databases() if _like(m.group(1))(d["Name"])]
        return text_outcome(stype, "database_name", sorted(names))
    m = re.match(r"SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+([\w`\"]+))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", text, re.I)
    if m:
        db = (m.group(1) or query.database or "").strip('`"').lower()
        require_database(query.catalog, db)
        names = [t["Name"] for t in query.catalog.get_tables(db) if _like(m.group(2))(t["Name"])]
        return text_outcome(stype, "tab_name", sorted(names))
    m = re.match(r"SHOW\s+VIEWS(?:\s+(?:IN|FROM)\s+([\w`\"]+))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", text, re.I)
    if m:
        db = (m.group(1) or query.database or "").strip('`"').lower()
        require_database(query.catalog, db)
        names = [t["Name"] for t in query.catalog.get_tables(db)
                 if t.get("TableType") == "VIRTUAL_VIEW" and _like(m.group(2))(t["Name"])]
        return text_outcome(stype, "views", sorted(names))
    m = re.match(r"SHOW\s+PARTITIONS\s+(\S+)$", text, re.I)
    if m:
        name = _parse_name(m.group(1), query.database)
        table = lookup_table(query.catalog, name, None)
        keys = [k for k, _ in partition_keys(table)]
        if not keys:
            raise user_error("NOT_SUPPORTED", f"Table {name.database}.{name.name} is not partitioned")
        # The catalogue's partitions only: Athena does not list projected ones.
        parts = sorted(p["Values"] for p in query.catalog.get_partitions(name.database, name.name))
        return text_outcome(stype, "partition", ["/".join(f"{k}={v}" for k, v in zip(keys, values)) for values in parts])
    m = re.match(r"SHOW\s+COLUMNS\s+(?:IN|FROM)\s+(\S+)(?:\s+(?:IN|FROM)\s+(\S+))?$", text, re.I)
    if m:
        target = m.group(1) if not m.group(2) else f"{m.group(2)}.{m.group(1)}"
        name = _parse_name(target, query.database)
        table = lookup_table(query.catalog, name, None)
        return text_outcome(stype, "field", [f"{c:<20}" for c, _ in table_columns(table) + partition_keys(table)])
    m = re.match(r"SHOW\s+TBLPROPERTIES\s+(\S+)(?:\s*\(\s*'([^']*)'\s*\))?$", text, re.I)
    if m:
        name = _parse_name(m.group(1), query.database)
        params = lookup_table(query.catalog, name, None).get("Parameters") or {}
        if m.group(2) is not None:
            return text_outcome(stype, "prpt_name", [params[m.group(2)]] if m.group(2) in params else [])
        return text_outcome(stype, "prpt_name", [f"{k}\t{v}" for k, v in sorted(params.items())])
    m = re.match(r"SHOW\s+CREATE\s+(TABLE|VIEW)\s+(\S+)$", text, re.I)
    if m:
        name = _parse_name(m.group(2), query.database)
        table = lookup_table(query.catalog, name, None)
        is_view = table.get("TableType") == "VIRTUAL_VIEW"
        if m.group(1).upper() == "VIEW":
            if not is_view:
                raise user_error("NOT_SUPPORTED", f"Relation '{name}' is a table, not a view")
            view = decode_view(table["ViewOriginalText"])
            return text_outcome(stype, "Create View",
                                [f'CREATE VIEW "{name.catalog}"."{name.database}"."{name.name}" SECURITY DEFINER AS\n'
                                 + view["originalSql"]], result_format="csv")
        if is_view:
            raise user_error("NOT_SUPPORTED", f"Relation '{name}' is a view, not a table; use SHOW CREATE VIEW")
        return text_outcome(stype, "createtab_stmt", _create_table_lines(name, table))
    raise not_supported(f"This SHOW statement ({text[:40]})")


def _create_table_lines(name: TableName, table: dict) -> list[str]:
    sd = table.get("StorageDescriptor") or {}
    cols = table_columns(table)
    lines = [f"CREATE EXTERNAL TABLE `{name.database}`.`{name.name}`("]
    for i, (c, t) in enumerate(cols):
        lines.append(f"  `{c}` {t}" + (", " if i < len(cols) - 1 else ")"))
    keys = partition_keys(table)
    if keys:
        lines.append("PARTITIONED BY ( ")
        for i, (c, t) in enumerate(keys):
            lines.append(f"  `{c}` {t}" + (", " if i < len(keys) - 1 else ")"))
    serde = sd.get("SerdeInfo") or {}
    lines += ["ROW FORMAT SERDE ", f"  '{serde.get('SerializationLibrary', '')}' "]
    if serde.get("Parameters"):
        lines.append("WITH SERDEPROPERTIES ( ")
        items = sorted(serde["Parameters"].items())
        for i, (k, v) in enumerate(items):
            lines.append(f"  '{k}'='{v}'" + (", " if i < len(items) - 1 else ") "))
    lines += ["STORED AS INPUTFORMAT ", f"  '{sd.get('InputFormat', '')}' ", "OUTPUTFORMAT ",
              f"  '{sd.get('OutputFormat', '')}'", "LOCATION", f"  '{sd.get('Location', '')}'"]
    params = {k: v for k, v in sorted((table.get("Parameters") or {}).items()) if k != "EXTERNAL"}
    if params:
        lines.append("TBLPROPERTIES (")
        items = list(params.items())
        for i, (k, v) in enumerate(items):
            lines.append(f"  '{k}'='{v}'" + (", " if i < len(items) - 1 else ")"))
    return lines


def describe(query, stmt: exp.Describe):
    target = stmt.this
    if not isinstance(target, exp.Table):
        raise not_supported("DESCRIBE of this object")
    if stmt.args.get("style"):
        raise not_supported(f"DESCRIBE {stmt.args['style']}")
    name = table_name(target, query.database, query.catalog_name)
    table = lookup_table(query.catalog, name, target)
    # Hive's DESCRIBE layout: name and type padded to 20, then the comment; partition keys listed
    # again under "# Partition Information" (awswrangler's describe_table relies on it).
    comments = {c["Name"].lower(): c.get("Comment", "") for c in (table.get("StorageDescriptor") or {}).get("Columns") or []}
    rows = [[f"{c:<20}", f"{t:<20}", comments.get(c, "")] for c, t in table_columns(table) + partition_keys(table)]
    keys = partition_keys(table)
    if keys:
        rows += [["", " ", " "], ["# Partition Information", " ", " "],
                 [f"{'# col_name':<20}", f"{'data_type':<20}", f"{'comment':<20}"], ["", " ", " "]]
        rows += [[f"{c:<20}", f"{t:<20}", ""] for c, t in keys]
    return text_table_outcome("UTILITY", ["col_name", "data_type", "comment"], rows)
