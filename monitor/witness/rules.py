"""The causes correlation can name, as data: each reads like an Alertmanager inhibit rule.

A rule names a cause, the changes that are it (`source`: a module removed), the symptoms it explains (link
down, neighbour lost, the far end's loss of light), what must match for a symptom to join it (`match`: the
port's link, the device, the module's serial), how long a source waits for its partner (`hold_down_s`: a
removal for its insertion elsewhere), its severity, and its rank (a firmer cause takes an incident over).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.witness.changes import ChangeKind as K


@dataclass(frozen=True)
class Rule:
    """One cause and what it explains (see the module's docstring)."""

    cause: str
    source: tuple[K, ...]  # the change that is the cause
    explains: tuple[K, ...]  # symptoms it absorbs
    match: str  # keys that must match: "link" (either end of the port's link), "device", "serial"
    hold_down_s: float  # how long a source waits for its partner (a removal for its insertion)
    severity: str
    rank: int  # a stronger cause replaces a weaker guess on the same incident


_LINK_SYMPTOMS = (K.PORT_DOWN, K.PORT_UP, K.NEIGHBOR_LOST, K.NEIGHBOR_FOUND, K.NEIGHBOR_CHANGED, K.DOM_BREACH,
                  K.DOM_RECOVERED, K.DOM_DRIFT, K.ADMIN_UP)
RULES: dict[str, Rule] = {r.cause: r for r in (
    Rule("device_rebooted", (K.REBOOTED,), (*_LINK_SYMPTOMS, K.UNREACHABLE, K.REACHABLE, K.ENTITY_CHANGED),
         "device", 0, "major", 90),
    Rule("device_unreachable", (K.UNREACHABLE,), (*_LINK_SYMPTOMS, K.REACHABLE), "device", 0, "critical", 40),
    Rule("transceiver_moved", (K.TRANSCEIVER_REMOVED, K.TRANSCEIVER_INSERTED), _LINK_SYMPTOMS, "serial",
         1800, "major", 85),
    Rule("transceiver_replaced", (K.TRANSCEIVER_REPLACED,), _LINK_SYMPTOMS, "link", 0, "major", 80),
    Rule("transceiver_removed", (K.TRANSCEIVER_REMOVED, K.ENTITY_CHANGED), _LINK_SYMPTOMS, "link", 1800,
         "major", 75),
    Rule("transceiver_inserted", (K.TRANSCEIVER_INSERTED,), _LINK_SYMPTOMS, "link", 0, "info", 70),
    Rule("port_shutdown", (K.ADMIN_DOWN,), _LINK_SYMPTOMS, "link", 0, "warning", 72),
    Rule("transceiver_failed", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 60),
    Rule("cable_moved", (K.NEIGHBOR_CHANGED, K.NEIGHBOR_FOUND), _LINK_SYMPTOMS, "link", 0, "major", 58),
    Rule("optics_degraded", (K.DOM_BREACH, K.DOM_DRIFT, K.PORT_DOWN), _LINK_SYMPTOMS, "link", 0, "warning", 55),
    Rule("cable_unplugged", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 50),
    Rule("config_changed", (K.CONFIG_CHANGED,), _LINK_SYMPTOMS, "link", 0, "info", 45),
    Rule("errors_rising", (K.ERRORS_RISING,), (K.ERRORS_RISING,), "link", 0, "warning", 30),
    Rule("unknown", (K.PORT_DOWN,), _LINK_SYMPTOMS, "link", 0, "major", 10),
    # hardware: device-wide, no hold-down; overheating explains the silence (and links) of a thermal shutdown
    Rule("overheating", (K.TEMPERATURE_BREACH, K.TEMPERATURE_RISING, K.UNREACHABLE),
         (*_LINK_SYMPTOMS, K.TEMPERATURE_BREACH, K.TEMPERATURE_RISING, K.TEMPERATURE_RECOVERED, K.UNREACHABLE,
          K.REACHABLE, K.REBOOTED), "device", 0, "major", 92),
    Rule("power_supply_failed", (K.POWER_SUPPLY_FAILED,), (K.POWER_SUPPLY_FAILED, K.POWER_SUPPLY_RECOVERED,
                                                          K.UNREACHABLE, K.REACHABLE, K.REBOOTED, *_LINK_SYMPTOMS),
         "device", 0, "major", 66),
    Rule("fan_failed", (K.FAN_FAILED,), (K.FAN_FAILED, K.FAN_RECOVERED, K.TEMPERATURE_RISING, K.TEMPERATURE_BREACH,
                                          K.TEMPERATURE_RECOVERED, K.UNREACHABLE), "device", 0, "major", 65),
    Rule("storage_failing", (K.STORAGE_FULL, K.STORAGE_FILLING, K.STORAGE_ALLOCATION_FAILED, K.DISK_FAILED),
         (K.STORAGE_FULL, K.STORAGE_FILLING, K.STORAGE_ALLOCATION_FAILED, K.DISK_FAILED, K.STORAGE_RECOVERED,
          K.DISK_RECOVERED), "device", 0, "major", 64),
)}


# Causes inferred from symptoms, which firmer evidence may overturn; and the stories one cause grows into.
GUESSES = frozenset({"unknown", "cable_unplugged", "device_unreachable"})
STORIES = frozenset({
    ("transceiver_removed", "transceiver_moved"), ("transceiver_removed", "transceiver_replaced"),
    ("transceiver_inserted", "transceiver_moved"), ("device_unreachable", "device_rebooted"),
    ("cable_unplugged", "cable_moved"),
    ("fan_failed", "overheating"),  # a dead fan, then an alarm or a thermal shutdown: one incident
})


def may_become(current: str, new: str) -> bool:
    """A guess gives way to a firmer cause; a firm cause only to the rest of its own story.

    >>> may_become("unknown", "port_shutdown"), may_become("transceiver_removed", "transceiver_moved")
    (True, True)
    >>> may_become("transceiver_removed", "port_shutdown")
    False
    """
    return current in GUESSES or (current, new) in STORIES


def outranks(new: str, old: str) -> bool:
    """A firmer cause takes the incident over; so does a device's own silence or reboot over a guess about
    one of its links, which the other end saw first (polls of the two ends are not simultaneous).

    >>> outranks("transceiver_moved", "transceiver_removed"), outranks("device_unreachable", "cable_unplugged")
    (True, True)
    >>> outranks("cable_unplugged", "transceiver_removed")
    False
    """
    if RULES[new].rank > RULES[old].rank:
        return True
    return old in ("cable_unplugged", "unknown") and RULES[new].match == "device"
