"""One module per command: an options dataclass and ``run(options, context)``."""
