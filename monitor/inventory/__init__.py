"""The site inventory: strict YAML in (`loader`), frozen cross-checked records out (`records`)."""

from monitor.common.secrets import Secret
from monitor.inventory.loader import load_inventory
from monitor.inventory.records import (
    AUTH_PROTOCOLS,
    LINK_ROLES,
    MIN_V3_KEY_LENGTH,
    PRIV_PROTOCOLS,
    SNMP_VERSIONS,
    Customer,
    Device,
    Endpoint,
    Inventory,
    InventoryError,
    Link,
    Site,
    SnmpCredential,
    SshCredential,
)

__all__ = [
    "AUTH_PROTOCOLS", "LINK_ROLES", "MIN_V3_KEY_LENGTH", "PRIV_PROTOCOLS", "SNMP_VERSIONS", "Customer", "Device", "Endpoint",
    "Inventory", "InventoryError", "Link", "Secret", "Site", "SnmpCredential", "SshCredential", "load_inventory",
]
