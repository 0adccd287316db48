"""The one request parser: DRF's JSON parser, with nesting bombs refused as a 400."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """A document nested deeper than Python's recursion limit (`[[[[…` a few KB long) makes
    json.loads raise RecursionError, which DRF does not catch: a 500 for 4 KB of input."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
