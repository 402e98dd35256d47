"""The lake table's columns (pipeline_lib/data/schema.json, package data) and a parser for Glue/Hive type strings.

`load_schema()` reads the single source of the table's columns. `parse_type()` turns a Glue type
string (`decimal(12,2)`, `array<struct<sku:string,quantity:int>>`, ...) into a small typed tree
whose `str()` is the canonical Glue spelling; `to_arrow()` / `from_arrow()` map to and from
pyarrow types (Firehose format conversion writes with these; the crawler reads Parquet footers).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:  # pyarrow is imported lazily: loading the schema should not pay for it.
    import pyarrow as pa

# Package data: installed with the package, so the schema loads from any directory.
DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "schema.json"

# Hive's primitive type names (canonical spelling) and accepted aliases.
PRIMITIVES = frozenset(
    {"string", "tinyint", "smallint", "int", "bigint", "float", "double", "boolean",
     "timestamp", "date", "binary"}
)
_ALIASES = {"integer": "int"}
# Hive's integer types, narrowest first, with the values each holds.
INTEGER_RANGES = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
# Hive: `decimal` alone means decimal(10,0); precision is at most 38.
DEFAULT_DECIMAL = (10, 0)
MAX_DECIMAL_PRECISION = 38
_COLUMN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


__all__ = [
    "DEFAULT_DECIMAL", "DEFAULT_SCHEMA_PATH", "INTEGER_RANGES", "MAX_DECIMAL_PRECISION", "PRIMITIVES",
    "ArrayType", "CharType", "Column", "DecimalType", "HiveType", "MapType", "PrimitiveType", "SchemaError",
    "StructField", "StructType", "TableSchema", "TypeStringError", "canonical_type", "from_arrow",
    "load_schema", "parse_type", "schema_from_dict", "to_arrow",
]


class TypeStringError(ValueError):
    """A Glue/Hive type string that does not parse."""


class SchemaError(ValueError):
    """The lake schema (or the file given) is not a valid table schema."""


# --------------------------------------------------------------------------------------------
# Type tree


@dataclass(frozen=True)
class PrimitiveType:
    name: str  # one of PRIMITIVES

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class DecimalType:
    precision: int
    scale: int

    def __str__(self) -> str:
        return f"decimal({self.precision},{self.scale})"


@dataclass(frozen=True)
class CharType:
    """`char(n)` or `varchar(n)` (kind is the name)."""

    kind: str
    length: int

    def __str__(self) -> str:
        return f"{self.kind}({self.length})"


@dataclass(frozen=True)
class ArrayType:
    element: HiveType

    def __str__(self) -> str:
        return f"array<{self.element}>"


@dataclass(frozen=True)
class MapType:
    key: HiveType
    value: HiveType

    def __str__(self) -> str:
        return f"map<{self.key},{self.value}>"


@dataclass(frozen=True)
class StructField:
    name: str
    type: HiveType

    def __str__(self) -> str:
        return f"{self.name}:{self.type}"


@dataclass(frozen=True)
class StructType:
    fields: tuple[StructField, ...]

    def __str__(self) -> str:
        return "struct<" + ",".join(str(f) for f in self.fields) + ">"

    def field(self, name: str) -> StructField:
        """The field called `name` (case-insensitive, as Hive matches names)."""
        for f in self.fields:
            if f.name.lower() == name.lower():
                return f
        raise KeyError(name)


HiveType = Union[PrimitiveType, DecimalType, CharType, ArrayType, MapType, StructType]


# --------------------------------------------------------------------------------------------
# Parser: recursive descent over a tiny token stream.

# Groups: word, number, punct, name (a name only in catalog mode: never matched here).
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\d+)|([<>(),:])|(?!)())")
# Catalog mode: a run of anything but the delimiters is one token; a whole run of letters, digits
# and _ is still a word (or a number), anything else a name (a JSON key such as `first-name`).
_CATALOG_TOKEN = re.compile(
    r"\s*(?:([A-Za-z_][A-Za-z0-9_]*(?![^<>(),:\s]))|([0-9]+(?![^<>(),:\s]))|([<>(),:])|([^<>(),:\s]+))"
)
_KINDS = ("word", "number", "punct", "name")


def _tokenize(text: str, catalog: bool) -> list[tuple[str, str, int]]:
    """(kind, value, position) with kind in _KINDS, ending with ('end', '', len)."""
    pattern = _CATALOG_TOKEN if catalog else _TOKEN
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    stripped_end = len(text.rstrip())
    while pos < stripped_end:
        m = pattern.match(text, pos)
        if not m:
            raise TypeStringError(
                f"unexpected character {text[pos:].lstrip()[:1]!r} at position {pos} in type {text!r}"
            )
        group = next(i for i, value in enumerate(m.groups(), 1) if value is not None)
        tokens.append((_KINDS[group - 1], m.group(group), m.start(group)))
        pos = m.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, catalog: bool = False) -> None:
        self.text = text
        self.catalog = catalog
        self.tokens = _tokenize(text, catalog)
        self.i = 0

    def _peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def _fail(self, expected: str) -> TypeStringError:
        kind, value, pos = self._peek()
        found = "end of string" if kind == "end" else repr(value)
        return TypeStringError(f"expected {expected} at position {pos} in type {self.text!r}, found {found}")

    def _expect(self, punct: str) -> None:
        kind, value, _ = self._peek()
        if kind != "punct" or value != punct:
            raise self._fail(repr(punct))
        self.i += 1

    def _accept(self, punct: str) -> bool:
        kind, value, _ = self._peek()
        if kind == "punct" and value == punct:
            self.i += 1
            return True
        return False

    def _int(self, what: str) -> int:
        kind, value, _ = self._peek()
        if kind != "number":
            raise self._fail(what)
        self.i += 1
        return int(value)

    def parse(self) -> HiveType:
        result = self._type()
        if self._peek()[0] != "end":
            raise self._fail("end of type")
        return result

    def _type(self) -> HiveType:
        kind, value, pos = self._peek()
        if kind != "word":
            raise self._fail("a type name")
        self.i += 1
        name = _ALIASES.get(value.lower(), value.lower())
        if name in PRIMITIVES:
            return PrimitiveType(name)
        if name == "decimal":
            return self._decimal(pos)
        if name in ("char", "varchar"):
            self._expect("(")
            length = self._int("a length")
            self._expect(")")
            if length < 1:
                raise TypeStringError(f"{name} length must be at least 1 in type {self.text!r}")
            return CharType(name, length)
        if name == "array":
            self._expect("<")
            element = self._type()
            self._expect(">")
            return ArrayType(element)
        if name == "map":
            self._expect("<")
            key_pos = self._peek()[2]
            key = self._type()
            if not isinstance(key, (PrimitiveType, DecimalType, CharType)):
                raise TypeStringError(
                    f"map keys must be a primitive type (position {key_pos} in {self.text!r}), got {key}"
                )
            self._expect(",")
            value_type = self._type()
            self._expect(">")
            return MapType(key, value_type)
        if name == "struct":
            return self._struct()
        raise TypeStringError(
            f"unknown type {value!r} at position {pos} in type {self.text!r}; known: "
            f"{', '.join(sorted(PRIMITIVES))}, decimal(p,s), char(n), varchar(n), array<t>, map<k,v>, struct<name:t,...>"
        )

    def _decimal(self, pos: int) -> DecimalType:
        if not self._accept("("):
            return DecimalType(*DEFAULT_DECIMAL)
        precision = self._int("a decimal precision")
        scale = self._int("a decimal scale") if self._accept(",") else 0
        self._expect(")")
        if not 1 <= precision <= MAX_DECIMAL_PRECISION:
            raise TypeStringError(
                f"decimal precision must be 1..{MAX_DECIMAL_PRECISION}, got {precision} (position {pos} in {self.text!r})"
            )
        if not 0 <= scale <= precision:
            raise TypeStringError(
                f"decimal scale must be 0..precision ({precision}), got {scale} (position {pos} in {self.text!r})"
            )
        return DecimalType(precision, scale)

    def _struct(self) -> StructType:
        self._expect("<")
        if self.catalog and self._accept(">"):
            return StructType(())
        fields: list[StructField] = []
        seen: set[str] = set()
        while True:
            kind, value, pos = self._peek()
            if kind != "word" and not (self.catalog and kind in ("name", "number")):
                raise self._fail("a struct field name")
            self.i += 1
            if value.lower() in seen:
                raise TypeStringError(f"duplicate struct field {value!r} at position {pos} in type {self.text!r}")
            seen.add(value.lower())
            self._expect(":")
            fields.append(StructField(value, self._type()))
            if not self._accept(","):
                break
        self._expect(">")
        return StructType(tuple(fields))


def parse_type(text: str, *, catalog: bool = False) -> HiveType:
    """Parse a Glue/Hive type string; `str(result)` is its canonical spelling.

    Names are case-insensitive and whitespace between tokens is ignored, as in Glue and Athena.
    `catalog` also accepts what Glue's Data Catalog holds beyond Hive's syntax, as a crawler
    writes it for JSON: empty structs and struct field names with other characters than letters,
    digits and _ (`struct<first-name:string>`; Athena cannot read such a table, on AWS too).
    Raises TypeStringError naming the position of the problem.
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeStringError(f"a type string is required, got {text!r}")
    return _Parser(text, catalog).parse()


