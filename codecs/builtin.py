"""Registers the codecs that ship with gic, in the order the CLI and the app list them.

Imported lazily by `registry` (first call to names()/create()), so importing the library stays cheap.
"""
from . import classical, downscaled

# Learned codecs first: they are what gic is about (the CLI's default is "progic" when registered).
# --- learned codecs (lead) -------------------------------------------------------------------
from . import progic  # noqa: E402

progic.register_default()

# --- classical codecs through Pillow, at full and at reduced resolution ----------------------
classical.register_all()
downscaled.register_all()
