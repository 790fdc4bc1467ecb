"""The state store (SQLite by default, PostgreSQL for a scale-out) and the JSON forms of what it keeps."""
