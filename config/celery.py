import os
from pathlib import Path

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from config import broker_fix
from core.logging import request_id_get, request_id_set

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

broker_fix.install()

app = Celery("sqg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare_filesystem_broker(sender, **kwargs):
    """The embedded broker keeps its messages in folders that must exist before anyone publishes.

    After configure, not on configure: reading `sender.conf` inside on_configure configures the
    app again, which recursed until Python gave up (logged on every first use of the app)."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


# --- Request id: from the web request into the tasks it causes (issue 12, ops2) ----------------------
# The id travels as a header of the task message; the worker restores it for the task's logs, and
# the tasks a task publishes carry it on. A task nobody's request caused (beat) logs under its own id.
REQUEST_ID_TASK_HEADER = "request_id"


@before_task_publish.connect(dispatch_uid="config.celery.request_id_onto_message")
def _request_id_onto_message(headers=None, **kwargs) -> None:
    request_id = request_id_get()
    if headers is not None and request_id and not headers.get(REQUEST_ID_TASK_HEADER):
        headers[REQUEST_ID_TASK_HEADER] = request_id


@task_prerun.connect(dispatch_uid="config.celery.request_id_into_worker")
def _request_id_into_worker(task_id=None, task=None, **kwargs) -> None:
    request = task.request if task is not None else None
    carried = getattr(request, REQUEST_ID_TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        REQUEST_ID_TASK_HEADER)
    request_id_set(carried or f"task-{task_id}")


@task_postrun.connect(dispatch_uid="config.celery.request_id_out_of_worker")
def _request_id_out_of_worker(**kwargs) -> None:
    request_id_set(None)
