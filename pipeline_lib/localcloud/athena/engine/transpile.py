"""Athena (Trino) SQL -> DuckDB SQL, with the semantic differences sqlglot leaves fixed.

Three passes over the sqlglot tree:
- `before_typing`: execution parameters, bare decimal literals as double, DECIMAL 'x' literals.
- `qualify_and_type`: sqlglot's qualify + annotate_types over the scanned tables' DuckDB types
  (column resolution errors become Athena's COLUMN_NOT_FOUND).
- `fix_semantics`: integer division, strict casts, regexp_extract / json_extract_scalar NULLs,
  date_diff whole units, Joda patterns, to_iso8601, time zones, map_agg, zip, UNNEST of maps and
  of several arrays, varchar of doubles. What has no faithful translation raises NOT_SUPPORTED.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from .catalog import position
from .errors import AthenaQueryError, not_supported, user_error

__all__ = ["before_typing", "qualify_and_type", "fix_semantics", "to_duckdb", "joda_to_strftime",
           "substitute_parameters"]

INT_TYPES = {exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
             exp.DataType.Type.BIGINT, exp.DataType.Type.INT128}
_DUCK_INT = {exp.DataType.Type.TINYINT: "tinyint", exp.DataType.Type.SMALLINT: "smallint",
             exp.DataType.Type.INT: "integer", exp.DataType.Type.BIGINT: "bigint"}


def substitute_parameters(stmt: exp.Expression, params: list[str] | None) -> exp.Expression:
    placeholders = [p for p in stmt.find_all(exp.Placeholder)]
    params = params or []
    if len(placeholders) != len(params):
        raise user_error("INVALID_PARAMETER_USAGE",
                         f"Incorrect number of parameters: expected {len(placeholders)} but found {len(params)}")
    for ph, text in zip(placeholders, params):
        try:
            value = sqlglot.parse_one(text, read="athena")
        except sqlglot.errors.ParseError:
            raise user_error("INVALID_PARAMETER_USAGE", f"Execution parameter {text!r} is not a SQL literal") from None
        ph.replace(value)
    return stmt


def _reduce_finish(node: exp.Reduce) -> exp.Expression:
    """reduce(a, init, merge, finish): the finish lambda applied to a 3-argument reduce."""
    finish = node.args.get("finish")
    base = exp.Reduce(this=node.this, initial=node.args.get("initial"), merge=node.args.get("merge"))
    if finish is None:
        return node
    if not isinstance(finish, exp.Lambda) or len(finish.expressions) != 1:
        raise not_supported("reduce with this output function")
    param = finish.expressions[0].name
    body = finish.this.copy()
    if isinstance(body, (exp.Column, exp.Identifier, exp.Var)) and body.name == param:
        return base
    for ref in list(body.find_all(exp.Column, exp.Identifier)):
        if ref.name == param and not isinstance(ref.parent, exp.Column) and not (
                isinstance(ref, exp.Column) and ref.table):
            ref.replace(base.copy())
    return body


def before_typing(stmt: exp.Expression) -> exp.Expression:
    for red in list(stmt.find_all(exp.Reduce)):
        new = _reduce_finish(red)
        if new is not red:
            if red is stmt:
                stmt = new
            else:
                red.replace(new)
    for lit in list(stmt.find_all(exp.Literal)):
        # A bare 0.1 or 1e3 is a DOUBLE in Trino (decimal literals need DECIMAL '0.1').
        if not lit.is_string and re.search(r"[.eE]", lit.this) and not isinstance(lit.parent, exp.DataTypeParam):
            lit.replace(exp.Cast(this=lit.copy(), to=exp.DataType.build("DOUBLE")))
    for cast in list(stmt.find_all(exp.Cast)):
        to = cast.to
        if (to.this == exp.DataType.Type.DECIMAL and not to.expressions and isinstance(cast.this, exp.Literal)
                and cast.this.is_string):
            text = cast.this.this.strip()
            m = re.fullmatch(r"[+-]?(\d*)(?:\.(\d*))?", text)
            if m:
                digits = (m.group(1) or "").lstrip("0")
                frac = m.group(2) or ""
                precision = max(1, len(digits) + len(frac))
                cast.set("to", exp.DataType.build(f"DECIMAL({precision}, {len(frac)})"))
    return stmt


def name_unnamed_columns(stmt: exp.Expression) -> None:
    """Trino names a result column after a bare column reference only; anything else is _colN."""
    for select in stmt.find_all(exp.Select):
        for i, e in enumerate(select.expressions):
            if not isinstance(e, (exp.Alias, exp.Column, exp.Star, exp.Dot)):
                e.replace(exp.alias_(e.copy(), f"_col{i}"))


def qualify_and_type(stmt: exp.Expression, schema: dict[str, dict[str, str]]) -> exp.Expression:
    mapping = MappingSchema(schema, dialect="duckdb")
    # The columns as written (qualify rewrites them in place), for Athena's error messages.
    written = [(c.name.lower(), (c.table or "").lower(), position(c)) for c in stmt.find_all(exp.Column)]
    try:
        stmt = qualify(stmt, schema=mapping, dialect="athena", quote_identifiers=False,
                       validate_qualify_columns=True, identify=False)
    except OptimizeError as err:
        m = re.search(r"Column '(.+?)' could not be resolved", str(err)) or re.search(r"Unknown column: (\S+)", str(err))
        if m:
            name = m.group(1).split(".")[-1].strip('"').lower()
            table, where = next(((t, w) for n, t, w in written if n == name), ("", "line 1:1"))
            owners = [t for t, cols in schema.items() if name in {c.lower() for c in cols}]
            if not table and len(owners) > 1:
                raise user_error("AMBIGUOUS_NAME", f"{where}: Column '{name}' is ambiguous") from None
            shown = f"{table}.{name}" if table else name
            raise user_error("COLUMN_NOT_FOUND", f"{where}: Column '{shown}' cannot be resolved") from None
        m = re.search(r"Ambiguous column '(.+?)'", str(err))
        if m:
            where = next((w for n, _, w in written if n == m.group(1).lower()), "line 1:1")
            raise user_error("AMBIGUOUS_NAME", f"{where}: Column '{m.group(1)}' is ambiguous") from None
        raise not_supported(f"This statement (analysis: {err})") from None
    return annotate_types(stmt, schema=mapping, dialect="athena")


def _is_int(node: exp.Expression) -> bool:
    t = node.type
    return t is not None and t.this in INT_TYPES


def _is_type(node: exp.Expression, *types: exp.DataType.Type) -> bool:
    return node.type is not None and node.type.this in types


def _literal_string(node: exp.Expression | None) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    return None


# Joda-Time pattern letters (Trino's format_datetime/parse_datetime) -> strftime.
_JODA = [
    ("yyyy", "%Y"), ("YYYY", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%-m"),
    ("dd", "%d"), ("d", "%-d"), ("HH", "%H"), ("H", "%-H"), ("hh", "%I"), ("h", "%-I"), ("mm", "%M"), ("m", "%-M"),
    ("ss", "%S"), ("s", "%-S"), ("SSSSSS", "%f"), ("SSS", "%g"), ("a", "%p"), ("EEEE", "%A"), ("EEE", "%a"),
    ("DDD", "%j"), ("ZZ", "%z"), ("Z", "%z"), ("zzzz", "%Z"), ("z", "%Z"),
]


def joda_to_strftime(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == -1:
                raise user_error("INVALID_FUNCTION_ARGUMENT", f"Invalid format: unterminated quote in {pattern!r}")
            out.append(pattern[i + 1:end].replace("%", "%%") if end > i + 1 else "'")
            i = end + 1
            continue
        for joda, fmt in _JODA:
            if pattern.startswith(joda, i):
                out.append(fmt)
                i += len(joda)
                break
        else:
            if ch.isalpha():
                raise not_supported(f"Joda pattern letter '{ch}' in {pattern!r}")
            out.append(ch.replace("%", "%%"))
            i += 1
    return "".join(out)


def java_replacement_to_re2(text: str) -> str:
    """Trino's regexp_replace replacement ($1, \\$ for a dollar) in RE2's rewrite syntax (\\1, \\\\)."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif ch == "$":
            j = i + 1
            while j < len(text) and text[j].isdigit():
                j += 1
            if j == i + 1:
                raise not_supported("named groups (${name}) in a regexp_replace replacement")
            out.append("\\" + text[i + 1:j])
            i = j
        elif ch == "\\":
            out.append("\\\\")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# Trino's map_agg keeps the first value seen for a duplicate key and ignores NULL keys.
