"""Firehose S3 prefixes: `!{namespace:value}` expressions, their evaluation, and the rules
CreateDeliveryStream enforces (Firehose developer guide, "Custom prefixes for Amazon S3 objects").

Namespaces: `timestamp` (a Java DateTimeFormatter pattern, UTC, the approximate arrival time of
the oldest record in the object; every instance in one prefix is the same instant), `firehose`
(`error-output-type`, `random-string`: 11 characters, a new one per instance),
`partitionKeyFromQuery` and `partitionKeyFromLambda` (dynamic partitioning keys).

Evaluation rules reproduced:
- a Prefix without any expression gets `yyyy/MM/dd/HH/` appended by plain concatenation
  (`logs` -> `logs2018/08/27/10/`; the empty prefix -> `2018/08/27/10/`);
- an ErrorOutputPrefix without expressions (or a missing one, which falls back to the Prefix)
  evaluates to `<prefix><error-output-type>/yyyy/MM/dd/HH/`;
- neither may be longer than 512 characters once evaluated.

The Java pattern tokenizer/formatter here is shared with record format conversion (Hive
TimestampFormats use the same pattern letters).
"""
from __future__ import annotations

import calendar
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping, NamedTuple

NAMESPACES = ("timestamp", "firehose", "partitionKeyFromQuery", "partitionKeyFromLambda")
FIREHOSE_VALUES = ("error-output-type", "random-string")
PARTITION_NAMESPACES = ("partitionKeyFromQuery", "partitionKeyFromLambda")
# What Firehose uses when the prefix has no expression (and inside the default error prefix).
DEFAULT_PREFIX_PATTERN = "yyyy/MM/dd/HH/"
MAX_EVALUATED_LENGTH = 512  # "Neither Prefix nor ErrorOutputPrefix can be greater than 512 characters after they're evaluated"
MAX_TEMPLATE_LENGTH = 1024  # API constraint on Prefix / ErrorOutputPrefix
RANDOM_STRING_LENGTH = 11
_KEY_NAME = re.compile(r"^[A-Za-z0-9_\-.]+$")


class PrefixError(ValueError):
    """A prefix that Firehose would reject (at CreateDeliveryStream) or cannot evaluate."""

    code = "InvalidArgumentException"


class PartitionKeyMissing(PrefixError):
    """Evaluation needs a partition key the record does not carry."""

    code = "DynamicPartitioning.PartitionKeyMissing"

    def __init__(self, namespace: str, key: str, available: Mapping[str, str]):
        self.namespace = namespace
        self.key = key
        have = ", ".join(sorted(available)) or "none"
        super().__init__(
            f"The prefix expression !{{{namespace}:{key}}} needs partition key {key!r}, which the record does not "
            f"have (keys present: {have})."
        )


class PrefixTooLong(PrefixError):
    code = "DynamicPartitioning.PrefixEvaluationFailed"


# ----------------------------------------------------------------------------------------------
# Java DateTimeFormatter patterns


class PatternError(ValueError):
    """A date/time pattern this implementation (or Java) does not accept."""


@dataclass(frozen=True)
class PatternToken:
    """A literal run, or a pattern letter repeated `count` times."""

    letter: str | None  # None for a literal
    count: int = 0
    text: str = ""


# Letters implemented, with the maximum count Java accepts for each.
_MAX_COUNT = {
    "G": 5, "u": 19, "y": 19, "D": 3, "M": 5, "L": 5, "d": 2, "Q": 5, "q": 5, "E": 5, "a": 1,
    "h": 2, "K": 2, "k": 2, "H": 2, "m": 2, "s": 2, "S": 9, "A": 19, "n": 19, "N": 19,
    "X": 5, "x": 5, "Z": 5,
}
_JAVA_LETTERS = set("GuyDMLdQqYwWEecFahKkHmsSAnNVvzOXxZpB")
SUPPORTED_PATTERN_LETTERS = "".join(sorted(_MAX_COUNT))


