"""Whether the window can open on this machine, found out before Qt is asked to open it.

When Qt's X11 (xcb) platform plugin cannot load, or there is no display to connect to, Qt ends the
process from C++ (qFatal) with a message about plugins: nothing Python can catch or reword. So the
window's start checks first, without importing Qt's GUI modules, and says what to install instead.
This module imports no Qt.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

# The system libraries (their sonames) that PySide6's Qt Widgets and its xcb platform plugin link to, with
# the Debian/Ubuntu package of each: `readelf -d` of Qt/plugins/platforms/libqxcb.so and the Qt libraries
# it loads (libQt6XcbQpa, libQt6Gui, libQt6Core, libQt6DBus, libQt6Widgets), PySide6 6.11. The plugin
# opens no further xcb library at run time: all of them are link-time dependencies that `ldd` lists.
PACKAGE_OF_LIBRARY = {
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libEGL.so.1": "libegl1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}

# What a bare Debian 12 / Ubuntu 22.04+ machine needs for the window; the packages not listed pull in the
# rest (libxcb1, libx11-6, libfreetype6, ...). The README gives the same line.
WINDOW_PACKAGES = (
    "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3", "libglib2.0-0", "libxkbcommon-x11-0", "libxcb-cursor0",
    "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0", "libxcb-shape0", "libxcb-randr0",
    "libxcb-xkb1",
)

HEADLESS_HINT = "(mnist-desk train, evaluate, predict and models work without a window.)"

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)
_OPEN_ERROR = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


def qt_window_files(x11: bool = True) -> list[Path]:
    """The Qt Widgets library and (for X11) the xcb platform plugin of the installed PySide6, those that exist."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    qt = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    files = [qt / "lib" / "libQt6Widgets.so.6"] + ([qt / "plugins" / "platforms" / "libqxcb.so"] if x11 else [])
    return [f for f in files if f.is_file()]


def missing_libraries(shared_objects: Sequence[Path]) -> list[str]:
    """The sonames the dynamic loader cannot find for these files (and what they load), in ldd's order.

    Loading the files is the quick check, and costs nothing when it works: Qt loads the same files a
    moment later. Only when that fails does `ldd` list every missing library, not only the first.
    """
    failures = []
    for path in shared_objects:
        try:
            ctypes.CDLL(str(path))
        except OSError as exc:
            failures.append((path, str(exc)))
    if not failures:
        return []
    missing: list[str] = []
    ldd = shutil.which("ldd")
    for path, error in failures:
        found = []
        if ldd is not None:
            try:
                out = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=30,
                                     check=False).stdout  # missing libraries are in the output, not the status
                found = _NOT_FOUND.findall(out)
            except (OSError, subprocess.SubprocessError) as exc:
                log.warning("could not run ldd on %s: %s", path, exc)
        if not found:  # no ldd: the loader's message names the first library it missed
            match = _OPEN_ERROR.search(error)
            found = [match.group(1)] if match else []
            if not found:
                log.warning("%s does not load, for a reason other than a missing library: %s", path, error)
        missing.extend(name for name in found if name not in missing)
    return missing


def missing_window_libraries(x11: bool = True) -> list[str]:
    """The system libraries the window needs that this machine lacks (empty if none, or if unknown).

    Without ``x11``, those Qt's widgets need on any platform: importing them fails without these.
    """
    return missing_libraries(qt_window_files(x11))


def display_answers(display: str) -> bool:
    """Whether the X server named by ``display`` accepts a connection, asked through libxcb as Qt asks it.

    True when libxcb itself cannot be loaded: then the question is Qt's to answer.
    """
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError as exc:
        log.warning("libxcb does not load, the display cannot be asked: %s", exc)
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)  # never NULL: a failed one is a static error object
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def install_command(missing: Sequence[str]) -> str:
    """The apt-get line that installs these libraries (all the window's packages if one is not known)."""
    packages = [PACKAGE_OF_LIBRARY.get(name) for name in missing]
    if not packages or None in packages:
        packages = list(WINDOW_PACKAGES)
    return "sudo apt-get install " + " ".join(dict.fromkeys(packages))


def window_start_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the window cannot open here, as the message to print; None if it can (or if Qt can tell better).

    Only the cases where Qt would certainly fail are reported: a desktop that Qt might still reach is
    left to Qt. Qt picks Wayland when the session is a Wayland one (falling back to X11) and X11 when
    DISPLAY is set; QT_QPA_PLATFORM overrides both, and for any choice but xcb (offscreen, wayland, vnc)
    only the libraries every platform needs are checked.
    """
    if not sys.platform.startswith("linux"):
        return None
    env = os.environ if environ is None else environ
    requested = [name.split(":", 1)[0].strip() for name in env.get("QT_QPA_PLATFORM", "").split(";")]
    requested = [name for name in requested if name]
    wayland_session = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    x11 = requested == ["xcb"] or (not requested and not wayland_session)
    if x11 and not env.get("DISPLAY"):
        unset = "DISPLAY is not set" if requested else "neither DISPLAY nor WAYLAND_DISPLAY is set"
        return (f"mnist-desk cannot open its window: there is no screen to show it on ({unset}).\n"
                f"Start it from a desktop session, or over SSH with X forwarding (ssh -X).\n{HEADLESS_HINT}")
    missing = missing_window_libraries(x11)
    if not missing:
        if not x11 or display_answers(env["DISPLAY"]):
            return None
        return (f"mnist-desk cannot open its window: the display {env['DISPLAY']} (DISPLAY) does not answer.\n"
                "Start it from a desktop session, or over SSH with X forwarding (ssh -X).\n"
                f"{HEADLESS_HINT}")
    return ("mnist-desk cannot open its window: this machine lacks system libraries it needs "
            f"({', '.join(missing)}).\nOn Debian or Ubuntu, install them with:\n\n    {install_command(missing)}\n\n"
            f"{HEADLESS_HINT}")
