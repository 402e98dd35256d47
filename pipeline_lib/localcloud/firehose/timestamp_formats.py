"""TimestampFormats of the Hive JSON SerDe (Joda DateTimeFormat patterns), parse only, and the
calendar arithmetic the timestamp and date coercers share."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from .coercion_errors import SchemaConversionError
from .prefixes import PatternError, tokenize_java_pattern

__all__ = ["INTEGER_TEXT", "TimestampFormat", "days", "nanos_of_day"]

INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def days(year: int, month: int, day: int) -> int:
    return date(year, month, day).toordinal() - _EPOCH_ORDINAL


def nanos_of_day(hour: int, minute: int, second: int, fraction: str | None) -> int:
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("time of day out of range")
    nanos = int(fraction) * 10 ** (9 - len(fraction)) if fraction else 0
    return ((hour * 60 + minute) * 60 + second) * 1_000_000_000 + nanos


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


class TimestampFormat:
    """A parse-only TimestampFormats entry; `millis` is epoch milliseconds."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.millis = pattern == "millis"
        if self.millis:
            return
        try:
            tokens = tokenize_java_pattern(pattern)
        except PatternError as exc:
            raise SchemaConversionError(f"TimestampFormats entry {pattern!r} is not usable: {exc}") from None
        regex: list[str] = []
        self.fields: list[tuple[str, int]] = []
        for token in tokens:
            if token.letter is None:
                regex.append(re.escape(token.text))
                continue
            letter, count = token.letter, token.count
            if letter in "yu":
                regex.append(r"(\d{2})" if count == 2 else r"(\d{4})" if count == 4 else r"(\d{1,9})")
            elif letter in "ML" and count >= 3:
                regex.append(r"([A-Za-z]{3,9})")
            elif letter in "MLdHhKkms":
                regex.append(r"(\d{1,2})")
            elif letter == "D":
                regex.append(r"(\d{1,3})")
            elif letter == "S":
                regex.append(r"(\d{1,9})")
            elif letter == "a":
                regex.append(r"([AaPp][Mm])")
            elif letter == "E":
                regex.append(r"([A-Za-z]{3,9})")
            elif letter in "XxZ":
                regex.append(r"(Z|[+-]\d{2}(?::?\d{2})?)")
            else:
                raise SchemaConversionError(
                    f"TimestampFormats entry {pattern!r}: pattern letter {letter!r} cannot be parsed locally"
                )
            self.fields.append((letter, count))
        self.regex = re.compile("".join(regex), re.IGNORECASE)

    def parse(self, text: str) -> int | None:
        """Nanoseconds since the epoch, or None when `text` does not match."""
        if self.millis:
            if INTEGER_TEXT.fullmatch(text):
                return int(text) * 1_000_000
            return None
        match = self.regex.fullmatch(text)
        if not match:
            return None
        year, month, day, hour, minute, second = 1970, 1, 1, 0, 0, 0
        fraction: str | None = None
        pm: bool | None = None
        offset_seconds = 0
        day_of_year: int | None = None
        for (letter, count), raw in zip(self.fields, match.groups()):
            if letter in "yu":
                year = int(raw)
                if count == 2:  # Joda's pivot: within 50 years of now
                    pivot = datetime.now(timezone.utc).year
                    year += 2000 if 2000 + year <= pivot + 49 else 1900
            elif letter in "ML":
                if count >= 3:
                    name = raw[:3].lower()
                    if name not in _MONTHS:
                        return None
                    month = _MONTHS.index(name) + 1
                else:
                    month = int(raw)
            elif letter == "d":
                day = int(raw)
            elif letter == "D":
                day_of_year = int(raw)
            elif letter in "Hk":
                hour = int(raw) % 24
            elif letter in "hK":
                hour = int(raw) % 12
            elif letter == "m":
                minute = int(raw)
            elif letter == "s":
                second = int(raw)
            elif letter == "S":
                fraction = raw
            elif letter == "a":
                pm = raw.lower() == "pm"
            elif letter in "XxZ" and raw.upper() != "Z":
                sign = -1 if raw[0] == "-" else 1
                digits = raw[1:].replace(":", "")
                offset_seconds = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
        if pm is not None:
            hour = hour % 12 + (12 if pm else 0)
        try:
            day_number = (date(year, 1, 1).toordinal() + day_of_year - 1 - _EPOCH_ORDINAL) if day_of_year else days(year, month, day)
            ns = day_number * 86_400_000_000_000 + nanos_of_day(hour, minute, second, fraction)
        except ValueError:
            return None
        return ns - offset_seconds * 1_000_000_000
