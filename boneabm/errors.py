"""Errors a user can cause and fix, kept apart from bugs.

A ``UserError`` is reported as one clear message with exit status 2 and no traceback; anything else is a bug
and keeps its traceback.
"""


class UserError(Exception):
    """Bad input: a config, an override, a path. The message names the key, the value and what is allowed."""