_MAP_AGG = ("map_from_entries(list_filter(list(struct_pack(k := __K, v := __V)) FILTER (WHERE __K IS NOT NULL), "
            "lambda e, i: list_position(list_transform(list(struct_pack(k := __K, v := __V)) "
            "FILTER (WHERE __K IS NOT NULL), lambda x: x.k), e.k) = i))")


def _from_template(template: str, **args: exp.Expression) -> exp.Expression:
    tree = sqlglot.parse_one(template, read="duckdb")
    for col in list(tree.find_all(exp.Column)):
        if col.name.startswith("__") and col.name[2:] in args:
            col.replace(args[col.name[2:]].copy())
    return tree


_INT_DECIMAL = {exp.DataType.Type.TINYINT: (3, 0), exp.DataType.Type.SMALLINT: (5, 0),
                exp.DataType.Type.INT: (10, 0), exp.DataType.Type.BIGINT: (19, 0)}


def decimal_type(node: exp.Expression) -> tuple[int, int] | None:
    """Trino's decimal(p, s) of an expression, by its typing rules (integers as decimal(10,0) etc.);
    None when it cannot be known here."""
    t = node.type
    if t is None:
        return None
    if t.this in _INT_DECIMAL:
        return _INT_DECIMAL[t.this]
    if t.this != exp.DataType.Type.DECIMAL:
        return None
    if isinstance(node, (exp.Column, exp.Cast)) and len(t.expressions) == 2:
        return int(t.expressions[0].this.name), int(t.expressions[1].this.name)
    if isinstance(node, (exp.Paren, exp.Neg, exp.Min, exp.Max, exp.AnyValue, exp.Window)):
        return decimal_type(node.this)
    if isinstance(node, exp.Sum):
        inner = decimal_type(node.this)
        return None if inner is None else (38, inner[1])
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        left, right = decimal_type(node.left), decimal_type(node.right)
        if left is None or right is None:
            return None
        (p1, s1), (p2, s2) = left, right
        if isinstance(node, exp.Mul):
            return min(38, p1 + p2), s1 + s2
        return min(38, max(p1 - s1, p2 - s2) + max(s1, s2) + 1), max(s1, s2)
    return None


