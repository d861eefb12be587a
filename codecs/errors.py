"""Error types the codec library raises on bad input (the CLI turns them into one-line messages)."""


class GicError(Exception):
    """Base class of every error the library raises for bad input or a bad file."""


class GicFormatError(GicError):
    """A .gic file is malformed, corrupt, truncated in its header, or from an unsupported version."""


class ModelMismatchError(GicFormatError):
    """A .gic file was written by a model whose weights differ from the ones loaded."""


class CodecError(GicError):
    """A codec cannot do what was asked (bad quality, unreadable image, unknown codec...)."""
