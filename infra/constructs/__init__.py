"""One construct per concern of the pipeline.

Imported as `infra.constructs.<module>`: infra/ itself must never be on sys.path, or this package
would shadow the `constructs` library (app.py takes care of that).
"""
