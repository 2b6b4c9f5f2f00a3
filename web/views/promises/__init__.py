"""The promise pages: the list, the new-promise form with its live panels, the promise page."""

from .detail import promise_action, promise_detail
from .edit import promise_edit
from .listing import promise_list
from .new import category_fragment, evidence_fragment, promise_new

__all__ = ["category_fragment", "evidence_fragment", "promise_action", "promise_detail", "promise_edit", "promise_list",
           "promise_new"]
