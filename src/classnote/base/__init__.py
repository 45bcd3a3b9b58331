"""The bottom layer: what every other part of classnote shares and nothing in classnote is below.

``errors`` (the one way to refuse), ``roles`` (the roles and their named sets), ``requests`` (the
typed request of a signed-in view), ``ids`` (ids from form fields) and ``inventory`` (how a model
declares its fields for the data inventory). Nothing here imports another classnote package;
import-linter checks that in ``make test``.
"""