def _is_decimal_avg(node: exp.Expression) -> bool:
    return isinstance(node, exp.Avg) and node.this.type is not None and \
        node.this.type.this == exp.DataType.Type.DECIMAL and len(node.this.type.expressions) == 2


def _with_this(wrapper: exp.Expression, agg: exp.Expression) -> exp.Expression:
    copy = wrapper.copy()
    copy.set("this", agg)
    return copy


def _decimal_avg(avg: exp.Avg, wrap) -> exp.Expression:
    """Trino: avg(decimal(p,s)) is decimal(p,s), the exact mean rounded half up (sum / count, each
    under the same FILTER or OVER as the avg)."""
    if isinstance(avg.this, exp.Distinct):
        raise not_supported("avg(DISTINCT decimal)")
    p, sc = (int(e.this.name) for e in avg.this.type.expressions)
    total = wrap(exp.Sum(this=avg.this.copy()))
    count = wrap(exp.Count(this=avg.this.copy()))
    mean = _fn("trino_decimal_div", total, count, exp.Literal.number(sc))
    return exp.Cast(this=mean, to=exp.DataType.build(f"DECIMAL({p}, {sc})"))


def _int_constant(node: exp.Expression) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.this):
        return int(node.this)
    if isinstance(node, exp.Neg):
        inner = _int_constant(node.this)
        return None if inner is None else -inner
    return None


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _zone_of(node: exp.Expression) -> str | None:
    """The zone of a value computed as a wall-clock time (AT TIME ZONE, from_unixtime)."""
    return (node.meta or {}).get("athena_zone") if isinstance(node, exp.Expression) else None


def _zoned(node: exp.Expression, zone: str) -> exp.Expression:
    node.meta["athena_zone"] = zone
    node.type = exp.DataType.build("TIMESTAMP")
    return node


def _instant(ts: exp.Expression) -> exp.Expression:
    """A TIMESTAMPTZ for a timestamp: zone-less ones are in the session zone (UTC)."""
    zone = _zone_of(ts)
    if zone is not None:
        return _fn("timezone", exp.Literal.string(zone), ts)
    if _is_type(ts, exp.DataType.Type.TIMESTAMPTZ):
        return ts
    return exp.AtTimeZone(this=ts, zone=exp.Literal.string("UTC"))


def _wall_clock(ts: exp.Expression, zone: str) -> exp.Expression:
    """The local time in `zone` of a timestamp, remembered as zoned (Trino's timestamp with time zone)."""
    return _zoned(_fn("timezone", exp.Literal.string(zone), _instant(ts)), zone)


