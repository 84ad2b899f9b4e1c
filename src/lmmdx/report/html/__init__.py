"""HTML views: the self-contained report of a fit (:mod:`.document`), its parts as notebook
fragments (``_repr_html_``) and a batch's summary page (:mod:`.batch`)."""
