"""French and English: Babel catalogs, the request's locale, and locale-aware formatting.

`catalogs` loads (and compiles) the `.po` files, `context` holds the locale of the request or
job at hand, `negotiation` chooses it, `formatting` writes dates, numbers and money for it.
"""