_TRINO_TYPEOF = {
    exp.DataType.Type.DOUBLE: "double", exp.DataType.Type.FLOAT: "real", exp.DataType.Type.INT: "integer",
    exp.DataType.Type.BIGINT: "bigint", exp.DataType.Type.SMALLINT: "smallint", exp.DataType.Type.TINYINT: "tinyint",
    exp.DataType.Type.BOOLEAN: "boolean", exp.DataType.Type.DATE: "date",
}


def fix_semantics(stmt: exp.Expression, zones: dict[str, str]) -> exp.Expression:
    """Rewrite in place; `zones` receives output column alias -> time zone for `timestamp with
    time zone` results computed as wall-clock times (AT TIME ZONE, from_unixtime(x, tz))."""

    def walk(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div) and _is_int(node.left) and _is_int(node.right):
            return exp.IntDiv(this=node.left, expression=node.right)
        if isinstance(node, exp.Div) and (_is_type(node.left, exp.DataType.Type.DECIMAL) or _is_type(
                node.right, exp.DataType.Type.DECIMAL)) and not any(
                _is_type(x, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT) for x in (node.left, node.right)):
            left, right = decimal_type(node.left), decimal_type(node.right)
            if left is None or right is None:
                raise not_supported("Division of a decimal whose precision and scale are not known before execution")
            (p1, s1), (_, s2) = left, right
            rp, rs = min(38, p1 + s2 + max(s2 - s1, 0)), max(s1, s2)  # Trino's DecimalOperators.divide
            return exp.Cast(this=_fn("trino_decimal_div", node.left, node.right, exp.Literal.number(rs)),
                            to=exp.DataType.build(f"DECIMAL({rp}, {rs})"))
        if isinstance(node, (exp.Cast, exp.TryCast)) and node.to.this in _DUCK_INT and (
                _is_type(node.this, exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR)
                or _literal_string(node.this) is not None):
            # Trino parses varchar -> integer strictly: '1.9' fails instead of rounding.
            inside_try = isinstance(node, exp.TryCast) or node.find_ancestor(exp.Try) is not None
            prefix = "trino_try_cast_" if inside_try else "trino_cast_"
            name = {"tinyint": "tinyint", "smallint": "smallint", "integer": "integer", "bigint": "bigint"}[
                _DUCK_INT[node.to.this]]
            return _fn(prefix + name, node.this)
        if isinstance(node, exp.Extract) and node.this.name.upper() in ("DOW", "DAY_OF_WEEK", "DAYOFWEEK"):
            return _fn("isodow", node.expression)  # Trino: ISO day of week, Monday 1 .. Sunday 7
        if isinstance(node, exp.Extract) and node.this.name.upper() in ("YOW", "YEAR_OF_WEEK"):
            return _fn("isoyear", node.expression)
        if isinstance(node, exp.Split) and node.args.get("limit") is not None:
            return _fn("trino_split_limit", node.this, node.expression, node.args["limit"])
        if isinstance(node, exp.Length) and _is_type(node.this, exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY,
                                                     exp.DataType.Type.BLOB) or (
                isinstance(node, exp.Length) and isinstance(node.this, exp.Encode)):
            return _fn("octet_length", node.this)  # length(varbinary) counts bytes
        if isinstance(node, exp.Cast) and node.to.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT) and \
                _is_type(node.this, exp.DataType.Type.JSON) and node.find_ancestor(exp.Try) is None:
            return _fn("trino_json_to_varchar", node.this)
        if isinstance(node, exp.Cast) and node.to.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
            arg = node.this
            zone = _zone_of(arg) or ("UTC" if _is_type(arg, exp.DataType.Type.TIMESTAMPTZ) else None)
            if zone is not None or _is_type(arg, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME):
                # Trino: 'YYYY-MM-DD HH:MM:SS.fff' for timestamp(3) (Glue's timestamps), the literal's
                # own precision otherwise; a zone name after timestamps with time zone.
                precision = 3
                if isinstance(arg, exp.Cast) and arg.to.expressions:
                    precision = int(arg.to.expressions[0].this.name)
                fmt = "%Y-%m-%d %H:%M:%S" + {0: "", 3: ".%g", 6: ".%f"}.get(precision, ".%g")
                wall = arg if zone is None or _zone_of(arg) else _fn("timezone", exp.Literal.string("UTC"), arg)
                text = _fn("strftime", wall, exp.Literal.string(fmt))
                return exp.DPipe(this=text, expression=exp.Literal.string(" " + zone)) if zone else text
            if _is_type(node.this, exp.DataType.Type.DOUBLE):
                return _fn("trino_double_to_varchar", node.this)
            if _is_type(node.this, exp.DataType.Type.FLOAT):
                return _fn("trino_real_to_varchar", node.this)
            if node.this.type is not None and node.this.type.this in (
                    exp.DataType.Type.ARRAY, exp.DataType.Type.MAP, exp.DataType.Type.STRUCT):
                raise user_error("TYPE_MISMATCH", f"{position(node)}: Cannot cast {node.this.type.sql('athena').lower()} to varchar")
        if isinstance(node, exp.Bracket) and not node.args.get("safe") and len(node.expressions) == 1 \
                and node.find_ancestor(exp.Try) is None:
            base, index = node.this, node.expressions[0]
            if _is_type(base, exp.DataType.Type.ARRAY):
                constant = _int_constant(index)
                if constant is not None:  # sqlglot keeps integer constants 0-based
                    index = exp.Literal.number(constant + 1)
                return _fn("trino_array_subscript", base, index)
            if _is_type(base, exp.DataType.Type.MAP):
                return _fn("trino_map_subscript", base, index)
        if isinstance(node, exp.Format):
            # Trino's format() is Java's String.format; DuckDB's printf takes the same %-specifiers.
            return _fn("printf", node.this, *node.expressions)
        if isinstance(node, exp.Struct) and not any(isinstance(e, (exp.PropertyEQ, exp.Slice)) for e in node.expressions):
            # ROW(1, 'x'): Trino's anonymous fields render as field0, field1, ...
            names = [f"field{i}" for i in range(len(node.expressions))]
            parent = node.parent
            if isinstance(parent, exp.Cast) and parent.to.this == exp.DataType.Type.STRUCT and \
                    len(parent.to.expressions) == len(names):
                names = [f.name for f in parent.to.expressions]  # CAST(ROW(..) AS ROW(x .., y ..)) is positional
            return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(n), expression=e)
                                           for n, e in zip(names, node.expressions)])
        if isinstance(node, exp.RegexpExtract):
            group = node.args.get("group") or exp.Literal.number(0)
            return _fn("trino_regexp_extract", node.this, node.expression, group)
        if isinstance(node, exp.RegexpReplace) and node.args.get("replacement") is not None:
            text = _literal_string(node.args["replacement"])
            if text is None:
                raise not_supported("regexp_replace with a non-literal replacement")
            node.set("replacement", exp.Literal.string(java_replacement_to_re2(text)))
            return node
        if isinstance(node, exp.JSONExtractScalar):
            path = node.expression
            return _fn("trino_json_extract_scalar", node.this, path)
        if isinstance(node, exp.DateDiff):
            unit = (node.args.get("unit") or exp.var("day")).name.lower()
            # Trino counts whole units elapsed (DuckDB's date_sub), not boundaries crossed (date_diff).
            return _fn("date_sub", exp.Literal.string(unit), node.expression, node.this)
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            args = node.expressions
            if name == "format_datetime":
                pattern = _literal_string(args[1]) if len(args) > 1 else None
                if pattern is None:
                    raise not_supported("format_datetime with a non-literal pattern")
                return _fn("strftime", args[0], exp.Literal.string(joda_to_strftime(pattern)))
            if name == "to_iso8601":
                arg = args[0]
                zone = _zone_of(arg)
                if zone is not None:
                    if zone not in ("UTC", "Etc/UTC", "Z"):
                        raise not_supported(f"to_iso8601 of a timestamp in zone {zone}")
                    return _fn("strftime", arg, exp.Literal.string("%Y-%m-%dT%H:%M:%S.%gZ"))
                if _is_type(arg, exp.DataType.Type.DATE):
                    return _fn("strftime", arg, exp.Literal.string("%Y-%m-%d"))
                if _is_type(arg, exp.DataType.Type.TIMESTAMPTZ):
                    return _fn("strftime", _fn("timezone", exp.Literal.string("UTC"), arg),
                               exp.Literal.string("%Y-%m-%dT%H:%M:%S.%gZ"))
                if _is_type(arg, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME):
                    return _fn("strftime", arg, exp.Literal.string("%Y-%m-%dT%H:%M:%S.%g"))
                raise not_supported("to_iso8601 of an expression whose type is not known before execution")
            if name == "at_timezone":
                return walk(exp.AtTimeZone(this=args[0], zone=args[1]))
            if name == "map_agg":
                return _from_template(_MAP_AGG, K=args[0], V=args[1])
            if name == "zip":
                if len(args) < 2:
                    raise user_error("FUNCTION_NOT_FOUND", f"{position(node)}: Function 'zip' not registered")
                fields = [f"field{i}" for i in range(len(args))]
                # list_zip pads the shorter lists with NULL as Trino does; rename its fields.
                struct = exp.Struct(expressions=[
                    exp.PropertyEQ(this=exp.to_identifier(f), expression=_fn(
                        "struct_extract", exp.column("_zr"), exp.Literal.number(i + 1)))
                    for i, f in enumerate(fields)])
                return _fn("list_transform", _fn("list_zip", *args),
                           exp.Lambda(this=struct, expressions=[exp.to_identifier("_zr")]))
            if name in ("parse_datetime",):
                pattern = _literal_string(args[1])
                if pattern is None:
                    raise not_supported("parse_datetime with a non-literal pattern")
                return exp.Cast(this=_fn("strptime", args[0], exp.Literal.string(joda_to_strftime(pattern))),
                                to=exp.DataType.build("TIMESTAMPTZ"))
        if isinstance(node, exp.ParseDatetime):
            pattern = _literal_string(node.expression) or _literal_string(node.args.get("format"))
            if pattern is None:
                raise not_supported("parse_datetime with a non-literal pattern")
            return exp.Cast(this=_fn("strptime", node.this, exp.Literal.string(joda_to_strftime(pattern))),
                            to=exp.DataType.build("TIMESTAMPTZ"))
        if isinstance(node, exp.AtTimeZone):
            zone = _literal_string(node.args.get("zone"))
            if zone is None:
                raise not_supported("AT TIME ZONE with a non-literal zone")
            return _wall_clock(node.this, zone)
        if isinstance(node, exp.UnixToTime):
            zone_node = node.args.get("zone")
            zone = _literal_string(zone_node) if zone_node is not None else "UTC"
            if zone is None:
                raise not_supported("from_unixtime with a non-literal time zone")
            return _zoned(_fn("timezone", exp.Literal.string(zone), _fn("to_timestamp", node.this)), zone)
        if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In,
                             exp.NullSafeEQ, exp.NullSafeNEQ)):
            # timestamp with time zone values compare as instants (Trino), not as wall-clock times.
            for key in ("this", "expression", "low", "high"):
                operand = node.args.get(key)
                if isinstance(operand, exp.Expression) and _zone_of(operand) is not None:
                    node.set(key, _instant(operand.copy()))
            if isinstance(node, exp.In):
                node.set("expressions", [_instant(e.copy()) if _zone_of(e) else e for e in node.expressions])
            return node
        if isinstance(node, exp.TimeToUnix) and _zone_of(node.this) is not None:
            return exp.TimeToUnix(this=_instant(node.this.copy()))
        if isinstance(node, exp.Typeof):
            t = node.this.type
            name = _TRINO_TYPEOF.get(t.this) if t is not None else None
            if t is not None and t.this == exp.DataType.Type.DECIMAL and len(t.expressions) == 2:
                name = "decimal({},{})".format(*(e.this.name for e in t.expressions))
            if name is None:
                raise not_supported("typeof of this expression")
            return exp.Literal.string(name)
        if isinstance(node, (exp.Add, exp.Sub)) and _is_type(node.left, exp.DataType.Type.DATE) and isinstance(
                node.right, exp.Interval):
            return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))  # date +/- interval stays a date
        if isinstance(node, (exp.DateAdd, exp.DateSub)) and _is_type(node.this, exp.DataType.Type.DATE) and (
                (node.args.get("unit") and node.args["unit"].name.lower() in ("day", "week", "month", "quarter", "year"))):
            return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
        if isinstance(node, exp.Round):
            arg, places = node.this, node.args.get("decimals")
            if _is_type(arg, exp.DataType.Type.DOUBLE):
                return _fn("trino_round_double", arg, places or exp.Literal.number(0))
            if _is_type(arg, exp.DataType.Type.FLOAT):
                return exp.Cast(this=_fn("trino_round_double", arg, places or exp.Literal.number(0)),
                                to=exp.DataType.build("FLOAT"))
            t = arg.type
            if t is not None and t.this == exp.DataType.Type.DECIMAL and len(t.expressions) == 2:
                p, sc = (int(e.this.name) for e in t.expressions)
                # Trino: round(decimal(p,s), d) keeps scale s (precision p+1); round(decimal) has scale 0.
                target = f"DECIMAL({min(38, p + 1)}, {sc})" if places is not None else \
                    f"DECIMAL({min(38, p - sc + min(1, sc))}, 0)"
                return exp.Cast(this=exp.Round(this=arg, decimals=places), to=exp.DataType.build(target))
            return node
        if _is_decimal_avg(node) and not isinstance(node.parent, (exp.Window, exp.Filter)):
            return _decimal_avg(node, lambda agg: agg)
        if isinstance(node, (exp.Window, exp.Filter)) and _is_decimal_avg(node.this):
            if isinstance(node.parent, exp.Window):
                raise not_supported("avg(decimal) FILTER (...) OVER (...)")
            return _decimal_avg(node.this, lambda agg: _with_this(node, agg))
        if isinstance(node, exp.Sub) and _is_type(node.left, exp.DataType.Type.DATE) and _is_type(
                node.right, exp.DataType.Type.DATE):
            raise user_error("TYPE_MISMATCH", f"{position(node)}: Cannot apply operator: date - date")
        if isinstance(node, exp.Sign) and node.this.type is not None and (
                _is_int(node.this) or _is_type(node.this, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)):
            return exp.Cast(this=node.copy(), to=node.this.type.copy())
        if isinstance(node, exp.ApproxQuantile):
            q = node.args.get("quantile")
            if q is None or node.args.get("weight") is not None or node.args.get("accuracy") is not None:
                raise not_supported("approx_percentile with weights or accuracy")
            q = exp.Cast(this=q, to=exp.DataType.build("FLOAT[]" if isinstance(q, exp.Array) else "FLOAT"))
            call = _fn("approx_quantile", node.this, q)
            if _is_int(node.this):  # Trino: approx_percentile(bigint) is a bigint
                return exp.Cast(this=call, to=exp.DataType.build("BIGINT[]" if isinstance(q.this, exp.Array) else "BIGINT"))
            return call
        if isinstance(node, exp.ArraySize):
            return _fn("cardinality", node.this)  # arrays and maps
        if isinstance(node, exp.ArrayDistinct):
            # Trino keeps the first occurrence of each element, in order.
            return _fn("list_filter", node.this, exp.Lambda(
                this=exp.EQ(this=_fn("list_position", node.this.copy(), exp.column("_d")), expression=exp.column("_i")),
                expressions=[exp.to_identifier("_d"), exp.to_identifier("_i")]))
        if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and _is_type(node.this, exp.DataType.Type.DATE):
            return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
        if isinstance(node, exp.Anonymous) and node.name.lower() in ("any_match", "all_match", "none_match"):
            arr, fn = node.expressions
            mapped = _fn("list_transform", arr, fn)
            some_null = exp.LT(this=_fn("list_count", mapped.copy()), expression=_fn("len", mapped.copy()))
            name = node.name.lower()
            if name == "all_match":
                hit = _fn("list_bool_or", _fn("list_transform", mapped.copy(), exp.Lambda(
                    this=exp.Not(this=exp.column("_m")), expressions=[exp.to_identifier("_m")])))
                on_hit, otherwise = exp.false(), exp.true()
            else:
                hit = _fn("list_bool_or", mapped.copy())
                on_hit, otherwise = (exp.true(), exp.false()) if name == "any_match" else (exp.false(), exp.true())
            # Trino: NULL when no element decides and some predicate result is NULL.
            return exp.Case(ifs=[exp.If(this=hit, true=on_hit), exp.If(this=some_null, true=exp.null())],
                            default=otherwise)
        if isinstance(node, exp.Cast) and node.to.this in _DUCK_INT and _is_type(
                node.this, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
            # Trino rounds half away from zero (DuckDB's cast rounds half to even).
            return exp.Cast(this=exp.Round(this=node.this), to=node.to)
        return node

    # Children first, so a rewritten node embeds already-rewritten arguments.
    for node in reversed(list(stmt.dfs())):
        new = walk(node)
        if isinstance(new, exp.Cast) and new is not node and (new.type is None or new.type.this == exp.DataType.Type.UNKNOWN):
            new.type = new.to.copy()  # rewritten nodes keep a type for the rewrites around them
        if new is not node:
            if node is stmt:
                stmt = new
            else:
                node.replace(new)
    top = stmt
    while isinstance(top, exp.SetOperation):
        top = top.this
    if isinstance(top, exp.Select):
        for e in top.expressions:
            inner = e.this if isinstance(e, exp.Alias) else e
            if _zone_of(inner) is not None:
                zones[e.alias_or_name] = _zone_of(inner)
    return stmt


def _rewrite_unnest(stmt: exp.Expression) -> None:
    """UNNEST in FROM/JOIN -> a lateral subquery of unnest() calls: several arrays zip with NULL
    padding, a map gives (key, value) columns, WITH ORDINALITY a 1-based position (Trino's rules)."""
    for un in list(stmt.find_all(exp.Unnest)):
        if not isinstance(un.parent, (exp.From, exp.Join)):
            continue
        alias = un.args.get("alias")
        col_names = [c.name for c in alias.columns] if alias else []
        table_alias = alias.name if alias and alias.name else "_unnest"
        selects, i = [], 0
        lengths = []
        for arg in un.expressions:
            t = arg.type
            if t is not None and t.this == exp.DataType.Type.MAP:
                names = col_names[i:i + 2] or [f"_c{i}", f"_c{i + 1}"]
                selects.append(exp.alias_(_fn("unnest", _fn("map_keys", arg.copy())), names[0]))
                selects.append(exp.alias_(_fn("unnest", _fn("map_values", arg.copy())), names[1]))
                lengths.append(_fn("cardinality", arg.copy()))
                i += 2
            elif t is not None and t.this == exp.DataType.Type.ARRAY and t.expressions and \
                    t.expressions[0].this == exp.DataType.Type.STRUCT:
                # An array of rows unnests into one column per field.
                fields = t.expressions[0].expressions
                element = _fn("unnest", arg.copy())
                for j, f in enumerate(fields):
                    key = f.name or f"field{j}"  # anonymous ROW(...) fields are field0, field1, ...
                    name = col_names[i] if i < len(col_names) else key
                    selects.append(exp.alias_(_fn("struct_extract", element.copy(), exp.Literal.string(key)), name))
                    i += 1
                lengths.append(_fn("len", arg.copy()))
            else:
                known_array = t is not None and t.this == exp.DataType.Type.ARRAY
                if not known_array and not (len(un.expressions) == 1 and len(col_names) <= 1 + bool(un.args.get("offset"))):
                    # An array unnests into one column, a map or an array of rows into several: without
                    # the type the columns cannot be known, so refuse rather than guess.
                    raise not_supported("UNNEST of an expression whose type is not known before execution")
                name = col_names[i] if i < len(col_names) else f"_c{i}"
                selects.append(exp.alias_(_fn("unnest", arg.copy()), name))
                lengths.append(_fn("len", arg.copy()))
                i += 1
        offset = un.args.get("offset")
        produced = i + (1 if offset and not isinstance(offset, exp.Identifier) else 0)
        if col_names and len(col_names) != produced:
            # Trino: an array of rows unnests into one column per field, a map into key and value.
            raise user_error("MISMATCHED_COLUMN_ALIASES", f"{position(un)}: Column alias list has {len(col_names)} "
                             f"entries but '{table_alias}' has {produced} columns available")
        if offset:
            name = offset.name if isinstance(offset, exp.Identifier) else (
                col_names[i] if i < len(col_names) else "ordinality")
            longest = lengths[0] if len(lengths) == 1 else _fn("greatest", *lengths)
            selects.append(exp.alias_(_fn("unnest", _fn("range", exp.Literal.number(1),
                                                           exp.Add(this=longest, expression=exp.Literal.number(1)))), name))
        sub = exp.Subquery(this=exp.Select(expressions=selects), alias=exp.TableAlias(this=exp.to_identifier(table_alias)))
        un.replace(sub)


def to_duckdb(stmt: exp.Expression) -> str:
    _rewrite_unnest(stmt)
    for col_alias in stmt.find_all(exp.Alias):
        m = re.fullmatch(r"_col_(\d+)", col_alias.alias)
        if m:  # Trino names unnamed result columns _col0, _col1, ...
            col_alias.set("alias", exp.to_identifier(f"_col{m.group(1)}"))
    try:
        return stmt.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as err:
        raise AthenaQueryError("NOT_SUPPORTED", f"{err}") from None
