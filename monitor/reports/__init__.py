"""The customer's side of an incident: a report joins the open incident, or opens one with a triage.

`records` keeps reports in their own table (people's data, beside the incident, never inside it),
`match` finds the open incident a report belongs to, `triage` says what Saksi knows of the path the
customer named, and `intake` puts the three together for `saksi report` and the web form.
"""

from __future__ import annotations

from monitor.reports.intake import Reply, ReportError, receive
from monitor.reports.match import match, places
from monitor.reports.records import MAX_TEXT, Report, ReportBook
from monitor.reports.triage import Triage, render_triage, triage

__all__ = ["MAX_TEXT", "Reply", "Report", "ReportBook", "ReportError", "Triage", "match", "places", "receive",
           "render_triage", "triage"]
