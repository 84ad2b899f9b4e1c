"""From a parsed formula and a data frame to the arrays the engine needs."""

from .design import Design, build_design, check_response, used_columns
from .random import ReBlock

__all__ = ["Design", "ReBlock", "build_design", "check_response", "used_columns"]
