"""codestand: a stateful, spec-driven stand-in for two vendors' code-issuing APIs."""

__version__ = "0.1.0"
