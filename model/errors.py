class UserError(Exception):
    """A problem with what the user asked for (paths, files, options): reported in one line, no traceback."""
