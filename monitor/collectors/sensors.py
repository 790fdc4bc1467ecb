"""Sensors and DOM: ENTITY-SENSOR-MIB-shaped tables and per-port vendor tables, driven by profiles.

Parsing is pure: raw rows in, `Sensor`s out in Saksi's units (dBm, °C, V, mA). A value the agent
marks unavailable becomes None; a value that is not a number is skipped and counted.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from monitor.collectors.decode import as_int, as_text, finite, leading_number, not_a_reading, number_list
from monitor.collectors.entity import EntityTree
from monitor.collectors.snmp import SnmpClient, SnmpTarget, WalkResult
from monitor.common.units import NO_LIGHT_DBM, entity_sensor_value, mw_to_dbm
from monitor.model import Sensor, SensorKind, Thresholds, Transceiver
from monitor.profiles import EntitySensorTable, PortTable, ReadingSpec, RowFilter, Scale, ThresholdTable

log = logging.getLogger(__name__)

# ENTITY-SENSOR-MIB EntitySensorDataType (CISCO-ENTITY-SENSOR-MIB uses the same numbers).
VOLTS_AC, VOLTS_DC, AMPERES, WATTS, HERTZ, CELSIUS, PERCENT_RH, RPM, DBM = 3, 4, 5, 6, 7, 8, 9, 10, 14
_STATUS = {1: "ok", 2: "unavailable", 3: "nonoperational"}
_RX = re.compile(r"\b(rx|receive[d]?|input)\b|rx[ _-]?pow", re.I)
_TX = re.compile(r"\b(tx|transmit(ted)?|output)\b|tx[ _-]?pow", re.I)
_BIAS = re.compile(r"bias", re.I)
_OPTICAL = re.compile(r"\b(dom|transceiver|xcvr|optic(al)?|laser|sfp|qsfp|xfp)", re.I)
_LANE = re.compile(r"\blane\s*(\d+)", re.I)
_THRESHOLD_NAMES = ("low_alarm", "low_warn", "high_warn", "high_alarm")
DOM_KINDS = frozenset({SensorKind.RX_POWER, SensorKind.TX_POWER, SensorKind.TEMPERATURE, SensorKind.VOLTAGE,
                       SensorKind.BIAS})


@dataclass(frozen=True, slots=True)
class RawSensor:
    """A sensor as its table describes it, in SI base units, before it is placed on a port."""

    index: int
    type: int
    value: float | None
    thresholds: Thresholds
    status: str
    source: str
    priority: int


def _relation_thresholds(spec: ThresholdTable, walk: WalkResult, scale: dict[int, tuple[int, int]]
                         ) -> dict[int, Thresholds]:
    """CISCO-ENTITY-SENSOR style: rows of (severity, relation, value) per sensor.

    A severity whose low and high limits are the same number states no band (IOS-XR lists its unused
    critical pair as 0 and 0): it is no threshold, so a less severe stated pair speaks instead.
    """
    cols = {name: walk.column(f"{spec.oid}.{c}") for name, c in spec.columns.items()}
    stated: dict[int, dict[int, dict[str, float]]] = {}  # sensor -> severity -> side -> value
    for suffix, raw in cols["value"].items():
        sensor = as_int(suffix.split(".", 1)[0])
        value, severity, relation = as_int(raw), as_int(cols["severity"].get(suffix)), as_int(
            cols["relation"].get(suffix))
        if sensor is None or value is None or severity is None or relation is None or sensor not in scale:
            continue
        side = "low" if relation in (1, 2) else "high" if relation in (3, 4) else None
        if side is None or (severity not in spec.alarm_severities and severity not in spec.warn_severities):
            continue
        stated.setdefault(sensor, {}).setdefault(severity, {})[side] = entity_sensor_value(value, *scale[sensor])
    out: dict[int, Thresholds] = {}
    for sensor, by_severity in stated.items():
        found: dict[str, float] = {}
        for severity in sorted(by_severity):  # the most severe stated limit wins: the one at which the box acts
            sides = by_severity[severity]
            if "low" in sides and "high" in sides and sides["low"] == sides["high"]:
                continue
            level = "alarm" if severity in spec.alarm_severities else "warn"
            for side, v in sides.items():
                found[f"{side}_{level}"] = v
        out[sensor] = Thresholds(**found)
    return out


def _column_thresholds(spec: ThresholdTable, walk: WalkResult, scale: dict[int, tuple[int, int]]
                       ) -> dict[int, Thresholds]:
    """One row per sensor, one column per threshold, raw in the sensor's own scale."""
    out: dict[int, Thresholds] = {}
    per: dict[int, dict[str, float]] = {}
    for name, col in spec.columns.items():
        for suffix, raw in walk.column(f"{spec.oid}.{col}").items():
            sensor, value = as_int(suffix), as_int(raw)
            if sensor is None or value is None or sensor not in scale or value in spec.ignore_values:
                continue
            per.setdefault(sensor, {})[name] = entity_sensor_value(value, *scale[sensor])
    for sensor, t in per.items():
        out[sensor] = Thresholds(**{k: v for k, v in t.items() if k in _THRESHOLD_NAMES})
    return out


