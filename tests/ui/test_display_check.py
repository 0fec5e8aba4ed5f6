"""The window's start on a machine where Qt cannot open it: one message saying what to do, exit status 1,
instead of Qt ending the process (SIGABRT) with a message about platform plugins.

The start-up runs for real in a fresh process (``cli.main([])``, as ``mnist-desk`` runs it) without the
offscreen platform the test suite uses. A missing system library is simulated through the check's seam,
``display_check.missing_window_libraries``; the library listing itself is tested on a real plugin file
whose dependency is renamed to one no machine has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_desk.ui import display_check

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 and Wayland are Linux's")

START = r"""
import sys
from mnist_desk import cli
from mnist_desk.ui import display_check

if len(sys.argv) > 1:  # the libraries this machine lacks, as the check's seam would list them
    display_check.missing_window_libraries = lambda x11=True: sys.argv[1].split(",")
code = cli.main([])
print("QT GUI LOADED" if "PySide6.QtGui" in sys.modules else "QT GUI NOT LOADED")
sys.exit(code)
"""


def start_window(tmp_path, display_env, *missing):
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env.update(display_env, MNIST_DESK_HOME=str(tmp_path / "home"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    args = [sys.executable, "-c", START] + ([",".join(missing)] if missing else [])
    return subprocess.run(args, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120, check=False)


def assert_clear_failure(proc):
    assert proc.returncode == 1, f"exit {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    assert "QT GUI NOT LOADED" in proc.stdout
    for noise in ("Traceback", "qt.qpa", "plugin", "Aborted"):
        assert noise not in proc.stderr, proc.stderr
    assert "mnist-desk cannot open its window" in proc.stderr
    assert "work without a window" in proc.stderr


def test_no_screen_says_so_and_exits_1(tmp_path):
    proc = start_window(tmp_path, {})
    assert_clear_failure(proc)
    assert "no screen" in proc.stderr


def test_a_display_that_does_not_answer_says_so_and_exits_1(tmp_path):
    if display_check.missing_window_libraries():
        pytest.skip("this machine lacks the window's libraries: the message names those instead")
    # a display number no X server here listens on (no socket in /tmp/.X11-unix)
    free = next(n for n in range(917, 1000) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    proc = start_window(tmp_path, {"DISPLAY": f":{free}"})
    assert_clear_failure(proc)
    assert f"the display :{free} (DISPLAY) does not answer" in proc.stderr


def test_missing_xcb_libraries_give_the_apt_get_line_that_installs_them(tmp_path):
    proc = start_window(tmp_path, {"DISPLAY": ":0"}, "libxcb-cursor.so.0", "libxcb-icccm.so.4")
    assert_clear_failure(proc)
    assert "(libxcb-cursor.so.0, libxcb-icccm.so.4)" in proc.stderr
    lines = [line.strip() for line in proc.stderr.splitlines() if "apt-get" in line]
    assert lines == ["sudo apt-get install libxcb-cursor0 libxcb-icccm4"], proc.stderr


def test_the_readme_gives_the_whole_line():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "sudo apt-get install " + " ".join(display_check.WINDOW_PACKAGES) + "\n" in readme


def test_a_library_with_no_known_package_gives_the_whole_line():
    line = display_check.install_command(["libxcb-cursor.so.0", "libsomething-new.so.3"])
    assert line == "sudo apt-get install " + " ".join(display_check.WINDOW_PACKAGES)


def test_offscreen_needs_no_display_but_qt_widgets_libraries(tmp_path):
    proc = start_window(tmp_path, {"QT_QPA_PLATFORM": "offscreen"}, "libEGL.so.1")
    assert_clear_failure(proc)
    assert "sudo apt-get install libegl1\n" in proc.stderr


def test_no_screen_for_x11_when_it_is_asked_for(tmp_path):
    proc = start_window(tmp_path, {"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"})
    assert_clear_failure(proc)
    assert "no screen to show it on (DISPLAY is not set)" in proc.stderr


@pytest.mark.parametrize("env", [
    {"QT_QPA_PLATFORM": "offscreen"},  # what the tests and CI use: no display needed
    {"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"},
    {"WAYLAND_DISPLAY": "wayland-0"},  # Qt tries Wayland first, and X11 only after it
    {"XDG_SESSION_TYPE": "wayland"},
])
def test_platforms_other_than_x11_are_left_to_qt(env):
    if display_check.missing_window_libraries(x11=False):
        pytest.skip("this machine lacks the libraries of Qt's widgets: the message names those")
    assert display_check.window_start_problem(env) is None


def qt_xcb_plugin() -> Path:
    files = [f for f in display_check.qt_window_files() if f.name == "libqxcb.so"]
    if not files or shutil.which("ldd") is None:
        pytest.skip("this PySide6 has no xcb plugin, or this machine no ldd")
    return files[0]


def test_a_missing_dependency_of_the_real_plugin_is_listed(tmp_path):
    plugin = qt_xcb_plugin()
    # the plugin finds Qt's libraries at $ORIGIN/../../lib: the copy finds the same ones
    (tmp_path / "plugins" / "platforms").mkdir(parents=True)
    (tmp_path / "lib").symlink_to(plugin.parents[2] / "lib")
    copy = tmp_path / "plugins" / "platforms" / "libqxcb.so"
    data = plugin.read_bytes()
    assert data.count(b"libxcb-cursor.so.0\0") == 1
    copy.write_bytes(data.replace(b"libxcb-cursor.so.0\0", b"libxcb-nocurs.so.0\0"))
    missing = display_check.missing_libraries([copy])
    assert "libxcb-nocurs.so.0" in missing
    assert not any(name.startswith("libQt6") for name in missing)  # the copy found Qt's own libraries


def test_every_x11_library_the_plugin_loads_has_its_package():
    out = subprocess.run(["ldd", str(qt_xcb_plugin())], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0] for line in out.splitlines() if "=>" in line}
    x11 = {n for n in names if n.startswith(("libxcb", "libxkb", "libX11", "libGL.", "libEGL", "libfontconfig"))}
    assert x11 and x11 <= set(display_check.PACKAGE_OF_LIBRARY), x11 - set(display_check.PACKAGE_OF_LIBRARY)
    packages = set(display_check.WINDOW_PACKAGES)
    assert {display_check.PACKAGE_OF_LIBRARY[n] for n in ("libxcb-cursor.so.0", "libxkbcommon-x11.so.0")} <= packages
