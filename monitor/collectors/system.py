"""SNMPv2-MIB system group (and ENTITY-MIB's last-change time): is the device there, and since when."""

from __future__ import annotations

from monitor.collectors.decode import as_int, as_oid, as_text
from monitor.collectors.snmp import SnmpClient, SnmpTarget, Value
from monitor.model import DeviceFacts

SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME = (f"1.3.6.1.2.1.1.{c}.0" for c in (1, 2, 3, 5))
ENT_LAST_CHANGE = "1.3.6.1.2.1.47.1.4.1.0"
CCM_RUNNING_LAST_CHANGED = "1.3.6.1.4.1.9.9.43.1.1.1.0"  # CISCO-CONFIG-MAN-MIB; noSuchObject elsewhere
OIDS = [SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME, ENT_LAST_CHANGE, CCM_RUNNING_LAST_CHANGED]


def parse_system(values: dict[str, Value | None]) -> DeviceFacts:
    uptime, ent_change = as_int(values.get(SYS_UPTIME)), as_int(values.get(ENT_LAST_CHANGE))
    config_change = as_int(values.get(CCM_RUNNING_LAST_CHANGED))
    return DeviceFacts(
        sys_name=as_text(values.get(SYS_NAME)),
        sys_descr=as_text(values.get(SYS_DESCR)),
        sys_object_id=as_oid(values.get(SYS_OBJECT_ID)) or "",
        uptime_s=None if uptime is None else uptime / 100.0,
        entity_last_change_s=None if ent_change is None else ent_change / 100.0,
        config_changed_s=None if config_change is None else config_change / 100.0,
    )


async def collect(client: SnmpClient, target: SnmpTarget) -> DeviceFacts:
    """Raises SnmpTimeout/SnmpAuthError: with no system group there is nothing else to ask."""
    return parse_system(await client.get(target, OIDS))
