"""The Celery app. Workers: `celery -A config worker`; beat: `celery -A config beat`."""

import os

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("convene")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def ensure_broker_folders(sender, **kwargs):
    """kombu's filesystem transport needs its folders to exist before anything is queued."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
        if key in options:
            os.makedirs(options[key], exist_ok=True)


@signals.task_prerun.connect
def check_database_connections(task=None, **kwargs):
    """What Django does before each request: drop connections that are broken or past
    CONN_MAX_AGE, so a kept connection (CELERY_DB_REUSE_MAX) survives a database restart.
    Not for eager tasks: they run inside the caller's request or transaction."""
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()
