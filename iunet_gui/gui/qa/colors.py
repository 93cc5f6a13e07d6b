"""The colours of the verdicts (light theme; white text stays readable on each)."""
from __future__ import annotations

VERDICT_COLORS = {"OK": "#2e7d32", "NG": "#c62828", "check": "#e65100", "uncalibrated": "#6a1b9a"}
NG_COLOR = VERDICT_COLORS["NG"]
CHECK_COLOR = VERDICT_COLORS["check"]
CONFIRMED_COLOR = "#1565c0"
FALSE_ALARM_COLOR = "#78909c"


def verdict_color(status: str | None) -> str:
    return VERDICT_COLORS.get(status or "", "#546e7a")
