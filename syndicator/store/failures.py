"""Database failures in the project's own words.

An operator reading a :class:`StorageError` needs to know which database and
what went wrong, said once: not SQLAlchemy's wrapper text with the SQL
statement and a link to SQLAlchemy's website. The original exception stays the
error's ``__cause__`` (the store branches on ``IntegrityError``, and tracebacks
keep it); :func:`storage_error` marks the message as already saying what the
cause says, so ``str()`` does not repeat it.
"""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from syndicator.errors import StorageError

EXPECTED_URLS = "sqlite:///PATH or postgresql://USER@HOST/DB"

_DRIVER_EXTRAS = {"psycopg": "postgres"}
"""Driver module → the extra of ``syndicator`` that installs it."""


def plain(exc: BaseException) -> str:
    """The failure in one line: the database driver's own message where there is one."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
    elif isinstance(exc, SQLAlchemyError):
        text = str(exc.args[0]) if exc.args else ""  # without the "Background on…" link
    else:
        text = str(exc)
    return " ".join(text.split()) or type(exc).__name__


def storage_error(message: str, exc: BaseException) -> StorageError:
    """A :class:`StorageError` saying ``message: <what the driver said>``.

    Raise it ``from exc``: the cause is kept, but not repeated in ``str()``.
    """
    return worded(f"{message}: {plain(exc)}")


def worded(message: str) -> StorageError:
    """A :class:`StorageError` whose message says all there is to say about its cause."""
    error = StorageError(message)
    error.cause_worded = True
    return error


def engine_error(url: URL, exc: Exception) -> StorageError:
    """Why no engine could be made for ``url``: a missing driver, an unknown kind of database."""
    shown = url.render_as_string(hide_password=True)
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        module = exc.name.partition(".")[0]
        extra = _DRIVER_EXTRAS.get(module)
        install = f"pip install 'syndicator[{extra}]'" if extra else f"pip install {module}"
        return worded(
            f"database: {shown} needs the Python package {module!r}, which is not "
            f"installed; install it with: {install}"
        )
    if isinstance(exc, NoSuchModuleError):
        return worded(
            f"database: {shown}: unknown kind of database {url.drivername!r}; "
            f"expected {EXPECTED_URLS}"
        )
    return storage_error(f"database: cannot use {shown}", exc)


def invalid_url(url: str) -> StorageError:
    """``url`` could not be parsed at all (raise it ``from`` the parser's error)."""
    return worded(f"database: {url!r} is not a database URL; expected {EXPECTED_URLS}")
