"""The ``lmmdx`` command line."""
