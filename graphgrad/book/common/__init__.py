"""The textbook's `common` package: `from common.layers import *` becomes `from graphgrad.book.common.layers import *`."""
