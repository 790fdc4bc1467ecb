"""Snapshots in, incidents out, pure: changes → trends → topology → correlation → incidents (`observer` runs it)."""
