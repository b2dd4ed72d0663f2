"""Plugs sweeps into the window: ⚲ markers in the inspector and the run
settings, and the Sweep tab beside Curves / Results / Dataset."""
from __future__ import annotations

from PySide6.QtWidgets import QScrollArea

from studio.ui.sweep.commands import SweepDoc
from studio.ui.sweep.markers import install_setting_markers, node_marker_factory
from studio.ui.sweep.panel import SweepPanel


def install(window, run_panel) -> SweepPanel:
    doc = SweepDoc(window)
    doc.undo_stack = getattr(window, "undo_stack", None)
    doc.set_project(window.project)
    inspector = getattr(window, "inspector", None)
    if inspector is not None and hasattr(inspector, "param_marker"):
        inspector.param_marker = node_marker_factory(doc)
        inspector.rebuild()
    run_panel.setting_markers = install_setting_markers(run_panel.form, doc)
    if hasattr(run_panel, "fit_form_width"):
        run_panel.fit_form_width()  # the markers widened the rows
    panel = SweepPanel(window, run_panel, doc)
    # Scrolls like the other tabs, so its content never makes the dock taller.
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(panel)
    run_panel.tabs.addTab(scroll, "Sweep")
    run_panel.shutdown_hooks = [*getattr(run_panel, "shutdown_hooks", []), panel.shutdown]
    if hasattr(window, "project_replaced"):
        window.project_replaced.connect(panel.set_project_from_window)
    panel.load_results({})
    window.sweep_panel = panel
    return panel
