"""The I/O side of Where You Stand: sources, SQLite store, IMAP sync, standings, API and CLI."""

__version__ = "0.1.0"
