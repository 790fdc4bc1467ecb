"""Unit conversions, so every optical reading leaves the edge in dBm and every current in mA or A."""

from __future__ import annotations

import math

NO_LIGHT_DBM = -40.0  # what optics report for "no light": the floor of a DOM receiver


def mw_to_dbm(mw: float) -> float:
    """Milliwatts to dBm; zero or negative power (no light) is the receiver floor.

    >>> round(mw_to_dbm(0.6322), 3), mw_to_dbm(1.0), mw_to_dbm(0.0)
    (-1.991, 0.0, -40.0)
    """
    if mw <= 0:
        return NO_LIGHT_DBM
    return max(NO_LIGHT_DBM, 10.0 * math.log10(mw))


def entity_sensor_value(raw: int, scale: int, precision: int) -> float:
    """ENTITY-SENSOR-MIB value with its SI scale (9 = units) and decimal precision.

    >>> entity_sensor_value(6322, 8, 4)  # milli, 4 decimals: 0.6322 mW, in watts
    0.0006322
    >>> entity_sensor_value(-12700, 9, 3)
    -12.7
    """
    exponent = 3 * (scale - 9) - precision
    if exponent < 0:
        return raw / (10 ** -exponent)  # divide by an exact integer: no binary rounding noise
    return float(raw * 10 ** exponent)
