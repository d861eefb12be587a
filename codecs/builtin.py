"""Registers the codec families that ship with gic, in the order the CLI and the app list them.

Imported lazily by `registry` (first call to specs()/names()/create()). Each family package has a
`register_all()` that registers specs only: no torch, no weights. Adding a family is one line here.
"""
import importlib

#: Learned families first: they are what gic is about.
FAMILIES = ("progic", "uigc", "mcdh", "classical", "downscaled")

for _family in FAMILIES:
    importlib.import_module(f"{__package__}.{_family}").register_all()
