"""The Celery app. Workers: `celery -A config worker`; beat: `celery -A config beat`."""

import logging
import os
from functools import partial

from celery import Celery, signals
from django.db import close_old_connections, transaction
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

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
    CONN_MAX_AGE (with the pool: hand them back, the next query takes a checked one), so a
    kept connection (CELERY_DB_REUSE_MAX) survives a database restart.
    Not for eager tasks: they run inside the caller's request or transaction."""
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


def enqueue_on_commit(task, *args, **options):
    """Queue `task(*args)` once the current transaction commits; never raises.

    What a task acts on is committed by then and the beat scan finds it if the message is
    lost, so a broker that cannot be reached is logged, not reported to the person whose
    request has already succeeded.
    """
    transaction.on_commit(partial(enqueue_logged, task, *args, **options))


def enqueue_logged(task, *args, **options):
    """Queue `task(*args)` now (`options` as apply_async's); a broker that cannot be reached
    is logged, never raised (see enqueue_on_commit)."""
    try:
        task.apply_async(args=args, **options)
    except OperationalError as error:  # kombu's: the broker could not be reached
        log.error("Broker unavailable, %s%r left for the scan: %s", task.name, args, error)
