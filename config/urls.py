from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.health import health, ready
from config.metrics import metrics
from feedback.views import customer_rating
from promises.views import promise_status
from web.views.account import SignInView

urlpatterns = [
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("web.urls")),
    path("admin/", admin.site.urls),
    path("nested_admin/", include("nested_admin.urls")),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("health/ready/", ready, name="health-ready"),
    path("api/", include("api.urls")),
    path("status/<str:token>/", promise_status, name="promise-status"),
    path("status/<str:token>/rate/", customer_rating, name="promise-rate"),
]

# Under /api/ these answer in the API's JSON error shape; elsewhere they render the product's pages
# (web/templates/403.html, 404.html, 500.html).
handler403 = "api.errors.json_permission_denied"
handler404 = "api.errors.json_not_found"
handler500 = "api.errors.json_server_error"
