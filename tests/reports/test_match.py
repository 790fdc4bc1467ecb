"""Which open incident a report joins: table-driven, on incidents shaped as correlation makes them."""

from __future__ import annotations

import pytest

from monitor.reports.match import covers, match
from monitor.reports.records import Report
from monitor.witness.incidents import Incident

BACKBONE = Incident("k1", "transceiver_removed", "core-sw1", "GigabitEthernet1/0/49", site="hq", id="SAK-000001",
                    link={"a": "core-sw1:GigabitEthernet1/0/49", "b": "dist-sw2:GigabitEthernet1/0/25"},
                    affected=["core-sw1:GigabitEthernet1/0/49", "dist-sw2:GigabitEthernet1/0/25", "device:acc-sw3"],
                    detected_at=100.0)
REBOOT = Incident("k2", "device_rebooted", "acc-sw4", None, site="hq", id="SAK-000002", affected=["device:acc-sw4"],
                  detected_at=50.0)
OTHER_SITE = Incident("k3", "cable_unplugged", "edge-1", "GigabitEthernet0/1", site="branch", id="SAK-000003")
CLOSED = Incident("k4", "cable_unplugged", "dist-sw2", "GigabitEthernet1/0/1", site="hq", id="SAK-000004",
                  resolved_at=10.0)


@pytest.mark.parametrize(("device", "port", "want"), [
    (None, None, "SAK-000002"),  # nothing named: any open incident of the site, the earliest detected
    ("dist-sw2", None, "SAK-000001"),  # the far end of the backbone link
    ("dist-sw2", "Gi1/0/25", "SAK-000001"),  # the far end's port, as a person types it
    ("core-sw1", "GigabitEthernet1/0/49", "SAK-000001"),
    ("acc-sw3", "Gi1/0/3", "SAK-000001"),  # a port of a device that went dark behind the link
    ("acc-sw4", "Gi1/0/7", "SAK-000002"),  # a port of a device whose whole self is the incident
    ("dist-sw2", "Gi1/0/1", None),  # a port nothing open covers (the closed incident does not count)
    ("edge-1", None, None),  # another site's device is not this site's
])
def test_a_report_joins_the_incident_that_covers_its_place(device: str | None, port: str | None,
                                                           want: str | None) -> None:
    found = match("hq", device, port, [BACKBONE, REBOOT, OTHER_SITE, CLOSED])
    assert (found.id if found else None) == want


def test_a_customer_report_incident_is_where_its_reports_point() -> None:
    opened = Incident("customer_report:hq:dist-sw2:", "customer_report", "dist-sw2", None, site="hq",
                      id="SAK-000009")
    first = Report(1, "hq", "acme", "dist-sw2", "GigabitEthernet1/0/1", "slow", "ann", "web", 0.0, "SAK-000009",
                   "opened")
    assert covers(opened, "hq", "dist-sw2", "Gi1/0/1", [first])
    assert not covers(opened, "hq", "dist-sw2", "Gi1/0/2", [first]), "another port of the device is another story"
    assert covers(opened, "hq", None, None, [first])
    site_wide = Incident("customer_report:hq::", "customer_report", "", None, site="hq", id="SAK-000010")
    anywhere = Report(2, "hq", "acme", None, None, "all slow", "bob", "phone", 0.0, "SAK-000010", "opened")
    assert covers(site_wide, "hq", "dist-sw2", "Gi1/0/9", [anywhere]), "a site-wide complaint takes later ones"
    assert not covers(site_wide, "branch", None, None, [anywhere])