def parse_entity_sensors(spec: EntitySensorTable, walk: WalkResult,
                         threshold_walks: dict[str, WalkResult], skipped: Counter[str]) -> list[RawSensor]:
    cols = {name: walk.column(f"{spec.oid}.{c}") for name, c in spec.columns.items()}
    scale: dict[int, tuple[int, int]] = {}
    rows: dict[int, tuple[int, int | None, str]] = {}
    for suffix, raw_type in cols["type"].items():
        idx, stype = as_int(suffix), as_int(raw_type)
        if idx is None or stype is None:
            skipped["sensor row with a non-numeric index or type"] += 1
            continue
        sc, prec = as_int(cols["scale"].get(suffix)), as_int(cols["precision"].get(suffix))
        if sc is None or not 1 <= sc <= 17:
            sc = 9  # units: an agent that omits or garbles the scale means plain units
        if prec is None or not -8 <= prec <= 9:
            prec = 0
        scale[idx] = (sc, prec)
        status = _STATUS.get(as_int(cols["status"].get(suffix)) or 1, "ok")
        rows[idx] = (stype, as_int(cols["value"].get(suffix)), status)
    thresholds: dict[int, Thresholds] = {}
    for tspec in spec.thresholds:
        twalk = threshold_walks.get(tspec.name)
        if twalk is None:
            continue
        parse = _relation_thresholds if tspec.style == "relation" else _column_thresholds
        thresholds.update(parse(tspec, twalk, scale))
    out = []
    for idx, (stype, raw, status) in rows.items():
        if raw is None and status == "ok":
            skipped["sensor value missing or not a number"] += 1
            status = "unavailable"
        value = None if status != "ok" or raw is None else finite(entity_sensor_value(raw, *scale[idx]))
        out.append(RawSensor(idx, stype, value, thresholds.get(idx, Thresholds()), status, spec.source,
                             spec.priority))
    return out


def _convert_thresholds(t: Thresholds, fn: Callable[[float], float]) -> Thresholds:
    return Thresholds(*(None if v is None else finite(fn(v)) for v in
                        (t.low_alarm, t.low_warn, t.high_warn, t.high_alarm)))


def place_entity_sensors(raw: list[RawSensor], tree: EntityTree, skipped: Counter[str] | None = None
                         ) -> list[Sensor]:
    """Give each sensor its port (via ENTITY-MIB, else the one port its own name names), kind (from type and
    name) and Saksi's unit; a port's optic reading no optic can give (-3276.8 °C: the agent's "no value") is
    unavailable, and counted."""
    best: dict[int, RawSensor] = {}
    for r in raw:
        if r.index not in best or r.priority > best[r.index].priority:
            best[r.index] = r
    out = []
    for r in sorted(best.values(), key=lambda x: x.index):
        ent = tree.entities.get(r.index)
        text = " ".join(x for x in ((ent.descr, ent.name) if ent else ()) if x)
        ifindex, xcvr = tree.port_of_sensor(r.index)
        named_lane = None
        if ifindex is None:
            ifindex, named_lane = _named_port(r, tree, r.type == DBM or bool(_OPTICAL.search(text)), skipped)
        optical = ifindex is not None or xcvr is not None or bool(_OPTICAL.search(text))
        lane_text = text + " " + " ".join(a.descr + " " + a.name for a in tree.ancestors(r.index)[:2])
        lane_m = _LANE.search(lane_text)
        lane = named_lane if named_lane is not None else int(lane_m.group(1)) if lane_m else None
        kind, value, thresholds = _classify(r, text, optical=optical)
        if ifindex is not None and kind in DOM_KINDS:
            value, plausible = _plausible(kind, value)
            if not plausible:
                if skipped is not None:
                    skipped[f"{r.source}: {kind.value} out of range"] += 1
                r = replace(r, status="unavailable")
        out.append(Sensor(
            sensor_id=f"{r.source}:{r.index}", kind=kind, value=None if value is None else round(value, 6), thresholds=thresholds, source=r.source,
            descr=text or f"sensor {r.index}", ifindex=ifindex, lane=lane,
            entity_index=r.index, status=r.status,
        ))
    return out


