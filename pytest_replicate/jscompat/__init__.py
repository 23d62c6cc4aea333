"""JavaScript semantics, in one place.

promptfoo is JavaScript, and its verdicts depend on how JavaScript treats values: what
``\\s`` and ``trim`` call whitespace, how ``String()`` and ``JSON.stringify`` print a value,
how ``new RegExp`` reads a pattern, how Nunjucks prints into a prompt. Whenever we emulate
such a rule, it lives here and every other module imports it, so each rule is written once.

- ``values``: JavaScript's view of values (whitespace, ``String()``, ``JSON.stringify``).
- ``nunjucks``: how template values print and behave in Nunjucks, free of Jinja2.
- ``regex``: JavaScript regular expressions, translated for and run with the ``regex`` package (with a time limit).
- ``json_schema``: the JSON Schema keywords whose meaning is JavaScript's (Ajv's patterns).

A JavaScript engine, if one is ever embedded, belongs here too. This package sits at the
bottom of the import layers: it imports nothing from the plugin but ``errors`` and ``text``.
"""