def canonical_type(text: str) -> str:
    """The canonical Glue spelling of a type string (lower case, no spaces)."""
    return str(parse_type(text))


# --------------------------------------------------------------------------------------------
# pyarrow mapping

_TO_ARROW_PRIMITIVE = {
    "string": "string", "tinyint": "int8", "smallint": "int16", "int": "int32", "bigint": "int64",
    "float": "float32", "double": "float64", "boolean": "bool_", "date": "date32", "binary": "binary",
}


def to_arrow(type_: str | HiveType, *, timestamp_unit: str = "ms") -> pa.DataType:
    """The pyarrow type for a Glue type (a string or a parsed tree).

    `timestamp` maps to `pa.timestamp(timestamp_unit)` without a time zone (Hive timestamps are
    zone-less; our values are UTC). The default unit is milliseconds, the precision of the data.
    Firehose's own Parquet writer (Hive's) stores timestamps as INT96, which pyarrow reads back
    as timestamp[ns]; a writer imitating it passes `use_deprecated_int96_timestamps=True` to
    pyarrow.parquet, which is independent of this in-memory unit.
    """
    import pyarrow as pa

    t = parse_type(type_) if isinstance(type_, str) else type_
    if isinstance(t, PrimitiveType):
        if t.name == "timestamp":
            return pa.timestamp(timestamp_unit)
        return getattr(pa, _TO_ARROW_PRIMITIVE[t.name])()
    if isinstance(t, DecimalType):
        return pa.decimal128(t.precision, t.scale)
    if isinstance(t, CharType):
        return pa.string()
    if isinstance(t, ArrayType):
        return pa.list_(to_arrow(t.element, timestamp_unit=timestamp_unit))
    if isinstance(t, MapType):
        return pa.map_(
            to_arrow(t.key, timestamp_unit=timestamp_unit), to_arrow(t.value, timestamp_unit=timestamp_unit)
        )
    if isinstance(t, StructType):
        return pa.struct(
            [pa.field(f.name, to_arrow(f.type, timestamp_unit=timestamp_unit)) for f in t.fields]
        )
    raise TypeError(f"not a Hive type tree: {t!r}")


