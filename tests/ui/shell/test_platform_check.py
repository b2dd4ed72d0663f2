"""`studio` on a Linux without Qt's xcb libraries: one line with the apt fix, exit 2,
before any QApplication is created (Qt itself would abort with no package name)."""
import pytest

from studio.ui.shell import app, platform_check


def _missing_cursor(soname: str) -> bool:
    return soname != "libxcb-cursor.so.0"


@pytest.mark.parametrize("environ,expected", [
    ({}, "xcb"), ({"QT_QPA_PLATFORM": "xcb"}, "xcb"), ({"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"), ({"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
])
def test_platform_qt_will_pick(environ, expected):
    assert platform_check.platform_name(environ, "linux") == expected
    assert platform_check.platform_name(environ, "win32") == ""


def test_missing_xcb_cursor_exits_2_with_the_apt_line(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(platform_check, "_loads", _missing_cursor)
    monkeypatch.setattr(app, "create_app", lambda argv: pytest.fail("QApplication created anyway"))
    assert app.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "libxcb-cursor.so.0" in err[0] and err[0].endswith("sudo apt install libxcb-cursor0")


def test_offscreen_and_wayland_are_not_checked():
    never = lambda soname: False  # noqa: E731 - every library "missing"
    assert platform_check.problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", never) is None
    assert platform_check.problem({"WAYLAND_DISPLAY": "w"}, "linux", never) is None
    assert platform_check.problem({}, "linux", never) is not None
    assert platform_check.problem({}, "linux", lambda s: True) is None


def test_readme_lists_every_package_on_one_apt_line():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert platform_check.APT_LINE in readme


def test_app_logging_keeps_other_libraries_at_warnings():
    """The app logged every library at INFO: an ONNX export printed ~10 onnxscript lines."""
    import logging
    root, studio_log = logging.getLogger(), logging.getLogger("studio")
    saved = root.level, studio_log.level
    try:
        root.setLevel(logging.INFO)  # as the app's old logging.basicConfig(level=INFO) left it
        app.configure_logging()
        assert not logging.getLogger("onnxscript.optimizer").isEnabledFor(logging.INFO)
        assert not logging.getLogger("onnx_ir.passes").isEnabledFor(logging.INFO)
        assert logging.getLogger("studio.ui.run.panel").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(saved[0])
        studio_log.setLevel(saved[1])
