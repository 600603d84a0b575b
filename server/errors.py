"""One root exception with typed subclasses; the CLI and the API turn them into one clear sentence."""


class StandingError(Exception):
    """Root of every error this project raises on purpose. str(err) is a sentence for the user."""

    status = 400  # HTTP status when it reaches the API


class BadInput(StandingError):
    status = 400


class NotFound(StandingError):
    status = 404


class Unauthorized(StandingError):
    status = 401


class Forbidden(StandingError):
    status = 403


class AccountError(StandingError):
    """Connecting or logging in to a mailbox failed; the message says why in one sentence."""

    status = 400
