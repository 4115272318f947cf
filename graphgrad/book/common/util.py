"""The book's `common.util`: graphgrad.book.util under the book's module path."""
from ..util import *  # noqa: F401,F403
from ..util import __all__  # noqa: F401
