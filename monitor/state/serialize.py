"""Exact JSON round trip for snapshots, changes and what correlation remembers, the shape the store keeps them in.

The codec is driven by the dataclasses' own type hints, so a field added to `Snapshot` (or any part
of it) is stored without touching this module: unknown keys are ignored when reading (a newer
writer), missing keys take the field's default (an older writer). Non-finite floats become the
strings "inf", "-inf" and "nan", so the documents are strict JSON (PostgreSQL's JSON type refuses
bare NaN/Infinity).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import logging
import math
import types
import typing
from collections.abc import Iterable
from typing import Any, TypeVar, Union

from monitor.model import Snapshot
from monitor.witness.changes import Change
from monitor.witness.observer import Witness
from monitor.witness.trends import TrendState

log = logging.getLogger(__name__)
T = TypeVar("T")
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def snapshot_to_dict(s: Snapshot) -> dict[str, Any]:
    """A JSON-ready dict of every field of the snapshot, nested parts included."""
    return _encode_dataclass(s)


def snapshot_from_dict(d: dict[str, Any]) -> Snapshot:
    """The snapshot back from `snapshot_to_dict`'s output (or an older/newer writer's)."""
    return _decode_dataclass(Snapshot, d)


def change_to_dict(c: Change) -> dict[str, Any]:
    return _encode_dataclass(c)


def change_from_dict(d: dict[str, Any]) -> Change:
    return _decode_dataclass(Change, d)


# --- what correlation remembers of a site -------------------------------------------------------------

TRENDS = "trends:"  # one part per device: an observation of one device rewrites only its own series


def witness_memory(w: Witness, devices: Iterable[str]) -> dict[str, Any]:
    """The parts of a witness's memory that an observation of `devices` may have changed, JSON-ready:
    the removals waiting for their insertion, the links learned from LLDP, the silences whose verdict is
    held (correlate.waiting_on), and each device's trends.

    >>> from monitor.witness.correlate import Correlator
    >>> from monitor.witness.topology import Topology
    >>> w = Witness(Correlator(Topology()))
    >>> w.state.trends.series["sw1"] = {"temperature:1": [(0.0, 40.0), (60.0, 41.5)]}
    >>> parts = witness_memory(w, ["sw1"])
    >>> sorted(parts), parts["trends:sw1"]["series"]
    (['learned', 'removals', 'silent', 'trends:sw1'], {'temperature:1': [[0.0, 40.0], [60.0, 41.5]]})
    >>> again = Witness(Correlator(Topology()))
    >>> restore_memory(again, parts)
    >>> again.state.trends.series == w.state.trends.series
    True
    """
    t = w.state.trends
    parts: dict[str, Any] = {"removals": _encode(w.state.removals), "learned": dict(w.correlator.topology.learned),
                             "silent": {d: change_to_dict(c) for d, c in w.state.silent.items()}}
    for d in devices:
        parts[TRENDS + d] = {"series": _encode(t.series.get(d, {})), "active": dict(t.active.get(d, {})),
                             "hot": t.hot.get(d), "last_supply": t.last_supply.get(d)}
    return parts


def restore_memory(w: Witness, parts: dict[str, Any]) -> None:
    """Put back what `witness_memory` saved (a restart, or a site taken over from another member)."""
    w.state.removals.update(parts.get("removals") or {})
    w.correlator.topology.learned.update(parts.get("learned") or {})
    w.state.silent.update({d: change_from_dict(c) for d, c in (parts.get("silent") or {}).items()})
    t: TrendState = w.state.trends
    for part, value in parts.items():
        if not part.startswith(TRENDS):
            continue
        d = part[len(TRENDS):]
        t.series[d] = {k: [(float(a), float(b)) for a, b in pts] for k, pts in value.get("series", {}).items()}
        t.active[d] = {k: float(v) for k, v in value.get("active", {}).items()}
        for name in ("hot", "last_supply"):
            if value.get(name):
                getattr(t, name)[d] = value[name]


# --- encoding -------------------------------------------------------------------------------------

def _encode_dataclass(obj: Any) -> dict[str, Any]:
    return {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _encode(v: Any) -> Any:
    """JSON-ready value; enums by value, tuples as lists, non-finite floats as strings.

    >>> _encode((1.5, float("inf"), None))
    [1.5, 'inf', None]
    """
    if v is None or isinstance(v, (bool, int, str)):
        return v.value if isinstance(v, enum.Enum) else v
    if isinstance(v, float):
        return v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, enum.Enum):
        return _encode(v.value)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return _encode_dataclass(v)
    if isinstance(v, (list, tuple)):
        return [_encode(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _encode(x) for k, x in v.items()}
    raise TypeError(f"cannot store a {type(v).__name__} as JSON")


# --- decoding -------------------------------------------------------------------------------------

@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode_dataclass(cls: type[T], d: dict[str, Any]) -> T:
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__}: expected an object, got {type(d).__name__}")
    hints = _hints(typing.cast(type, cls))
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in d:
            kwargs[f.name] = _decode(hints[f.name], d[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{cls.__name__}: missing required field {f.name!r}")
    return cls(**kwargs)


def _decode(tp: Any, v: Any) -> Any:
    """The value of type `tp` that `_encode` turned into `v`."""
    if tp is Any:
        return v
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if v is None and type(None) in args:
            return None
        last: Exception | None = None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, v)
            except (TypeError, ValueError) as exc:
                last = exc
        raise ValueError(f"{v!r} fits none of {tp}") from last
    if origin is tuple:
        args = typing.get_args(tp)
        items = _as_list(v)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], x) for x in items)
        if len(items) != len(args):
            raise ValueError(f"{v!r}: expected {len(args)} items")
        return tuple(_decode(a, x) for a, x in zip(args, items, strict=True))
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        return [_decode(arg, x) for x in _as_list(v)]
    if origin is dict:
        _, val = typing.get_args(tp) or (str, Any)
        if not isinstance(v, dict):
            raise ValueError(f"expected an object, got {v!r}")
        return {k: _decode(val, x) for k, x in v.items()}
    if isinstance(tp, type):
        return _decode_plain(tp, v)
    raise TypeError(f"cannot read type {tp!r}")


def _decode_plain(tp: type, v: Any) -> Any:
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, v)
    if issubclass(tp, enum.Enum):
        return tp(v)
    if tp is float:
        if isinstance(v, str) and v in _NON_FINITE:
            return _NON_FINITE[v]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"expected a number, got {v!r}")
        return v
    if tp is bool:
        if not isinstance(v, bool):
            raise ValueError(f"expected true/false, got {v!r}")
        return v
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"expected an integer, got {v!r}")
        return v
    if tp is str:
        if not isinstance(v, str):
            raise ValueError(f"expected a string, got {v!r}")
        return v
    if tp is type(None):
        if v is not None:
            raise ValueError(f"expected null, got {v!r}")
        return None
    raise TypeError(f"cannot read type {tp.__name__}")


def _as_list(v: Any) -> list[Any]:
    if not isinstance(v, (list, tuple)):
        raise TypeError(f"expected a list, got {v!r}")
    return list(v)
