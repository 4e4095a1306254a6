"""The storage interface in SQL, written once for SQLite and PostgreSQL (see `store`)."""
