"""Small helpers shaping text results (SHOW/DESCRIBE) and empty DDL outcomes."""

from __future__ import annotations

import pyarrow as pa

from .outcome import ColumnInfo, QueryOutcome

__all__ = ["text_outcome", "text_table_outcome", "ddl_outcome"]


def text_outcome(stype: str, column: str, lines: list[str], result_format: str = "txt") -> QueryOutcome:
    table = pa.table({column: pa.array(lines, pa.string())})
    info = ColumnInfo(name=column, type="varchar" if result_format == "csv" else "string",
                      precision=2147483647 if result_format == "csv" else 0, case_sensitive=True)
    return QueryOutcome(statement_type=stype, result_format=result_format, columns=[info], table=table)


def text_table_outcome(stype: str, columns: list[str], rows: list[list[str]]) -> QueryOutcome:
    """A several-column text result (DESCRIBE: col_name, data_type, comment); the .txt holds each
    row's fields joined by tabs, as Athena writes it."""
    table = pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)})
    infos = [ColumnInfo(name=c, type="string", precision=0, case_sensitive=True) for c in columns]
    return QueryOutcome(statement_type=stype, result_format="txt", columns=infos, table=table)


def ddl_outcome(stype: str = "DDL", text: list[str] | None = None) -> QueryOutcome:
    """DDL writes an (empty) .txt result in Athena; no columns, no rows unless there is a message."""
    if text:
        return text_outcome(stype, "result", text)
    return QueryOutcome(statement_type=stype, result_format="txt", columns=[], table=None)