def tokenize_java_pattern(pattern: str) -> list[PatternToken]:
    """Split a java.time DateTimeFormatter pattern into literals and letter fields.

    Quoted text ('...', with '' for a quote) is literal; `[` `]` (optional sections) are
    accepted and ignored since every field is available when formatting a UTC instant.
    Raises PatternError for reserved characters, unknown or unsupported letters and counts
    Java rejects ("Too many pattern letters").
    """
    tokens: list[PatternToken] = []
    literal: list[str] = []
    depth = 0
    i, n = 0, len(pattern)

    def flush() -> None:
        if literal:
            tokens.append(PatternToken(None, 0, "".join(literal)))
            literal.clear()

    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = i + 1
            text: list[str] = []
            while True:
                if end >= n:
                    raise PatternError(f"pattern {pattern!r} ends with an incomplete string literal (a ' is not closed)")
                if pattern[end] == "'":
                    if end + 1 < n and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            literal.append("".join(text) if text or end > i + 1 else "'")
            i = end + 1
            continue
        if ch.isascii() and ch.isalpha():
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            count = j - i
            if ch not in _JAVA_LETTERS:
                raise PatternError(f"unknown pattern letter {ch!r} in {pattern!r}")
            if ch not in _MAX_COUNT:
                raise PatternError(
                    f"pattern letter {ch!r} in {pattern!r} is not supported locally; supported letters: "
                    f"{SUPPORTED_PATTERN_LETTERS} (quote literal text with '...')"
                )
            if count > _MAX_COUNT[ch]:
                raise PatternError(f"too many pattern letters: {ch * count!r} in {pattern!r}")
            flush()
            tokens.append(PatternToken(ch, count))
            i = j
            continue
        if ch in "{}#":
            raise PatternError(f"pattern {pattern!r} includes reserved character {ch!r}")
        if ch == "[":
            depth += 1
        elif ch == "]":
            if depth == 0:
                raise PatternError(f"pattern {pattern!r} contains ] without a previous [")
            depth -= 1
        else:
            literal.append(ch)
        i += 1
    flush()
    return tokens


def _pad(value: int, count: int) -> str:
    return str(value).zfill(count) if count > 1 else str(value)


