"""Signing in and out, and the language switch (remembered per user)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notifications.selectors import user_language
from notifications.user_settings import notification_profile_set_language


def _with_language_cookie(response, language: str):
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
                        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


class SignInView(auth_views.LoginView):
    """Every role signs in here, whether or not it may use the admin, and lands on its home
    in the language it chose last time."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        language = user_language(form.get_user())
        translation.activate(language)
        return _with_language_cookie(response, language)


@require_POST
def language_switch(request):
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language()
    elif request.user.is_authenticated:
        notification_profile_set_language(user=request.user, language=language)
    return _with_language_cookie(HttpResponseRedirect(target), language)
