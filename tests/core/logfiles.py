"""Reading the app's log files (settings.LOG_DIR) in tests: lines and multi-line entries."""
from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

# The contract's line format: [LEVEL] YYYY-MM-DD HH:MM:SS,mmm logger funcName request_id - message
LINE = re.compile(
    r"^\[(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\] "
    r"(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) "
    r"(?P<logger>\S+) (?P<func>\S+) (?P<request_id>\S+) - (?P<message>.*)$"
)


def read(name: str, log_dir: Path | str | None = None) -> str:
    path = Path(log_dir or settings.LOG_DIR) / name
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def entries(name: str, log_dir: Path | str | None = None) -> list[str]:
    """Log records as text: a formatted line plus any traceback lines that follow it."""
    records: list[str] = []
    for line in read(name, log_dir).splitlines():
        if LINE.match(line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


def entries_containing(text: str, name: str = "info.log", log_dir: Path | str | None = None) -> list[str]:
    return [entry for entry in entries(name, log_dir) if text in entry]


class Tail:
    """The log records appended to a file since this object was made (single-process tests)."""

    def __init__(self, name: str = "info.log", log_dir: Path | str | None = None) -> None:
        self.path = Path(log_dir or settings.LOG_DIR) / name
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def entries(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode("utf-8", errors="replace")
        records: list[str] = []
        for line in text.splitlines():
            if LINE.match(line) or not records:
                records.append(line)
            else:
                records[-1] += "\n" + line
        return records
