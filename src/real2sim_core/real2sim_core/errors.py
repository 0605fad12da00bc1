"""Package exceptions: wrong input raises one of these with a message a user can act on."""

from __future__ import annotations

__all__ = ["Real2SimError", "InputError", "UnknownNameError", "TrajectoryFormatError",
           "failure_message"]


class Real2SimError(Exception):
    """Base class of every error the Real2Sim stack raises on purpose."""


class InputError(Real2SimError, ValueError):
    """Input (file, parameter, message) that cannot be used; the message says why and what to
    do."""


class UnknownNameError(InputError, KeyError):
    """A name (action, backend, policy kind) that is not in its registry."""

    def __init__(self, kind: str, name: str, known):
        self.kind, self.name, self.known = kind, name, sorted(known)
        super().__init__(f"unknown {kind} {name!r}; known {kind}s: {', '.join(self.known)}")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]


class TrajectoryFormatError(InputError):
    """A state-trajectory file or message that is malformed (names file, row/column, problem)."""


def failure_message(error: BaseException, what: str, refused: str = "") -> str:
    """The reason a request failed, for its reply: ``refused`` + the message of an error raised
    on purpose (:class:`Real2SimError`), else ``"<what> failed: <Type>: <message>"``."""
    if isinstance(error, Real2SimError):
        return f"{refused}{error}"
    return f"{what} failed: {type(error).__name__}: {error}"