def _named_port(r: RawSensor, tree: EntityTree, optical: bool, skipped: Counter[str] | None
                ) -> tuple[int | None, int | None]:
    """(ifIndex, lane) of the one port a sensor ENTITY-MIB places nowhere names itself after (a trimmed walk,
    a firmware that reports no parent); a sensor naming several ports, or an optic's naming none, stays a board
    sensor, counted: a reading on the wrong port is worse than one on none."""
    named = tree.ports_named_by(r.index)
    if len(named) == 1:
        return next(iter(named.items()))
    if skipped is not None and named:
        skipped[f"{r.source}: sensor names several ports, placed on none"] += 1
    elif skipped is not None and optical:
        skipped[f"{r.source}: optical sensor on no port (its name names none)"] += 1
    return None, None


def _classify(r: RawSensor, text: str, optical: bool) -> tuple[SensorKind, float | None, Thresholds]:
    if r.type == CELSIUS:
        return SensorKind.TEMPERATURE, r.value, r.thresholds
    if r.type in (VOLTS_DC, VOLTS_AC):
        return SensorKind.VOLTAGE, r.value, r.thresholds
    if r.type == RPM:
        return SensorKind.FAN_SPEED, r.value, r.thresholds
    if r.type == PERCENT_RH:
        return SensorKind.HUMIDITY, r.value, r.thresholds
    if r.type == AMPERES:
        if optical or _BIAS.search(text):
            ma = (lambda a: a * 1000.0)  # noqa: E731
            return SensorKind.BIAS, None if r.value is None else ma(r.value), _convert_thresholds(r.thresholds, ma)
        return SensorKind.CURRENT, r.value, r.thresholds
    if r.type in (DBM, WATTS):
        direction = SensorKind.RX_POWER if _RX.search(text) else SensorKind.TX_POWER if _TX.search(text) else None
        if r.type == DBM:
            return direction or SensorKind.OTHER, r.value, r.thresholds
        if direction is not None and optical:
            dbm = (lambda w: mw_to_dbm(w * 1000.0))  # noqa: E731
            return direction, None if r.value is None else dbm(r.value), _convert_thresholds(r.thresholds, dbm)
        return SensorKind.POWER, r.value, r.thresholds
    return SensorKind.OTHER, r.value, r.thresholds


_TO_CANONICAL: dict[tuple[str, str], Callable[[float], float]] = {
    ("mW", "dBm"): mw_to_dbm, ("uW", "dBm"): lambda v: mw_to_dbm(v / 1000.0),
    ("W", "dBm"): lambda v: mw_to_dbm(v * 1000.0),
    ("uA", "mA"): lambda v: v / 1000.0, ("A", "mA"): lambda v: v * 1000.0,
    ("mV", "V"): lambda v: v / 1000.0,
}
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
_IDENTITY = ("vendor", "model", "serial")
# What an optic can physically report, in Saksi's units; a value outside is garbage (skipped, counted). Optical
# power a little below the receiver floor (-40.5 dBm) is "no light", reported as the floor.
_PLAUSIBLE = {"dBm": (NO_LIGHT_DBM, 30.0), "C": (-55.0, 150.0), "V": (0.0, 15.0), "mA": (0.0, 2000.0)}
_BELOW_ANY_RECEIVER_DBM = -60.0  # lower still is an agent's "no value" (-3276.8, -99.99...), not "no light"