def _format_field(letter: str, count: int, dt: datetime) -> str:
    nanos = dt.microsecond * 1000
    if letter in "yu":
        return f"{dt.year % 100:02d}" if count == 2 else _pad(dt.year, count)
    if letter in "ML":
        if count <= 2:
            return _pad(dt.month, count)
        name = calendar.month_name[dt.month] if count == 4 else calendar.month_abbr[dt.month]
        return name[0] if count == 5 else name
    if letter == "d":
        return _pad(dt.day, count)
    if letter == "D":
        return _pad(dt.timetuple().tm_yday, count)
    if letter == "H":
        return _pad(dt.hour, count)
    if letter == "k":
        return _pad(dt.hour or 24, count)
    if letter == "K":
        return _pad(dt.hour % 12, count)
    if letter == "h":
        return _pad(dt.hour % 12 or 12, count)
    if letter == "m":
        return _pad(dt.minute, count)
    if letter == "s":
        return _pad(dt.second, count)
    if letter == "S":
        return f"{nanos:09d}"[:count]
    if letter == "n":
        return _pad(nanos, count)
    if letter == "A":
        return _pad(((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1000 + dt.microsecond // 1000, count)
    if letter == "N":
        return _pad(((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1_000_000_000 + nanos, count)
    if letter == "a":
        return "AM" if dt.hour < 12 else "PM"
    if letter == "E":
        name = calendar.day_name[dt.weekday()]
        return name if count == 4 else name[0] if count == 5 else name[:3]
    if letter in "Qq":
        quarter = (dt.month - 1) // 3 + 1
        if count <= 2:
            return _pad(quarter, count)
        return f"Q{quarter}" if count == 3 else f"{quarter}{['st', 'nd', 'rd', 'th'][quarter - 1]} quarter" if count == 4 else str(quarter)
    if letter == "G":
        return "Anno Domini" if count == 4 else "A" if count == 5 else "AD"
    # Offsets: the instant is always in UTC, so they print the zero offset as Java does.
    if letter == "X":
        return "Z"
    if letter == "x":
        return {1: "+00", 2: "+0000", 3: "+00:00", 4: "+0000", 5: "+00:00"}[count]
    if letter == "Z":
        return "GMT" if count == 4 else "Z" if count == 5 else "+0000"
    raise PatternError(f"pattern letter {letter!r} is not supported")  # unreachable: tokenizer refuses


class JavaDateFormat:
    """A compiled java.time pattern that formats UTC instants."""

    def __init__(self, pattern: str):
        if not pattern:
            raise PatternError("a date/time pattern is required (e.g. yyyy/MM/dd)")
        self.pattern = pattern
        self.tokens = tokenize_java_pattern(pattern)

    def format(self, when: datetime) -> str:
        dt = to_utc(when)
        return "".join(t.text if t.letter is None else _format_field(t.letter, t.count, dt) for t in self.tokens)

    def __repr__(self) -> str:
        return f"JavaDateFormat({self.pattern!r})"


def to_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"a timezone-aware datetime is required (Firehose evaluates in UTC), got naive {when!r}")
    return when.astimezone(timezone.utc)


_DEFAULT_FORMAT = JavaDateFormat(DEFAULT_PREFIX_PATTERN)


def default_prefix(arrival: datetime) -> str:
    """The prefix Firehose uses when none is configured: `yyyy/MM/dd/HH/` in UTC."""
    return _DEFAULT_FORMAT.format(arrival)


def random_string() -> str:
    """11 random lowercase hex characters (the doc's example: `5abf82daaa5`)."""
    return uuid.uuid4().hex[:RANDOM_STRING_LENGTH]


_default_random_string = random_string  # `evaluate` takes a keyword of the same name


# ----------------------------------------------------------------------------------------------
# Prefix templates


@dataclass(frozen=True)
class Expression:
    namespace: str
    value: str
    position: int
    date_format: JavaDateFormat | None = None

    def __str__(self) -> str:
        return f"!{{{self.namespace}:{self.value}}}"


class Prefix:
    """A parsed Prefix / ErrorOutputPrefix template."""

    def __init__(self, template: str, parts: list[str | Expression]):
        self.template = template
        self.parts = tuple(parts)
        self.expressions = tuple(p for p in parts if isinstance(p, Expression))

    def __repr__(self) -> str:
        return f"Prefix({self.template!r})"

    def __str__(self) -> str:
        return self.template

    @property
    def has_expressions(self) -> bool:
        return bool(self.expressions)

    def _values(self, namespace: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for e in self.expressions:
            if e.namespace == namespace:
                seen.setdefault(e.value)
        return tuple(seen)

    @property
    def query_key_names(self) -> tuple[str, ...]:
        return self._values("partitionKeyFromQuery")

    @property
    def lambda_key_names(self) -> tuple[str, ...]:
        return self._values("partitionKeyFromLambda")

    @property
    def partition_key_names(self) -> tuple[str, ...]:
        """Every partition key the prefix needs (both namespaces), in order of appearance."""
        seen: dict[str, None] = {}
        for e in self.expressions:
            if e.namespace in PARTITION_NAMESPACES:
                seen.setdefault(e.value)
        return tuple(seen)

    @property
    def uses_partition_keys(self) -> bool:
        return any(e.namespace in PARTITION_NAMESPACES for e in self.expressions)

    @property
    def uses_error_output_type(self) -> bool:
        return any(e.namespace == "firehose" and e.value == "error-output-type" for e in self.expressions)

    @property
    def uses_timestamp(self) -> bool:
        return any(e.namespace == "timestamp" for e in self.expressions)

    def evaluate(
        self,
        *,
        arrival: datetime,
        partition_keys: Mapping[str, str],
        error_output_type: str | None = None,
        random_string: Callable[[], str] | None = None,
    ) -> str:
        """The evaluated prefix for an object whose oldest record arrived at `arrival`.

        `partition_keys` maps key names to values for both partitionKey namespaces (the
        engine merges the jq and Lambda keys). A prefix without expressions gets the default
        `yyyy/MM/dd/HH/` appended, as Firehose does for the Prefix field.
        """
        if not self.expressions:
            result = self.template + default_prefix(arrival)
        else:
            dt = to_utc(arrival)
            make_random = random_string or _default_random_string
            out: list[str] = []
            for part in self.parts:
                if isinstance(part, str):
                    out.append(part)
                elif part.namespace == "timestamp":
                    out.append(part.date_format.format(dt))  # type: ignore[union-attr]
                elif part.namespace == "firehose":
                    if part.value == "random-string":
                        out.append(make_random())
                    else:
                        if not error_output_type:
                            raise PrefixError(
                                f"{self.template!r} contains !{{firehose:error-output-type}}, which only an "
                                "ErrorOutputPrefix can use (it is evaluated for failed records)"
                            )
                        out.append(error_output_type)
                else:
                    value = partition_keys.get(part.value)
                    if value is None:
                        raise PartitionKeyMissing(part.namespace, part.value, partition_keys)
                    out.append(value)
            result = "".join(out)
        if len(result) > MAX_EVALUATED_LENGTH:
            raise PrefixTooLong(
                f"The evaluated prefix is {len(result)} characters long; Firehose allows at most "
                f"{MAX_EVALUATED_LENGTH} ({result[:60]}...)."
            )
        return result

    def evaluate_error(
        self,
        *,
        arrival: datetime,
        error_output_type: str,
        random_string: Callable[[], str] | None = None,
    ) -> str:
        """Evaluate as the error prefix: without expressions it is
        `<template><error-output-type>/yyyy/MM/dd/HH/`."""
        if not error_output_type:
            raise ValueError("error_output_type is required to evaluate an error prefix")
        if not self.expressions:
            result = f"{self.template}{error_output_type}/{default_prefix(arrival)}"
            if len(result) > MAX_EVALUATED_LENGTH:
                raise PrefixTooLong(f"The evaluated error prefix is {len(result)} characters long (at most {MAX_EVALUATED_LENGTH}).")
            return result
        return self.evaluate(arrival=arrival, partition_keys={}, error_output_type=error_output_type,
                             random_string=random_string)


def parse_prefix(template: str | None) -> Prefix:
    """Parse and validate the expression syntax of a prefix (None or "" is the empty prefix).

    Raises PrefixError naming the offending expression: `!{` outside an expression, an
    unclosed expression, a missing `namespace:`, an unknown namespace or firehose value,
    an invalid timestamp pattern, an empty partition key name.
    """
    template = template or ""
    if not isinstance(template, str):
        raise PrefixError(f"a prefix must be a string, got {type(template).__name__}")
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise PrefixError(f"A prefix can be at most {MAX_TEMPLATE_LENGTH} characters; this one has {len(template)}.")
    parts: list[str | Expression] = []
    pos = 0
    while True:
        start = template.find("!{", pos)
        if start < 0:
            if pos < len(template):
                parts.append(template[pos:])
            break
        if start > pos:
            parts.append(template[pos:start])
        end = template.find("}", start + 2)
        if end < 0:
            raise PrefixError(
                f"The sequence '!{{' at position {start} of {template!r} does not start a complete "
                "!{namespace:value} expression (no closing '}'); '!{' can only appear in expressions."
            )
        body = template[start + 2:end]
        if "!{" in body:
            raise PrefixError(f"Expression at position {start} of {template!r} is not closed before the next '!{{'.")
        namespace, colon, value = body.partition(":")
        if not colon:
            raise PrefixError(
                f"Expression !{{{body}}} in {template!r} must have the form !{{namespace:value}} with namespace one "
                f"of {', '.join(NAMESPACES)}."
            )
        if namespace not in NAMESPACES:
            raise PrefixError(
                f"Unknown namespace {namespace!r} in !{{{body}}} of {template!r}; valid namespaces are "
                f"{', '.join(NAMESPACES)} (names are case-sensitive)."
            )
        date_format = None
        if namespace == "timestamp":
            try:
                date_format = JavaDateFormat(value)
            except PatternError as exc:
                raise PrefixError(f"Invalid timestamp pattern in !{{{body}}} of {template!r}: {exc}") from None
        elif namespace == "firehose":
            if value not in FIREHOSE_VALUES:
                raise PrefixError(
                    f"Invalid value {value!r} for the firehose namespace in {template!r}; use "
                    "!{firehose:error-output-type} or !{firehose:random-string}."
                )
        elif not _KEY_NAME.match(value):
            raise PrefixError(
                f"Invalid partition key name {value!r} in !{{{body}}} of {template!r}; use letters, digits, "
                "'_', '-' or '.'."
            )
        parts.append(Expression(namespace, value, start, date_format))
        pos = end + 1
    return Prefix(template, parts)


class DeliveryPrefixes(NamedTuple):
    prefix: Prefix
    error_prefix: Prefix | None  # None: failed records go under <Prefix><error-output-type>/...


def validate_delivery_prefixes(
    prefix: str | None,
    error_prefix: str | None,
    dynamic_partitioning: bool,
    *,
    has_metadata_extraction: bool | None = None,
    has_lambda: bool | None = None,
) -> DeliveryPrefixes:
    """Apply the rules CreateDeliveryStream / UpdateDestination enforce on an S3 destination's
    Prefix and ErrorOutputPrefix; raise PrefixError (an InvalidArgumentException) on the first
    violation, else return both parsed.

    Documented rules: `!{` only in expressions; Prefix can't contain
    !{firehose:error-output-type}; an ErrorOutputPrefix with expressions must contain it;
    ErrorOutputPrefix can be null only if Prefix contains no expressions; with dynamic
    partitioning both prefixes must be given and the Prefix must use partition keys.
    Our additions (consequences of the same model): partition keys need dynamic partitioning
    enabled and cannot appear in the ErrorOutputPrefix; when the processors are known
    (`has_metadata_extraction` / `has_lambda`), each namespace needs its processor.
    """
    parsed = parse_prefix(prefix)
    parsed_error = parse_prefix(error_prefix) if error_prefix else None
    if parsed.uses_error_output_type:
        raise PrefixError("Prefix can't contain !{firehose:error-output-type}; use it in ErrorOutputPrefix.")
    if parsed_error is not None and parsed_error.has_expressions and not parsed_error.uses_error_output_type:
        raise PrefixError(
            "ErrorOutputPrefix contains expressions, so it must include at least one instance of "
            "!{firehose:error-output-type}."
        )
    if parsed_error is not None and parsed_error.uses_partition_keys:
        raise PrefixError(
            "ErrorOutputPrefix can't use partitionKeyFromQuery/partitionKeyFromLambda: failed records may have no "
            "partition keys."
        )
    if dynamic_partitioning:
        if not prefix:
            raise PrefixError("Dynamic partitioning is enabled, so a Prefix using partition keys must be specified.")
        if parsed_error is None:
            raise PrefixError("Dynamic partitioning is enabled, so an ErrorOutputPrefix must be specified.")
        if not parsed.uses_partition_keys:
            raise PrefixError(
                "Dynamic partitioning is enabled, but the Prefix uses no !{partitionKeyFromQuery:...} or "
                "!{partitionKeyFromLambda:...} expression."
            )
        if has_metadata_extraction is not None and parsed.query_key_names and not has_metadata_extraction:
            raise PrefixError(
                f"The Prefix uses partitionKeyFromQuery ({', '.join(parsed.query_key_names)}) but no MetadataExtraction "
                "processor is configured."
            )
        if has_lambda is not None and parsed.lambda_key_names and not has_lambda:
            raise PrefixError(
                f"The Prefix uses partitionKeyFromLambda ({', '.join(parsed.lambda_key_names)}) but no Lambda "
                "processor is configured."
            )
    elif parsed.uses_partition_keys:
        raise PrefixError(
            "The Prefix uses partitionKeyFromQuery/partitionKeyFromLambda, which requires "
            "DynamicPartitioningConfiguration.Enabled = true."
        )
    if parsed_error is None and parsed.has_expressions:
        raise PrefixError("ErrorOutputPrefix can't be null when Prefix contains expressions.")
    return DeliveryPrefixes(parsed, parsed_error)
