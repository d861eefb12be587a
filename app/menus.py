"""The main window's menus and toolbar: every action, its shortcut and the slot it runs.

Kept apart from the window class so MainWindow holds behaviour, not a hundred lines of wiring;
`shortcut_rows` reads the built menus back for the shortcuts dialog.
"""
from __future__ import annotations

import functools

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMenuBar

from . import settings

ZOOM_PRESETS = (1, 2, 3, 4)  # digit n zooms to n x 100%


def action(w, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
    """A QAction of window `w` running `slot`, with an optional shortcut and tip."""
    a = QAction(text, w)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    if tip:
        a.setStatusTip(tip)
    a.setCheckable(checkable)
    (a.toggled if checkable else a.triggered).connect(slot)
    return a


def build_actions(w) -> None:
    """Create window `w`'s menus, actions (as attributes of w) and toolbar."""
    mb = w.menuBar()
    m = mb.addMenu("&File")
    w.open_action = action(w, "&Open…", w.open_dialog, QKeySequence.StandardKey.Open,
                          "Open a .gic file or an image")
    m.addAction(w.open_action)
    w.recent_menu = m.addMenu("Open &Recent")
    w.recent_menu.aboutToShow.connect(w._fill_recent_menu)
    w.attach_action = action(w, "Attach &original…", w.attach_original_dialog, "Ctrl+Shift+O",
                            "Load the uncompressed image to measure PSNR and LPIPS")
    m.addAction(w.attach_action)
    w.save_action = action(w, "&Save encoded as…", w.save_dialog, QKeySequence.StandardKey.Save,
                          "Save the encoded file (.gic) atomically")
    m.addAction(w.save_action)
    w.export_action = action(w, "&Export layer as PNG…", w.export_dialog, "Ctrl+Shift+E",
                            "Save the layer on screen as a PNG")
    m.addAction(w.export_action)
    m.addSeparator()
    m.addAction(action(w, "&Quit", w.close, QKeySequence.StandardKey.Quit))

    m = mb.addMenu("&View")
    # Zoom acts on the view on screen (the viewer's, or the comparison's), with plain keys as well
    # as Ctrl+key: 0 fits, 1-4 are 100-400%. A text field with focus still gets its digits.
    w.fit_action = action(w, "&Fit to window", lambda: w.on_active_view(lambda v: v.fit()))
    w.fit_action.setShortcuts([QKeySequence("Ctrl+0"), QKeySequence("0")])
    w.zoom_actions = {}
    for n in ZOOM_PRESETS:
        a = action(w, f"Zoom &{100 * n}%", functools.partial(w.on_active_view, lambda v, z=n: v.set_zoom(z)))
        a.setShortcuts([QKeySequence(f"Ctrl+{n}"), QKeySequence(str(n))])
        w.zoom_actions[n] = a
    w.zoom100_action, w.zoom200_action = w.zoom_actions[1], w.zoom_actions[2]
    w.zoom_in_action = action(w, "Zoom &in", lambda: w.on_active_view(lambda v: v.zoom_by(1.25, anchor_under_mouse=False)))
    w.zoom_in_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.ZoomIn), QKeySequence("+"),
                                   QKeySequence("=")])
    w.zoom_out_action = action(w, "Zoom &out", lambda: w.on_active_view(lambda v: v.zoom_by(0.8, anchor_under_mouse=False)))
    w.zoom_out_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.ZoomOut), QKeySequence("-")])
    for a in (w.fit_action, *w.zoom_actions.values(), w.zoom_in_action, w.zoom_out_action):
        m.addAction(a)
    m.addSeparator()
    w.prev_layer_action = action(w, "&Previous layer", lambda: w._step_layer(-1), "[")
    w.next_layer_action = action(w, "&Next layer", lambda: w._step_layer(+1), "]")
    m.addAction(w.prev_layer_action)
    m.addAction(w.next_layer_action)
    w.heatmap_action = QAction("LPIPS &heatmap", w)
    w.heatmap_action.setShortcut(QKeySequence("H"))
    w.heatmap_action.setCheckable(True)
    w.heatmap_action.toggled.connect(w.heatmap_check.setChecked)
    w.heatmap_check.toggled.connect(w.heatmap_action.setChecked)
    m.addAction(w.heatmap_action)
    m.addSeparator()
    for i, name in enumerate(("&Viewer", "&Compare", "&RD plot")):
        m.addAction(action(w, name, functools.partial(w.tabs.setCurrentIndex, i), f"Alt+{i + 1}"))

    m = mb.addMenu("&ROI")
    w.roi_paint_action = QAction("&Paint ROI", w)
    w.roi_paint_action.setShortcut(QKeySequence("R"))
    w.roi_paint_action.setCheckable(True)
    w.roi_paint_action.toggled.connect(w._set_roi_active)
    w.roi_editor.active_changed.connect(w.roi_paint_action.setChecked)
    m.addAction(w.roi_paint_action)
    w.roi_show_action = QAction("&Show ROI overlay", w)
    w.roi_show_action.setShortcut(QKeySequence("O"))
    w.roi_show_action.setIconText("ROI overlay")  # the toolbar's shorter label
    w.roi_show_action.setCheckable(True)
    w.roi_show_action.setChecked(w.roi_editor.overlay_shown)
    w.roi_show_action.setStatusTip("Draw the ROI mask over the image (hidden after a re-encode and when a "
                                   "file with a stored ROI opens)")
    w.roi_show_action.toggled.connect(w.roi_editor.set_overlay_shown)
    w.roi_editor.overlay_shown_changed.connect(w.roi_show_action.setChecked)
    m.addAction(w.roi_show_action)
    w.roi_brush_action = action(w, "&Brush", lambda: w._roi_mode("brush"), "B")
    w.roi_eraser_action = action(w, "&Eraser", lambda: w._roi_mode("eraser"), "E")
    w.roi_rect_action = action(w, "Rec&tangle", lambda: w._roi_mode("rect"), "G")
    w.roi_undo_action = action(w, "&Undo", w.roi_editor.undo, QKeySequence.StandardKey.Undo)
    w.roi_redo_action = action(w, "&Redo", w.roi_editor.redo)
    w.roi_redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    w.roi_clear_action = action(w, "&Clear", w.roi_editor.clear, "Ctrl+Shift+Backspace")
    w.roi_invert_action = action(w, "&Invert", w.roi_editor.invert, "Ctrl+I")
    w.roi_load_action = action(w, "&Load mask…", w.load_mask_dialog)
    w.roi_save_action = action(w, "&Save mask…", w.save_mask_dialog)
    for a in (w.roi_brush_action, w.roi_eraser_action, w.roi_rect_action, None,
              w.roi_undo_action, w.roi_redo_action, w.roi_clear_action, w.roi_invert_action,
              None, w.roi_load_action, w.roi_save_action):
        m.addSeparator() if a is None else m.addAction(a)

    m = mb.addMenu("&Encode")
    w.encode_action = action(w, "&Re-encode…", w.reencode_dialog, "Ctrl+E",
                            "Encode the original (with the ROI) with any codec")
    w.cancel_action = action(w, "&Cancel running work", w.cancel_jobs, "Esc")
    m.addAction(w.encode_action)
    m.addAction(w.cancel_action)

    m = mb.addMenu("&Help")
    m.addAction(action(w, "&Keyboard shortcuts", w.show_shortcuts, QKeySequence.StandardKey.HelpContents))
    m.addAction(action(w, "&About", w.about))

    tb = w.addToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    tb.addAction(w.open_action)
    tb.addAction(w.save_action)
    tb.addAction(w.encode_action)
    tb.addSeparator()
    tb.addAction(w.fit_action)
    tb.addAction(w.zoom100_action)
    tb.addAction(w.roi_show_action)
    tb.addSeparator()
    tb.addWidget(QLabel(" Device "))
    w.device_combo = QComboBox()
    w.device_combo.addItem("cpu")
    w.device_combo.setToolTip("Where learned codecs and LPIPS run")
    w.device_combo.currentTextChanged.connect(lambda d: settings.put("device", d))
    tb.addWidget(w.device_combo)


def shortcut_rows(menubar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every menu action with a shortcut, plus the image view's own keys."""
    rows = []
    for top in menubar.actions():
        menu = top.menu()
        if menu is None:
            continue
        for a in menu.actions():
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
            if keys:
                rows.append((top.text().replace("&", ""), a.text().replace("&", ""), keys))
    rows += [("Image", "Zoom", "mouse wheel"), ("Image", "Pan", "drag, right or middle drag, arrow keys")]
    return rows