def _number(raw: object) -> float | None:
    """An INTEGER cell, or a decimal-text one ("-1104.03 "); None for anything else, a list included.

    >>> _number(-541), _number(b"-1104.03 "), _number(b"22.24"), _number(b"1.2,3.4"), _number(b"9" * 30)
    (-541, -1104.03, 22.24, None, None)
    """
    if isinstance(raw, float):
        return raw if math.isfinite(raw) and abs(raw) < 2**64 else None
    n: float | None = as_int(raw)
    if n is None:
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw if isinstance(raw, str) else None
        if text is None or not _DECIMAL.fullmatch(text.strip()):
            return None
        n = float(text.strip())
    return n if abs(n) < 2**64 else None  # no SNMP number is larger: a longer digit string is garbage


def cell_numbers(decode: str, raw: object) -> list[float] | None:
    """The numbers a cell holds under a profile's `decode`; [] when the device says "no reading" (N/A,
    NULL, empty text), None when the cell is garbage.

    >>> cell_numbers("number", 42), cell_numbers("text", b"-4.99 dBm normal"), cell_numbers("text", b"N/A")
    ([42], [-4.99], [])
    >>> cell_numbers("lanes", b"-0.43 ,0.01"), cell_numbers("first", b"37.9 ,37.9"), cell_numbers("number", b"x")
    ([-0.43, 0.01], [37.9], None)
    """
    if decode == "number":  # an INTEGER column: anything else in it is garbage, "N/A" included
        n = _number(raw)
        return None if n is None else [n]
    if not_a_reading(raw):
        return []
    if decode == "text":
        one = leading_number(raw)
        return None if one is None else [one]
    numbers = number_list(raw)
    if not numbers:
        return None
    return numbers[:1] if decode == "first" else numbers


def _to_saksi(table: PortTable, spec: ReadingSpec, scale: Scale, n: float) -> float | None:
    """One raw number in Saksi's unit; None for the table's "unavailable" values."""
    if n in table.unavailable or n in spec.unavailable:
        return None
    if spec.kind.unit == "dBm" and n in table.no_light:
        return NO_LIGHT_DBM
    unit = scale.unit or spec.kind.unit
    to_saksi = (lambda v: v) if unit == spec.kind.unit else _TO_CANONICAL[(unit, spec.kind.unit)]
    return finite(to_saksi(_scaled(n, scale.factor)))


def _plausible(kind: SensorKind, value: float | None) -> tuple[float | None, bool]:
    """(value, plausible): optical power under the floor is the floor; anything else outside is garbage."""
    if value is None:
        return None, True
    low, high = _PLAUSIBLE.get(kind.unit, (-math.inf, math.inf))
    if kind.unit == "dBm" and _BELOW_ANY_RECEIVER_DBM <= value < low:
        return NO_LIGHT_DBM, True
    return (value, True) if low <= value <= high else (None, False)


def _reading_values(table: PortTable, spec: ReadingSpec, scale: Scale, raw: object
                    ) -> tuple[list[float | None], str | None]:
    """(values in Saksi's unit, one per lane the cell holds; why the cell was garbage or None)."""
    numbers = cell_numbers(spec.decode, raw)
    if numbers is None:
        return [None], "not a number"
    if not numbers:
        return [None], None
    out: list[float | None] = []
    why = None
    for n in numbers:
        value, ok = _plausible(spec.kind, _to_saksi(table, spec, scale, n))
        if not ok:
            why = "out of range"
        out.append(value)
    return out, why


def _reading_value(table: PortTable, spec: ReadingSpec, scale: Scale, raw: object
                   ) -> tuple[float | None, bool]:
    """(value in Saksi's unit or None, whether the cell was garbage) for one single-valued cell."""
    values, why = _reading_values(table, spec, scale, raw)
    return values[0], why is not None


def _scaled(n: float, factor: float) -> float:
    """n x factor, dividing by an exact integer for decimal factors (no binary rounding noise).

    >>> _scaled(-6020, 0.001), _scaled(28000, 0.0001), _scaled(-541, 0.01), _scaled(6310, 0.1), _scaled(3, 2.5)
    (-6.02, 2.8, -5.41, 631.0, 7.5)
    """
    if 0 < factor < 1:
        divisor = round(1 / factor)
        if abs(divisor * factor - 1) < 1e-9:
            return n / divisor
    return float(n * factor)


