"""gic.codecs: the codec library (no Qt). Models, entropy coding, the .gic container, metrics."""