def from_arrow(dtype: pa.DataType, *, lenient: bool = False) -> HiveType:
    """The Glue type a crawler would record for a pyarrow (Parquet) type.

    A type Hive cannot hold raises TypeError, unless `lenient` (the crawler, which catalogues a
    file rather than failing on it): then uint64 is bigint (Parquet's INT64; values above 2**63-1
    do not fit) and anything else without a Hive type (time of day, intervals, nulls, decimals of
    more than 38 digits) is string.
    """
    import pyarrow.types as pt

    if lenient and pt.is_uint64(dtype):
        return PrimitiveType("bigint")
    if pt.is_string(dtype) or pt.is_large_string(dtype) or pt.is_string_view(dtype):
        return PrimitiveType("string")
    if pt.is_boolean(dtype):
        return PrimitiveType("boolean")
    for check, name in (
        (pt.is_int8, "tinyint"), (pt.is_int16, "smallint"), (pt.is_int32, "int"), (pt.is_int64, "bigint"),
        # Hive has no unsigned integers: widen so every value fits.
        (pt.is_uint8, "smallint"), (pt.is_uint16, "int"), (pt.is_uint32, "bigint"),
        (pt.is_float16, "float"), (pt.is_float32, "float"), (pt.is_float64, "double"),
        (pt.is_timestamp, "timestamp"), (pt.is_date, "date"),
        (pt.is_binary, "binary"), (pt.is_large_binary, "binary"), (pt.is_fixed_size_binary, "binary"),
    ):
        if check(dtype):
            return PrimitiveType(name)
    if pt.is_decimal(dtype):
        if dtype.precision > MAX_DECIMAL_PRECISION:
            if lenient:
                return PrimitiveType("string")
            raise TypeError(f"{dtype} has precision > {MAX_DECIMAL_PRECISION}; Glue/Hive decimals cannot hold it")
        return DecimalType(dtype.precision, dtype.scale)
    if pt.is_map(dtype):
        return MapType(from_arrow(dtype.key_type, lenient=lenient), from_arrow(dtype.item_type, lenient=lenient))
    if pt.is_list(dtype) or pt.is_large_list(dtype) or pt.is_fixed_size_list(dtype):
        return ArrayType(from_arrow(dtype.value_type, lenient=lenient))
    if pt.is_struct(dtype):
        return StructType(tuple(StructField(f.name, from_arrow(f.type, lenient=lenient)) for f in dtype))
    if pt.is_dictionary(dtype):
        return from_arrow(dtype.value_type, lenient=lenient)
    if lenient:
        return PrimitiveType("string")
    raise TypeError(f"no Glue/Hive type for arrow type {dtype} ({type(dtype).__name__}); cast it first")


