"""Views of results: lme4-like text and the JSON payloads (``--json``).

Formatting only; these functions read the attributes of the records they are given.
"""
