"""Temporary: the page's place in the url table until its view lands."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def placeholder(title):
    @login_required
    def view(request, **kwargs):
        return render(request, "web/placeholder.html", {"page_title": title})
    return view