# --------------------------------------------------------------------------------------------
# The table schema


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""

    @property
    def hive_type(self) -> HiveType:
        return parse_type(self.type)

    def glue(self) -> dict[str, str]:
        """The column as Glue's API takes it (`Column` in `StorageDescriptor.Columns`)."""
        return {"Name": self.name, "Type": self.type, "Comment": self.comment}


@dataclass(frozen=True)
class TableSchema:
    table: str
    columns: tuple[Column, ...]
    partition_keys: tuple[Column, ...]
    description: str = ""
    path: Path | None = None

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def partition_key_names(self) -> list[str]:
        return [c.name for c in self.partition_keys]

    def glue_columns(self) -> list[dict[str, str]]:
        return [c.glue() for c in self.columns]

    def glue_partition_keys(self) -> list[dict[str, str]]:
        return [c.glue() for c in self.partition_keys]

    def column(self, name: str) -> Column:
        for c in (*self.columns, *self.partition_keys):
            if c.name == name:
                return c
        raise KeyError(f"no column {name!r} in table {self.table!r}; columns: {', '.join(self.column_names())}")

    def arrow_schema(self, *, timestamp_unit: str = "ms") -> pa.Schema:
        """The Parquet file schema: the columns only (partition keys live in the S3 path)."""
        import pyarrow as pa

        return pa.schema([pa.field(c.name, to_arrow(c.type, timestamp_unit=timestamp_unit)) for c in self.columns])


def _columns(raw: Any, key: str, source: Path) -> tuple[Column, ...]:
    if not isinstance(raw, list):
        raise SchemaError(f"{source}: {key!r} must be a list of {{name, type, comment}} objects")
    out = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("type"), str):
            raise SchemaError(f"{source}: {key}[{i}] must be an object with string 'name' and 'type', got {entry!r}")
        name, type_ = entry["name"], entry["type"]
        if not _COLUMN_NAME.match(name):
            # Glue lower-cases names; a mixed-case name here would not match what Athena shows.
            raise SchemaError(f"{source}: {key}[{i}] name {name!r} must be lower-case snake_case ([a-z_][a-z0-9_]*)")
        try:
            canonical = canonical_type(type_)
        except TypeStringError as e:
            raise SchemaError(f"{source}: column {name!r}: {e}") from None
        if canonical != type_:
            raise SchemaError(f"{source}: column {name!r}: write the type as {canonical!r} (canonical Glue spelling), not {type_!r}")
        comment = entry.get("comment", "")
        if not isinstance(comment, str):
            raise SchemaError(f"{source}: column {name!r}: comment must be a string")
        out.append(Column(name, type_, comment))
    return tuple(out)


def schema_from_dict(raw: Any, source: Path | str = "<dict>") -> TableSchema:
    """Validate and build a TableSchema from the parsed JSON document."""
    src = Path(source)
    if not isinstance(raw, dict):
        raise SchemaError(f"{src}: top level must be an object with 'table', 'columns', 'partition_keys'")
    table = raw.get("table")
    if not isinstance(table, str) or not _COLUMN_NAME.match(table):
        raise SchemaError(f"{src}: 'table' must be a lower-case snake_case name, got {table!r}")
    columns = _columns(raw.get("columns"), "columns", src)
    partition_keys = _columns(raw.get("partition_keys", []), "partition_keys", src)
    if not columns:
        raise SchemaError(f"{src}: 'columns' is empty; a Glue table needs at least one column")
    names = [c.name for c in (*columns, *partition_keys)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaError(f"{src}: column names must be unique across columns and partition_keys; repeated: {dupes}")
    for key in partition_keys:
        if not isinstance(key.hive_type, (PrimitiveType, DecimalType, CharType)):
            raise SchemaError(f"{src}: partition key {key.name!r} must have a primitive type, not {key.type!r}")
    description = raw.get("description", "")
    return TableSchema(table, columns, partition_keys, description if isinstance(description, str) else "", src)


def load_schema(path: str | Path | None = None) -> TableSchema:
    """Load the lake table schema (default: the one shipped in the package, DEFAULT_SCHEMA_PATH)."""
    p = Path(path) if path is not None else DEFAULT_SCHEMA_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(
            f"schema file {p} not found; pass the path of a schema.json, or call load_schema() "
            "without one for the lake schema shipped in pipeline_lib/data/"
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SchemaError(f"{p}: not valid JSON ({e})") from None
    return schema_from_dict(raw, p)
