"""The API's JSON renderer: a response never fails to render because of the text it carries."""

from __future__ import annotations

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # Text that is not valid Unicode (a lone surrogate stored before the parsers refused it)
            # cannot be written as UTF-8; escaped as \uXXXX it is still valid JSON and nothing is lost.
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
