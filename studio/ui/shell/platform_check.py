"""Before the QApplication exists: can Qt's X11 (xcb) platform plugin load here?

On a minimal Debian/Ubuntu the plugin's system libraries (libxcb-cursor0 first
of all) are missing and Qt aborts with a message that names a plugin, not the
package to install. We try to load the same libraries ourselves and, when any
is missing, print one line with the apt command instead. Nothing here imports Qt.
"""
from __future__ import annotations

import ctypes
import os
import sys

# Shared libraries that libqxcb.so and libQt6XcbQpa.so need, and their Debian/Ubuntu package.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
# The README's line: everything Qt needs on Linux, whether missing here or not.
APT_LINE = "sudo apt install " + " ".join(XCB_LIBRARIES.values()) + " libgl1"


def platform_name(environ=os.environ, system: str = sys.platform) -> str:
    """The platform plugin Qt will try first: QT_QPA_PLATFORM, else wayland in a
    Wayland session, else xcb (on Linux); "" elsewhere (Windows, macOS)."""
    if not system.startswith("linux"):
        return ""
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def problem(environ=os.environ, system: str = sys.platform, loads=None) -> str | None:
    """One line saying what to install, or None when Qt's window platform can start."""
    if platform_name(environ, system) != "xcb":
        return None
    missing = [soname for soname in XCB_LIBRARIES if not (loads or _loads)(soname)]
    if not missing:
        return None
    packages = " ".join(XCB_LIBRARIES[s] for s in missing)
    return (f"studio: Qt cannot open a window: system libraries for its X11 (xcb) platform are missing "
            f"({', '.join(missing)}). Install them with: sudo apt install {packages}")