Row = Mapping[int, object]


def _admitted(table: PortTable, rule: RowFilter | None, rows: Mapping[int | None, Row], what: str,
              skipped: Counter[str]) -> bool | None:
    """Whether a row filter lets the row through; None (counted) when its cell is missing or garbage."""
    if rule is None:
        return True
    if rule.select is not None and rule.select not in rows:
        return False  # a table with a row per reading kind lists no such row for an empty cage
    value = as_int(rows.get(rule.select, {}).get(rule.column))
    if value is None:
        skipped[f"{table.name}: {what} column missing or not a number"] += 1
        return None
    return rule.admits(value)


def _holds_module(table: PortTable, rows: Mapping[int | None, Row], identity: dict[str, str],
                  skipped: Counter[str]) -> bool:
    """A module sits in this row: the table's presence column says so, else the row names one."""
    if table.present is not None:
        return bool(_admitted(table, table.present, rows, "presence", skipped))
    if table.transceiver:
        names = [k for k in identity if k in _IDENTITY] or list(identity)
        return any(identity[k] for k in names)
    return True


@dataclass(frozen=True, slots=True)
class _Index:
    """A row index split into the fields the profile names."""

    index: int | None  # ifIndex or entPhysicalIndex (None for a `port` table until its name is looked up)
    lane: int | None
    select: int | None
    port: str | None  # the index parts that name the port ("1.4"), for tables indexed by port name parts

    @property
    def key(self) -> tuple[int | None, int | None, str | None]:
        return self.index, self.lane, self.port


def _row_index(table: PortTable, suffix: str) -> _Index | None:
    """The fields of an index suffix ("5", "5.2", "1.35684352", "101.4"); None when it does not fit."""
    parts = suffix.split(".")
    fields = table.fields
    if len(parts) == len(fields) - 1 and fields[-1] in ("lane", "select"):
        parts.append("")  # a lane table may list a single-lane module without its lane; a joined table its port
    if len(parts) != len(fields):
        return None
    got: dict[str, int | None] = {}
    port_parts: list[int] = []
    for name, part in zip(fields, parts, strict=True):
        value = as_int(part) if part else None
        if value is None and not (name in ("lane", "select") and part == ""):
            return None
        if name == "port" and value is not None:
            port_parts.append(value)
        elif name != "_":
            got[name] = value
    port = ".".join(str(p) for p in port_parts) if table.port_name and port_parts else None
    return _Index(got.get("ifindex", got.get("entity")), got.get("lane"), got.get("select"), port)


def _without_select(table: PortTable, suffix: str) -> str:
    """The index suffix of a port's row, without the field that tells reading kinds apart."""
    return ".".join(p for p, f in zip(suffix.split("."), table.fields, strict=False) if f != "select")


def port_label(table: PortTable, parts: str, row: Row) -> str | None:
    """The port name a row's index stands for, by the profile's `port_name` pattern: the index parts ({0},
    {1}, the last one moved by `port_offset`) and {kind}, a word chosen by a column (an SFP is "xe", a QSFP
    "ce"). None when the pattern asks for something the row lacks."""
    if table.port_name is None:
        return None
    numbers = [int(p) for p in parts.split(".")]
    numbers[-1] += table.port_offset
    kind = ""
    if table.port_kind is not None:
        column, words, default = table.port_kind
        kind = words.get(as_int(row.get(column)) or -1, default)
    try:
        return table.port_name.format(*numbers, kind=kind)
    except (IndexError, KeyError):
        return None


def port_by_name(name: str, port_names: Mapping[str, int]) -> int | None:
    """The ifIndex a vendor's port label names: its exact ifName/ifDescr, else the one port ending in "/label".

    >>> port_by_name("1/3", {"1/1/3": 3, "1/1/13": 13}), port_by_name("1/3", {"1/3": 7}), port_by_name("9", {})
    (3, 7, None)
    """
    if name in port_names:
        return port_names[name]
    tail = {i for n, i in port_names.items() if n.endswith("/" + name)}
    return next(iter(tail)) if len(tail) == 1 else None


