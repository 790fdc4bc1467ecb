"""`saksi run`: the one composition of poll → detect → correlate → store → alert, and its scale-out."""
