"""errors.py: the one kind of error the compiler reports: a position and a message.

A CompileError prints as `file:line:column: error: message: offending text`, one line; the
driver prints it and exits with status 1, never with a traceback.
"""


class CompileError(Exception):
    def __init__(self, path, line, col, message, text=""):
        super().__init__(message)
        self.path, self.line, self.col, self.message, self.text = path, line, col, message, text

    def __str__(self):
        where = f"{self.path}:{self.line}:{self.col}"
        return f"{where}: error: {self.message}" + (f": {self.text}" if self.text else "")