def _limits(table: PortTable, spec: ReadingSpec, row: Row, skipped: Counter[str]) -> Thresholds:
    limits: dict[str, float | None] = {}
    for name, column in spec.thresholds.items():
        raw_limit = row.get(column)
        limits[name] = None
        if raw_limit is None:
            continue
        item = spec.threshold_items.get(name)
        if item is not None:
            numbers = number_list(raw_limit)
            raw_limit = numbers[item] if item < len(numbers) else None
            if raw_limit is None:
                continue
        elif spec.decode != "number":
            decoded = cell_numbers("first" if spec.decode == "lanes" else spec.decode, raw_limit)
            if not decoded:
                if decoded is None:
                    skipped[f"{table.name}: {spec.kind.value} {name} not a number"] += 1
                continue
            raw_limit = decoded[0]
        values, why = _reading_values(table, replace(spec, decode="number"), spec.threshold_scale(column), raw_limit)
        limits[name] = values[0]
        if why is not None:
            skipped[f"{table.name}: {spec.kind.value} {name} {why}"] += 1
    return banded(Thresholds(**limits))


def banded(t: Thresholds) -> Thresholds:
    """Limits as stated, except a low/high pair that is one number (0 and 0): a band of no width is the
    device's way of stating no threshold, and would otherwise alarm on every reading.

    >>> banded(Thresholds(low_alarm=0.0, high_alarm=0.0, low_warn=-5.0, high_warn=70.0))
    Thresholds(low_alarm=None, low_warn=-5.0, high_warn=70.0, high_alarm=None)
    """
    alarm_same = t.low_alarm is not None and t.low_alarm == t.high_alarm
    warn_same = t.low_warn is not None and t.low_warn == t.high_warn
    return Thresholds(None if alarm_same else t.low_alarm, None if warn_same else t.low_warn,
                      None if warn_same else t.high_warn, None if alarm_same else t.high_alarm)


def _port_sensors(table: PortTable, spec: ReadingSpec, row: Row, limits_row: Row, has_column: bool, suffix: str,
                  at: _Index, ifindex: int | None, skipped: Counter[str]) -> list[Sensor]:
    """One reading of one row (one sensor per lane the cell lists), with its thresholds."""
    values: list[float | None] = []
    raw = row.get(spec.prefer.column) if spec.prefer is not None else None
    if spec.prefer is not None and raw is not None and _number(raw) is not None:
        values = [_reading_value(table, spec, spec.prefer, raw)[0]]
    else:  # no preferred text, or text that is not one number (a lane list): the integer column speaks
        raw = row.get(spec.column)
        if raw is None:
            if has_column:  # the device has this column, but not for this row
                skipped[f"{table.name}: {spec.kind.value} missing"] += 1
            return []
        if spec.decode != "number" and not_a_reading(raw):
            return []  # text "N/A", "NULL" or nothing: the cage is empty or the module has no such reading
        values, why = _reading_values(table, spec, spec.scale, raw)
        if why is not None:
            skipped[f"{table.name}: {spec.kind.value} {why}"] += 1
    thresholds = _limits(table, spec, limits_row, skipped)
    lanes = [spec.lane if spec.lane is not None else at.lane] if len(values) == 1 else \
        list(range(1, len(values) + 1))
    name = f"{table.source}:{suffix}:{spec.kind.value}"
    return [Sensor(
        sensor_id=name if len(values) == 1 and spec.lane is None else f"{name}:{lane}", kind=spec.kind,
        value=value, thresholds=thresholds, source=table.source,
        descr=f"{table.name} {at.port or suffix} {spec.kind.value}", ifindex=ifindex, lane=lane,
        entity_index=at.index if table.index.split(".").count("entity") else None,
        status="ok" if value is not None else "unavailable",
    ) for value, lane in zip(values, lanes, strict=True)]


def _share_port_rows(groups: dict[tuple[int | None, int | None, str | None], dict[int | None, dict[int, object]]]
                     ) -> None:
    """A lane table joined to a per-port table: the port's cells (lane None) belong to each of its lanes."""
    for key in [k for k in groups if k[1] is None]:
        lanes = [k for k in groups if k[1] is not None and (k[0], k[2]) == (key[0], key[2])]
        if not lanes:
            continue
        shared = groups.pop(key)
        for lane in lanes:
            for select, cells in shared.items():
                groups[lane].setdefault(select, {}).update(
                    {c: v for c, v in cells.items() if c not in groups[lane].get(select, {})})


