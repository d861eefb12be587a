"""The re-encode dialog: codec, quality, target bpp or target size, background quality outside the
ROI, device."""
from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QRadioButton, QSpinBox, QHBoxLayout, QWidget)

from gic.codecs.base import bits_per_pixel
from gic.codecs.registry import CodecSpec

from .jobs import EncodeRequest


class CodecInfo:
    """What the dialogs need to know about a codec: its registry spec's fields, no codec built."""

    def __init__(self, name: str, quality_range: tuple[int, int], default_quality: int,
                 supports_roi: bool, description: str = "", learned: bool = False, rank: int = 100,
                 baseline: bool = False, quality_labels: tuple[str, ...] = ()) -> None:
        self.name = name
        self.quality_range = quality_range
        self.default_quality = default_quality
        self.supports_roi = supports_roi
        self.description = description
        self.learned = learned
        self.rank = rank
        self.baseline = baseline
        self.quality_labels = quality_labels

    def quality_label(self, quality: int) -> str:
        """What `quality` means for this codec ("" where the spec says nothing more)."""
        i = quality - self.quality_range[0]
        return self.quality_labels[i] if 0 <= i < len(self.quality_labels) else ""

    @classmethod
    def from_spec(cls, spec: CodecSpec) -> "CodecInfo":
        return cls(spec.name, tuple(spec.quality_range), int(spec.default_quality), bool(spec.roi),
                   spec.description, spec.learned, spec.rank, spec.baseline, tuple(spec.quality_labels))


def kb_to_bpp(kb: float, shape: tuple[int, ...]) -> float:
    """The bits per pixel of a file of `kb` kilobytes (1 kB = 1000 bytes) for an image of `shape`:
    a size target is searched as this bpp target (the nearest size the codec's qualities reach)."""
    return bits_per_pixel(round(kb * 1000), shape)


def target_kb_spin() -> QDoubleSpinBox:
    """The spin box of a target file size in kB."""
    spin = QDoubleSpinBox()
    spin.setRange(0.1, 1_000_000.0)
    spin.setDecimals(1)
    spin.setSuffix(" kB")
    spin.setValue(20.0)
    spin.setToolTip("Target file size; 1 kB = 1000 bytes. The quality whose size is nearest is chosen.")
    return spin


class EncodeDialog(QDialog):
    """Asks how to encode; `request()` builds the EncodeRequest (the ROI is added by the caller)."""

    def __init__(self, codecs: list[CodecInfo], devices: list[str], *, current_codec: str | None = None,
                 device: str = "cpu", has_roi: bool = False, shape: tuple[int, ...] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Re-encode")
        self._codecs = {c.name: c for c in codecs}
        self.codec_combo = QComboBox()
        for c in codecs:
            self.codec_combo.addItem(c.name + ("  (ROI)" if c.supports_roi else ""), c.name)
            if c.description:
                self.codec_combo.setItemData(self.codec_combo.count() - 1, c.description,
                                             Qt.ItemDataRole.ToolTipRole)
        self.quality_radio = QRadioButton("Quality")
        self.bpp_radio = QRadioButton("Target bpp")
        self.kb_radio = QRadioButton("Target size")
        self._shape = shape
        self.kb_radio.setEnabled(shape is not None)  # a size needs the image's pixel count
        self.quality_radio.setChecked(True)
        self.quality_spin = QSpinBox()
        self.quality_note = QLabel()  # what the quality means, for codecs whose spec says
        self.bpp_spin = QDoubleSpinBox()
        self.bpp_spin.setRange(0.005, 24.0)
        self.bpp_spin.setDecimals(3)
        self.bpp_spin.setSingleStep(0.05)
        self.bpp_spin.setValue(0.25)
        self.kb_spin = target_kb_spin()
        self.background_spin = QSpinBox()
        self.background_spin.setSpecialValueText("codec default")
        self.device_combo = QComboBox()
        for d in devices:
            self.device_combo.addItem(d)
        if device in devices:
            self.device_combo.setCurrentText(device)
        self.roi_note = QLabel()
        self.roi_note.setWordWrap(True)
        self._has_roi = has_roi

        q_row = QHBoxLayout()
        q_row.addWidget(self.quality_radio)
        q_row.addWidget(self.quality_spin, 1)
        q_row.addWidget(self.quality_note)
        b_row = QHBoxLayout()
        b_row.addWidget(self.bpp_radio)
        b_row.addWidget(self.bpp_spin, 1)
        k_row = QHBoxLayout()
        k_row.addWidget(self.kb_radio)
        k_row.addWidget(self.kb_spin, 1)
        form = QFormLayout(self)
        form.addRow("Codec", self.codec_combo)
        form.addRow(q_row)
        form.addRow(b_row)
        form.addRow(k_row)
        form.addRow("Background quality (outside ROI)", self.background_spin)
        form.addRow("Device", self.device_combo)
        form.addRow(self.roi_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Encode")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

        self.codec_combo.currentIndexChanged.connect(self._on_codec)
        for radio in (self.quality_radio, self.bpp_radio, self.kb_radio):
            radio.toggled.connect(self._on_mode)
        self.quality_spin.valueChanged.connect(self._on_quality)
        if current_codec in self._codecs:
            self.codec_combo.setCurrentIndex(self.codec_combo.findData(current_codec))
        self._on_codec()
        self._on_mode()

    def codec_info(self) -> CodecInfo:
        return self._codecs[self.codec_combo.currentData()]

    @Slot()
    def _on_codec(self) -> None:
        info = self.codec_info()
        lo, hi = info.quality_range
        self.quality_spin.setRange(lo, hi)
        self.quality_spin.setValue(min(hi, max(lo, info.default_quality)))
        self._on_quality()
        # The background quality spin starts one below the range: that value means "codec default".
        self.background_spin.setRange(lo - 1, hi)
        self.background_spin.setValue(lo - 1)
        uses_roi = info.supports_roi and self._has_roi
        self.background_spin.setEnabled(uses_roi)
        if not self._has_roi:
            self.roi_note.setText("No ROI painted: the whole image gets the same quality.")
        elif info.supports_roi:
            self.roi_note.setText("The painted ROI gets the quality above; the rest the background quality.")
        else:
            self.roi_note.setText(f"{info.name} cannot use an ROI: it will be ignored.")

    @Slot()
    def _on_quality(self) -> None:
        text = self.codec_info().quality_label(self.quality_spin.value())
        self.quality_note.setText(text)
        self.quality_note.setVisible(bool(text))

    @Slot()
    def _on_mode(self) -> None:
        self.quality_spin.setEnabled(self.quality_radio.isChecked())
        self.bpp_spin.setEnabled(self.bpp_radio.isChecked())
        self.kb_spin.setEnabled(self.kb_radio.isChecked())

    def request(self) -> EncodeRequest:
        info = self.codec_info()
        bg = self.background_spin.value()
        bpp = None
        if self.bpp_radio.isChecked():
            bpp = self.bpp_spin.value()
        elif self.kb_radio.isChecked() and self._shape is not None:
            bpp = kb_to_bpp(self.kb_spin.value(), self._shape)
        return EncodeRequest(
            codec=info.name,
            quality=self.quality_spin.value() if bpp is None else None,
            bpp=bpp,
            background_quality=None if bg < info.quality_range[0] else bg,
            device=self.device_combo.currentText(),
        )
