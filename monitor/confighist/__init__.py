"""Configuration history: redacted, de-noised versions in git (`history`), readable diffs (`diff`), when to fetch (`watch`)."""