def parse_port_table(spec: PortTable, walk: WalkResult, skipped: Counter[str],
                     port_names: Mapping[str, int] | None = None) -> tuple[list[Sensor], list[Transceiver]]:
    """A vendor table with a row per port: module identity and readings (with thresholds) in Saksi's units.

    A row is one port (or one port's lane); tables with a row per reading kind (`select` in the index)
    are joined back into one row per port. Rows without a module (by the table's presence column, else
    by an empty identity) give nothing; readings are kept only where the module has diagnostics. A
    garbage cell never raises: it is counted in `skipped` and its value is None. For an `entity` table,
    `ifindex` holds the entPhysicalIndex until the caller places it on a port; a `port` table is placed
    through `port_names` (ifName/ifDescr -> ifIndex).
    """
    sensors: list[Sensor] = []
    modules: list[Transceiver] = []
    cells = {c: walk.column(spec.column_oid(c)) for c in spec.columns()}
    groups: dict[tuple[int | None, int | None, str | None], dict[int | None, dict[int, object]]] = {}
    where: dict[tuple[int | None, int | None, str | None], tuple[_Index, str]] = {}
    misfits: set[str] = set()
    for column, col in cells.items():
        for suffix, value in col.items():
            at = _row_index(spec, suffix)
            if at is None:
                misfits.add(suffix)
                continue
            groups.setdefault(at.key, {}).setdefault(at.select, {})[column] = value
            if at.key not in where:
                where[at.key] = (replace(at, select=None), _without_select(spec, suffix))
    if misfits:
        skipped[f"{spec.name}: row with a non-numeric index"] += len(misfits)
    _share_port_rows(groups)
    for key in sorted(groups, key=lambda k: (k[0] or 0, k[1] or 0, k[2] or "")):
        rows, (at, suffix) = groups[key], where[key]
        ifindex = at.index
        base = rows.get(None) or {c: v for r in rows.values() for c, v in r.items()}
        if at.port is not None:
            label = port_label(spec, at.port, base)
            ifindex = None if label is None else port_by_name(label, port_names or {})
            if ifindex is None:
                skipped[f"{spec.name}: no port named {label or at.port}"] += 1
                continue
            at = replace(at, port=label)
        identity = {name: as_text(base.get(c)) for name, c in spec.transceiver.items()}
        if not _holds_module(spec, {**rows, None: base}, identity, skipped):
            continue
        if spec.transceiver or spec.modules:
            modules.append(Transceiver(
                vendor=identity.get("vendor", ""), model=identity.get("model", ""),
                serial=identity.get("serial", ""), type=identity.get("type", ""),
                revision=identity.get("revision", ""), ifindex=ifindex, source=spec.source,
            ))
        if not _admitted(spec, spec.dom, {**rows, None: base}, "diagnostics", skipped):
            continue
        for r in spec.readings:
            row = rows.get(r.select) if r.select is not None else base
            if row is None:
                continue
            limits_row = row if r.threshold_select is None else rows.get(r.threshold_select, {})
            sensors += _port_sensors(spec, r, row, limits_row, bool(cells.get(r.column)), suffix, at, ifindex,
                                     skipped)
    return sensors, modules


async def collect_entity_sensors(client: SnmpClient, target: SnmpTarget, spec: EntitySensorTable,
                                 sys_object_id: str) -> tuple[WalkResult, dict[str, WalkResult]]:
    walk = await client.walk(target, spec.column_oids())
    thresholds: dict[str, WalkResult] = {}
    if walk.error is None and walk.row_count:
        for t in spec.thresholds:
            if t.applies(sys_object_id):
                thresholds[t.name] = await client.walk(target, t.column_oids())
    return walk, thresholds


def with_ifindex(sensors: list[Sensor], ifindex_of_entity: dict[int, int]) -> list[Sensor]:
    """Place sensors of an entity-indexed port table on ports once ENTITY-MIB is known."""
    return [replace(s, ifindex=ifindex_of_entity.get(s.ifindex)) if s.ifindex is not None else s for s in sensors]
