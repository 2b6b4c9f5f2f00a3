"""/favicon.ico: browsers, bookmarks and the admin ask for it whatever a page's <link rel="icon"> says;
it answers the product's SVG icon instead of a 404 in every access log."""

from __future__ import annotations

from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    return redirect(static("web/favicon.svg"), permanent=True)
