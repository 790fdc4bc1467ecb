"""`saksi check`: what a poll calls a problem (`health`) and how it is shown (`report`)."""
