"""SNMPv2-MIB system group (and ENTITY-MIB's last-change time): is the device there, and since when."""

from __future__ import annotations

from monitor.collectors.decode import as_int, as_oid, as_text
from monitor.collectors.snmp import SnmpClient, SnmpTarget, Value
from monitor.model import DeviceFacts

SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME = (f"1.3.6.1.2.1.1.{c}.0" for c in (1, 2, 3, 5))
ENT_LAST_CHANGE = "1.3.6.1.2.1.47.1.4.1.0"
CCM_RUNNING_LAST_CHANGED = "1.3.6.1.4.1.9.9.43.1.1.1.0"  # CISCO-CONFIG-MAN-MIB; noSuchObject elsewhere
# sysUpTime is the agent's uptime: restarting snmpd resets it. The host's own uptime (HOST-RESOURCES-MIB) and
# the agent's boot counter (SNMP-FRAMEWORK-MIB) tell a restarted agent from a rebooted device.
HR_SYSTEM_UPTIME = "1.3.6.1.2.1.25.1.1.0"
SNMP_ENGINE_BOOTS, SNMP_ENGINE_TIME = "1.3.6.1.6.3.10.2.1.2.0", "1.3.6.1.6.3.10.2.1.3.0"
OIDS = [SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME, ENT_LAST_CHANGE, CCM_RUNNING_LAST_CHANGED,
        HR_SYSTEM_UPTIME, SNMP_ENGINE_BOOTS, SNMP_ENGINE_TIME]


def _ticks(value: Value | None) -> float | None:
    """TimeTicks (hundredths) as seconds; None when absent or not a count.

    >>> _ticks(47692), _ticks(None), _ticks(b"soon"), _ticks(-1)
    (476.92, None, None, None)
    """
    n = as_int(value)
    return None if n is None or n < 0 else n / 100.0


def parse_system(values: dict[str, Value | None]) -> DeviceFacts:
    boots, engine_time = as_int(values.get(SNMP_ENGINE_BOOTS)), as_int(values.get(SNMP_ENGINE_TIME))
    return DeviceFacts(
        sys_name=as_text(values.get(SYS_NAME)),
        sys_descr=as_text(values.get(SYS_DESCR)),
        sys_object_id=as_oid(values.get(SYS_OBJECT_ID)) or "",
        uptime_s=_ticks(values.get(SYS_UPTIME)),
        entity_last_change_s=_ticks(values.get(ENT_LAST_CHANGE)),
        config_changed_s=_ticks(values.get(CCM_RUNNING_LAST_CHANGED)),
        host_uptime_s=_ticks(values.get(HR_SYSTEM_UPTIME)),
        engine_boots=boots if boots is not None and 0 < boots < 2**31 - 1 else None,  # 2^31-1: "latched"
        engine_time_s=float(engine_time) if engine_time is not None and engine_time >= 0 else None,
    )


async def collect(client: SnmpClient, target: SnmpTarget) -> DeviceFacts:
    """Raises SnmpTimeout/SnmpAuthError: with no system group there is nothing else to ask."""
    return parse_system(await client.get(target, OIDS))
