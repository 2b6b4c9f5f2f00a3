from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from feedback import api as kvp
from notifications import api as notifications
from promises import api as promises
from qualitygates import api as gates

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("customers", promises.CustomerViewSet, basename="customer")
router.register("categories", promises.CategoryViewSet, basename="category")
router.register("promises", promises.PromiseViewSet, basename="promise")
router.register("gates", gates.GateReviewViewSet, basename="gate")
router.register("gate-conditions", gates.GateConditionViewSet, basename="gate-condition")
router.register("inbox", notifications.InboxViewSet, basename="inbox")
router.register("webhooks", notifications.WebhookViewSet, basename="webhook")
router.register("feedback", kvp.FeedbackViewSet, basename="feedback")
router.register("improvements", kvp.ImprovementViewSet, basename="improvement")
router.register("guidance", kvp.GuidanceViewSet, basename="guidance")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (`?script`): no inline script, as the CSP asks.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("me/", views.MeView.as_view(), name="me"),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    re_path(r"^categories/(?P<pk>[0-9]{1,18})/record/$", kvp.CategoryRecordView.as_view(), name="category-record"),
    path("", include(router.urls)),
]
