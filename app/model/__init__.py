"""The viewer's model, without Qt: what is open (`Document`) and what is compared (`Comparison`).

The Qt window observes these and shows them, as napari's `components/` and `_qt/`: nothing here
imports PySide6 (tests/test_architecture.py reads the imports; a subprocess test checks
`sys.modules`), so the rules are tested without a window.
"""
from .comparison import Comparison
from .document import Document

__all__ = ["Comparison", "Document"]
