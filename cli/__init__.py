"""The `gic` command line: the product's front door, not the viewer's (no Qt unless `gic view`)."""
