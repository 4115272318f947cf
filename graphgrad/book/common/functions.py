"""The book's `common.functions`: graphgrad.book.functions under the book's module path."""
from ..functions import *  # noqa: F401,F403
from ..functions import __all__  # noqa: F401
