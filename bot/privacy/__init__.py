"""Privacy: registry of personal-data tables, export, erasure, retention, encryption."""
