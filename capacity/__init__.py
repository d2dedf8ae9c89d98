"""capctl: calendar-aware capacity planning for French school platforms (ENT)."""

__version__ = "0.1.0"
