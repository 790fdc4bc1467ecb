"""Saksi's Grafana dashboards as code: built with grafana-foundation-sdk, committed as JSON (json/),
with provisioning files (provisioning/) an operator drops into /etc/grafana/provisioning.

`saksi dashboards build` regenerates the JSON; `--check` fails when the committed JSON is stale.
"""
