"""Attendance from the meeting's participant report (Zoom, Microsoft Teams, Webex).

- reading: bytes to rows (encoding and delimiter sniffed), durations and times
- formats: which product's report a file is, and its participants
- services: import_attendance(), the one writer of Registration.attended / minutes_attended
"""

from registration.attendance.reading import MAX_REPORT_BYTES, ReportError
from registration.attendance.services import ImportResult, Unmatched, import_attendance

__all__ = ["MAX_REPORT_BYTES", "ImportResult", "ReportError", "Unmatched", "import_attendance"]
