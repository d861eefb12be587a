"""gic.app: the PySide6 viewer and the command line. Imports Qt lazily so the CLI stays light."""
