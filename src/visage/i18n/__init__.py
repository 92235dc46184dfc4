"""French and English: Babel catalogs, the request's locale, and locale-aware formatting.

`catalogs` loads (and compiles) the `.po` files, `context` holds the locale of the request or
job at hand, `negotiation` chooses it, `cookies` keeps it in the browser, `formatting` writes
dates, numbers and money for it, `errors` and `validation` translate the API's error messages.
"""
