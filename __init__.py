"""apptk: a Keras 3 application toolkit."""

__version__ = "0.1.0"
