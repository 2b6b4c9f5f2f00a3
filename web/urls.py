"""The product's pages. These paths are part of the public contract (README, "Pages").

Each area's module in `web/views/` owns its pages; an area that needs more urls (htmx fragments,
actions) adds them in its own block below.
"""

from django.urls import path

from web.views import account, assets, dashboard, feedback, gates, home, inbox, kvp, promises

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("search/", home.search, name="search"),
    path("language/", account.language_switch, name="language"),
    path("favicon.ico", assets.favicon, name="favicon"),
    # inbox
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:item_id>/read/", inbox.inbox_read, name="inbox-read"),
    path("inbox/read-all/", inbox.inbox_read_all, name="inbox-read-all"),
    # promises
    path("promises/", promises.promise_list, name="promise-list"),
    path("promises/new/", promises.promise_new, name="promise-new"),
    path("promises/<int:promise_id>/", promises.promise_detail, name="promise-detail"),
    path("promises/new/category/", promises.category_fragment, name="promise-new-category"),
    path("promises/new/evidence/", promises.evidence_fragment, name="promise-new-evidence"),
    path("promises/<int:promise_id>/edit/", promises.promise_edit, name="promise-edit"),
    path("promises/<int:promise_id>/<slug:action>/", promises.promise_action, name="promise-action"),
    # gates
    path("gates/", gates.gate_queue, name="gate-queue"),
    path("gates/<int:review_id>/decide/", gates.gate_decide, name="gate-decide"),
    # dashboard
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    # KVP board
    path("kvp/", kvp.kvp_board, name="kvp-board"),
    path("kvp/propose/", kvp.kvp_propose, name="kvp-propose"),
    path("kvp/<int:item_id>/", kvp.kvp_item, name="kvp-item"),
    path("kvp/<int:item_id>/<slug:move>/", kvp.kvp_move, name="kvp-move"),
    # feedback intake
    path("feedback/new/", feedback.feedback_new, name="feedback-new"),
    path("feedback/new/promises/", feedback.promise_search, name="feedback-promise-search"),
]
