"""Values the window and its views keep between sessions, in settings.ini in the user data folder.

The file is the user's to edit or to lose: every value read back is checked, and one that is not what
was written (a damaged file, a hand edit, an older version's layout) is ignored and logged, never fatal.
"""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import QSettings

from ..core.paths import user_data_dir

log = logging.getLogger(__name__)


def open_settings() -> QSettings:
    return QSettings(str(user_data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def read_int(s: QSettings, key: str, lowest: int, highest: int) -> int | None:
    raw = s.value(key)
    if raw is None:
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        log.info("settings: ignored %s=%r (not a whole number)", key, raw)
        return None
    if not lowest <= value <= highest:
        log.info("settings: ignored %s=%r (outside %d..%d)", key, raw, lowest, highest)
        return None
    return value


def read_json(s: QSettings, key: str, kind: type):
    """The JSON value stored under ``key`` if it parses and is a ``kind`` (dict, list), else None."""
    raw = s.value(key)
    if raw is None:
        return None
    try:
        value = json.loads(raw if isinstance(raw, str) else "")
    except ValueError:
        value = None
    if not isinstance(value, kind):
        log.info("settings: ignored %s=%r (not what this version writes)", key, raw)
        return None
    return value


def write_json(s: QSettings, key: str, value) -> None:
    s.setValue(key, json.dumps(value))
