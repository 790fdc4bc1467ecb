"""Small shared helpers that more than one part of Saksi needs (one home instead of private imports)."""
