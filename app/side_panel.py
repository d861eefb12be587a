"""One side of the comparison: its codec and setting, and what its encode measured."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from . import jobs
from .encode_dialog import CodecInfo, kb_to_bpp, target_kb_spin


class SidePanel(QGroupBox):
    """One side: codec, quality or target bpp, and the measured size, bpp, PSNR, LPIPS."""

    encode_requested = Signal()
    match_requested = Signal()
    settings_changed = Signal()  # codec, mode, quality or target changed by the user or a preset

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._infos: dict[str, CodecInfo] = {}
        self.codec_combo = QComboBox()
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["Quality", "Target bpp", "Target size (kB)"])
        self.quality_spin = QSpinBox()
        self.bpp_spin = QDoubleSpinBox()
        self.bpp_spin.setRange(0.005, 24.0)
        self.bpp_spin.setDecimals(3)
        self.bpp_spin.setSingleStep(0.05)
        self.bpp_spin.setValue(0.25)
        self.kb_spin = target_kb_spin()
        self.encode_button = QPushButton("Encode")
        self.match_button = QPushButton("Match other side's bpp")
        self.match_button.setToolTip("Search this codec's quality for the other side's bitrate")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        self.result_label = QLabel("–")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setMinimumWidth(260)

        self.codec_combo.currentIndexChanged.connect(self._on_codec)
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        self.encode_button.clicked.connect(self.encode_requested)
        self.match_button.clicked.connect(self.match_requested)
        for signal in (self.codec_combo.currentIndexChanged, self.mode_combo.currentIndexChanged,
                       self.quality_spin.valueChanged, self.bpp_spin.valueChanged, self.kb_spin.valueChanged):
            signal.connect(self.settings_changed)
        form = QFormLayout()
        form.addRow("Codec", self.codec_combo)
        row = QHBoxLayout()
        row.addWidget(self.mode_combo)
        row.addWidget(self.quality_spin, 1)
        row.addWidget(self.bpp_spin, 1)
        row.addWidget(self.kb_spin, 1)
        form.addRow("Setting", row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.encode_button)
        buttons.addWidget(self.match_button)
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        outer.addLayout(left, 3)
        outer.addWidget(self.result_label, 2)
        self._on_mode()

    def set_codecs(self, infos: list[CodecInfo], preferred: list[str]) -> None:
        current = self.codec_combo.currentData()
        self._infos = {i.name: i for i in infos}
        self.codec_combo.blockSignals(True)
        self.codec_combo.clear()
        for i in infos:
            self.codec_combo.addItem(i.name, i.name)
        self.codec_combo.blockSignals(False)
        for name in ([current] if current else []) + preferred:
            if name in self._infos:
                self.codec_combo.setCurrentIndex(self.codec_combo.findData(name))
                break
        self._on_codec()

    def set_codec(self, name: str) -> None:
        self.codec_combo.setCurrentIndex(self.codec_combo.findData(name))

    @Slot()
    def _on_codec(self) -> None:
        info = self._infos.get(self.codec_combo.currentData())
        if info is None:
            return
        lo, hi = info.quality_range
        self.quality_spin.setRange(lo, hi)
        self.quality_spin.setValue(min(hi, max(lo, info.default_quality)))

    @Slot()
    def _on_mode(self) -> None:
        mode = self.mode_combo.currentIndex()
        for k, spin in enumerate((self.quality_spin, self.bpp_spin, self.kb_spin)):
            spin.setVisible(k == mode)

    def set_target_bpp(self, bpp: float) -> None:
        self.mode_combo.setCurrentIndex(1)
        self.bpp_spin.setValue(bpp)

    def set_quality(self, q: int) -> None:
        self.mode_combo.setCurrentIndex(0)
        self.quality_spin.setValue(q)

    def set_target_kb(self, kb: float) -> None:
        self.mode_combo.setCurrentIndex(2)
        self.kb_spin.setValue(kb)

    def request(self, device: str, shape: tuple[int, ...]) -> jobs.EncodeRequest:
        """The encode these settings ask for (a size target is the bpp of that size at `shape`)."""
        name, mode = self.codec_combo.currentData(), self.mode_combo.currentIndex()
        if mode == 0:
            return jobs.EncodeRequest(codec=name, quality=self.quality_spin.value(), device=device)
        bpp = self.bpp_spin.value() if mode == 1 else kb_to_bpp(self.kb_spin.value(), shape)
        return jobs.EncodeRequest(codec=name, bpp=bpp, device=device)

    def show_result(self, res: jobs.SideResult | None, message: str = "", *, stale: bool = False) -> None:
        """The measured result; `stale`: shown over a note that the settings have changed since."""
        if res is None:
            self.result_label.setText(message or "–")
            return
        e, m = res.encode, res.metrics
        lines = [f"<b>{e.request.codec}</b> at quality {e.quality}",
                 f"File size: {len(e.data):,} bytes ({len(e.data) / 1000:.1f} kB)", f"bpp: {e.bpp:.4f}"]
        lines.append(f"PSNR: {m['psnr']:.2f} dB" if "psnr" in m else "PSNR: –")
        lines.append(f"LPIPS: {m['lpips']:.4f}" if "lpips" in m else "LPIPS: –")
        # the same number of lines either way: the panel (and the picture above it) keep their size
        lines.append(f"<span style='color:#e0a040'><b>Stale</b>: {message or 're-encoding'}…</span>" if stale
                     else f"encode {e.seconds:.2f} s")
        self.result_label.setText("<br>".join(lines))
