"""Rate-distortion and speed benchmark of registered codecs (`gic bench`).

`runner` sweeps codecs over images and writes CompressAI-style JSON plus a per-image CSV,
`bdrate` summarises curves against an anchor, `speed` times codecs in fresh processes, `plots`
draws the RD curves and `command` is the CLI front end.
"""
