"""Registers the codecs that ship with gic. Each module registers itself on import."""
