"""What a run returns: result metadata (ColumnInfo) and the rows, rendered as Athena renders them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from .render import render_column

__all__ = ["ColumnInfo", "QueryOutcome"]


@dataclass
class ColumnInfo:
    """Athena's ResultSetMetadata.ColumnInfo."""

    name: str
    type: str
    precision: int = 0
    scale: int = 0
    nullable: str = "UNKNOWN"
    case_sensitive: bool = False

    def to_api(self) -> dict:
        return {
            "CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": self.name, "Label": self.name,
            "Type": self.type, "Precision": self.precision, "Scale": self.scale,
            "Nullable": self.nullable, "CaseSensitive": self.case_sensitive,
        }


@dataclass
class QueryOutcome:
    statement_type: str
    result_format: str  # "csv" | "txt" | "none"
    columns: list[ColumnInfo] = field(default_factory=list)
    table: pa.Table | None = None
    data_scanned_bytes: int = 0
    written_files: list[str] = field(default_factory=list)
    update_count: int | None = None

    def render_rows(self) -> Iterator[list[str | None]]:
        """Each row's values as Athena's varchar (None for NULL)."""
        if self.table is None:
            return
        for batch in self.table.to_batches(max_chunksize=65536):
            columns = [render_column(c) for c in batch.columns]
            for row in zip(*columns):
                yield list(row)

    def render_text(self) -> str:
        """The .txt result (DDL/SHOW/DESCRIBE): one line per row, fields tab-separated."""
        lines = ["\t".join("" if v is None else v for v in row) for row in self.render_rows()]
        return "".join(line + "\n" for line in lines)
