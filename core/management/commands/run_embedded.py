"""Serve the app with a Celery worker and beat beside it: the embedded default of `make run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server with a Celery worker (and embedded beat) beside it."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, **options):
        worker = subprocess.Popen([
            sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--pool=solo",
            "--loglevel=INFO", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
        ])
        self.stdout.write(self.style.SUCCESS(
            f"Celery worker + beat started (pid {worker.pid}) on {settings.CELERY_BROKER_URL}"))
        stopping = threading.Event()

        def watch_worker() -> None:
            # Without its worker the app would look alive while no notification goes out: stop it all.
            code = worker.wait()
            if not stopping.is_set():
                self.stderr.write(self.style.ERROR(f"The Celery worker exited (code {code}); stopping."))
                os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=watch_worker, daemon=True).start()
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            stopping.set()
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
