"""manage.py run_worker: the task-queue worker (a django-q2 cluster) that stops when asked.

django-q2's own ``qcluster`` stops the cluster from inside its signal handler: it sets a
multiprocessing Event and joins the sentinel process right there. A second signal during
that stop (Ctrl-C reaches every process of the terminal's group, then a supervisor sends
SIGTERM) re-enters the handler, which waits for the Event's lock that the interrupted
first handler holds; ``Event.set()`` also waits for good for a sentinel that was killed
while it waited on the Event. From then on the process ignores SIGTERM and SIGINT and
only SIGKILL ends it. Here the handler only records the request; the main loop stops the
cluster once, outside signal context, and gives up if the sentinel is already gone.
"""

import gc
import logging
import signal
import time
from multiprocessing.connection import wait as wait_until_ready
from threading import Thread
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection
from django_q.cluster import Cluster
from django_q.conf import Conf

from fangkong.core.tasks import queue_heartbeat

logger = logging.getLogger("fangkong.worker")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
POLL_SECONDS = 0.2


class StopRequest:
    """Remembers the first stop signal; doing nothing else in the handler keeps it safe."""

    def __init__(self) -> None:
        self.signal_name = ""

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._record)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.signal_name = self.signal_name or signal.Signals(signum).name


def sentinel_has_exited(cluster: Cluster) -> bool:
    """Whether the sentinel process ended, without reaping it (its join may be waiting)."""
    return bool(wait_until_ready([cluster.sentinel.sentinel], timeout=0))


def stop_cluster(cluster: Cluster) -> bool:
    """Stop the cluster, letting running tasks finish; False if it was not a clean stop.

    The stop runs in a thread so that a sentinel which died without answering the stop
    Event (killed by a signal sent to the whole process group) cannot hang this process.
    """
    stopped: list[bool] = []
    stopper = Thread(target=lambda: stopped.append(cluster.stop()), name="stop", daemon=True)
    stopper.start()
    while stopper.is_alive():
        stopper.join(POLL_SECONDS)
        if stopper.is_alive() and sentinel_has_exited(cluster):
            stopper.join(1)  # the sentinel just finished: give stop() its last log line
            break
    return stopped == [True] and cluster.sentinel.exitcode == 0


def record_start() -> None:
    """Beat once now: /healthz is green from the start, not after the first scheduled beat
    (the scheduler's first round comes about half a minute later)."""
    queue_heartbeat()
    connection.close()  # the main process only waits from here on


class Command(BaseCommand):
    help = (
        "Run the task-queue worker (a django-q2 cluster); SIGTERM or Ctrl-C stops it "
        "once the tasks in progress are done."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = StopRequest()
        stop.install()  # before and after Cluster(), which installs django-q2's handlers
        cluster = Cluster()
        stop.install()
        cluster.start()
        record_start()
        logger.info(
            "worker started: cluster %s, pid %s, %s worker processes",
            cluster.name,
            cluster.pid,
            Conf.WORKERS,
        )
        while not stop.signal_name and not sentinel_has_exited(cluster):
            time.sleep(POLL_SECONDS)
        if not stop.signal_name:
            logger.error("worker stopped: its sentinel process exited on its own")
            raise SystemExit(1)
        logger.info("worker got %s: stopping after the tasks in progress", stop.signal_name)
        if not stop_cluster(cluster):
            logger.error(
                "worker stopped, not cleanly: its sentinel ended with %s",
                cluster.sentinel.exitcode,
            )
            raise SystemExit(1)
        logger.info("worker stopped")
        gc.freeze()  # leave the loaded app to the OS: a last collection took seconds
