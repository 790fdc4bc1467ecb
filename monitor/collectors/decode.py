"""Decoders from raw SNMP values to Python, tolerant of what real agents send.

A garbage value decodes to None (or ""), never raises: the caller counts it as a skipped value.
"""

from __future__ import annotations

import math


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
