"""Decoders from raw SNMP values to Python, tolerant of what real agents send.

A garbage value decodes to None (or ""), never raises: the caller counts it as a skipped value.
"""

from __future__ import annotations

import math
import re


def as_int(v: object) -> int | None:
    """An integer, from an int or a decimal string; None for anything else.

    >>> as_int(b"42"), as_int("7"), as_int(3), as_int(b"x"), as_int(None)
    (42, 7, 3, None, None)
    """
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, bytes):
        v = v.decode("ascii", "replace")
    if isinstance(v, str):
        s = v.strip()
        digits = s.removeprefix("-")
        if digits.isascii() and digits.isdigit():  # str.isdigit alone lets "²" and "--5" through to int()
            try:
                return int(s)
            except ValueError:  # longer than Python converts (sys.get_int_max_str_digits)
                return None
    return None


def as_text(v: object) -> str:
    """Printable text from an OCTET STRING: UTF-8 (Latin-1 fallback), NULs and padding stripped.

    >>> as_text(b"GLC-LX-SMD  \\x00"), as_text(b"caf\\xc3\\xa9"), as_text(b"caf\\xe9"), as_text(None)
    ('GLC-LX-SMD', 'café', 'café', '')
    """
    if v is None:
        return ""
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes):
        try:
            s = v.decode("utf-8")
        except UnicodeDecodeError:
            s = v.decode("latin-1")
    else:
        s = str(v)
    s = s.replace("\x00", "").replace("\r\n", "\n")
    return "".join(ch if ch.isprintable() else " " if ch in "\t\n\r" else "" for ch in s).strip()


def as_oid(v: object) -> str | None:
    """A dotted OID string, or None.

    >>> as_oid("1.3.6.1.2.1.2.2.1.1.5"), as_oid(b"garbage"), as_oid(5)
    ('1.3.6.1.2.1.2.2.1.1.5', None, None)
    """
    if isinstance(v, str) and v.isascii() and all(p.isdigit() for p in v.split(".")):
        return v
    return None


def as_mac(v: object) -> str:
    """aa:bb:cc:dd:ee:ff from six raw octets; text otherwise.

    >>> as_mac(bytes.fromhex("ac7e8a19bf40")), as_mac(b"")
    ('ac:7e:8a:19:bf:40', '')
    """
    if isinstance(v, bytes) and len(v) == 6:
        return ":".join(f"{b:02x}" for b in v)
    return as_text(v)


def finite(x: float | None) -> float | None:
    """None for NaN and infinities, so they never reach a comparison or a database."""
    if x is None or math.isnan(x) or math.isinf(x):
        return None
    return x


_NUMBER_RE = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_NOT_A_READING = re.compile(r"^\s*(n/?a|null|none|-+|)\s*$", re.IGNORECASE)


def _text(v: object) -> str | None:
    if isinstance(v, bytes):
        return v.decode("ascii", "replace")
    return v if isinstance(v, str) else None


def leading_number(v: object) -> float | None:
    """The number a vendor writes before its unit or status word; None for "N/A", "NULL" or a number list.

    >>> leading_number(b"-4.99 dBm normal"), leading_number("41.00 degrees C normal"), leading_number(b"[85.0]")
    (-4.99, 41.0, 85.0)
    >>> leading_number(b"N/A"), leading_number(b"NULL"), leading_number(b"-0.43 ,0.01"), leading_number(b"x1")
    (None, None, None, None)
    """
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    text = _text(v)
    if text is None or _NOT_A_READING.match(text):
        return None
    numbers = number_list(text)
    head = text.strip().lstrip("[").lstrip()
    if len(numbers) != 1 or not _NUMBER_RE.match(head):
        return None
    return numbers[0]


def number_list(v: object) -> list[float]:
    """Every number of a comma-separated list ("lane 1, lane 2, ..." or "[high, low]"); [] when there is none.

    >>> number_list(b"-0.43 ,0.01  ,0.30  ,0.19"), number_list("[-3.0, -9.0]"), number_list(b"N/A")
    ([-0.43, 0.01, 0.3, 0.19], [-3.0, -9.0], [])
    """
    text = _text(v)
    if text is None or _NOT_A_READING.match(text):
        return []
    out = []
    for m in _NUMBER_RE.finditer(text):
        try:
            out.append(float(m.group(0)))
        except ValueError:  # pragma: no cover - the pattern only matches numbers
            continue
    return [x for x in out if math.isfinite(x) and abs(x) < 2**64]


def not_a_reading(v: object) -> bool:
    """Text a device writes where it has no value: "N/A", "NULL", "none", "--", or nothing.

    >>> not_a_reading(b"N/A"), not_a_reading(b""), not_a_reading(b"-3.2"), not_a_reading(5)
    (True, True, False, False)
    """
    text = _text(v)
    return text is not None and bool(_NOT_A_READING.match(text))
