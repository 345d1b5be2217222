"""Asset definitions, one module per stage. Each module exports `defs: dg.Definitions`."""
