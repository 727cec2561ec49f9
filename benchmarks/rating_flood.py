"""Benchmark: the rating page under a flood, and the other pages meanwhile.

Claim (issue 15, "the rating page under a flood"): rating-page GETs and POSTs at a
sustained rate from many addresses are answered (a rating, or 429 once an address or a
device is over its limit, never an error), and ``/healthz`` and a logged-in page keep
serving during the flood.

Set-up (not timed): a service centre, a station, a window and its staff member
(``evaluation.tests.helpers.build_centre``) and ``--cases`` registered cases, each with
its rating link. gunicorn then serves ``config.wsgi`` with the production settings on the
same database, trusting 127.0.0.1 as its proxy, so each simulated person's address comes
in ``X-Forwarded-For`` as a TLS proxy would write it (``core.network``). ``--addresses``
addresses take turns; every person opens a case's rating page (GET, which sets the device
cookie) and rates it (POST, ``multipart/form-data`` as the page's form sends it, level and
tags), open loop at ``--rate`` ratings/s for ``--seconds`` s: latency is measured from each
person's scheduled start. Meanwhile one client opens ``/healthz`` and another the window
staff member's case-registration page (logged in), one request after another.

Reported: ratings/s answered, p50/p99 of GET and POST, 429s, errors (anything else than
200, 302, 429), the p99 of ``/healthz`` and of the logged-in page during the flood, and
the ratings stored (one per case that answered 302). Load average before and after.

Run: ``.venv/bin/python benchmarks/rating_flood.py`` (SQLite) or inside
``bash scripts/with-postgres.sh`` (PostgreSQL). The last stdout line is JSON.
"""

import argparse
import http.client
import re
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _support import (
    HOST,
    database_version,
    emit,
    gunicorn,
    load_average,
    machine,
    percentile,
    print_server_log,
    server_environment,
    setup_django,
    throwaway_database,
)

BOUNDARY = "----fangkong-bench"


def load(cases: int) -> tuple[list[str], str, Any]:
    """The centre, its staff and ``cases`` cases; their rating paths and the clerk."""
    from fangkong.evaluation import services
    from fangkong.evaluation.tests.helpers import build_centre
    from fangkong.testing import build_org

    centre = build_centre(build_org())
    paths = []
    for _ in range(cases):
        case = services.case_register(actor=centre.clerk, service=centre.social)
        paths.append(f"/e/r/{services.case_token(case)}/")
    return paths, centre.clerk.username, centre.clerk


def multipart(fields: list[tuple[str, str]]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms: dict[str, list[float]] = {"get": [], "post": [], "healthz": [], "page": []}
        self.status: Counter[str] = Counter()

    def add(self, kind: str, status: int, ms: float) -> None:
        with self.lock:
            self.ms[kind].append(ms)
            self.status[f"{kind} {status}"] += 1


def request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **headers})
    answer = connection.getresponse()
    data = answer.read()
    return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data


def person(port: int, path: str, address: str, stats: Stats, scheduled: float) -> None:
    """Open the rating page, then rate 不满意 with a tag, as a phone's form does."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"X-Forwarded-For": address}
    try:
        status, answer, _body = request(connection, "GET", path, headers)
        stats.add("get", status, (time.perf_counter() - scheduled) * 1000)
        cookie = answer.get("set-cookie", "").split(";", 1)[0]
        started = time.perf_counter()
        body = multipart([("level", "2"), ("tags_2", "等候时间长"), ("text", "排队太久")])
        status, _answer, _body = request(
            connection,
            "POST",
            path,
            {
                **headers,
                "Cookie": cookie,
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            },
            body,
        )
        stats.add("post", status, (time.perf_counter() - started) * 1000)
    except OSError:
        stats.add("post", 0, 0.0)
    finally:
        connection.close()


def steady(port: int, path: str, kind: str, cookie: str, stats: Stats, stop: threading.Event):
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status, _h, _b = request(connection, "GET", path, {"Cookie": cookie} if cookie else {})
        except OSError:
            status = 0
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=60)
        stats.add(kind, status, (time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    connection.close()


def flood(port: int, paths: list[str], args: argparse.Namespace, cookie: str) -> Stats:
    stats = Stats()
    stop = threading.Event()
    watchers = [
        threading.Thread(target=steady, args=(port, "/healthz", "healthz", "", stats, stop)),
        threading.Thread(
            target=steady, args=(port, "/evaluation/cases/new/", "page", cookie, stats, stop)
        ),
    ]
    for watcher in watchers:
        watcher.start()
    total = min(len(paths), int(args.rate * args.seconds))
    start = time.perf_counter()
    people = []
    for n in range(total):
        scheduled = start + n / args.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        address = f"10.{(n % args.addresses) // 250}.{(n % args.addresses) % 250}.7"
        thread = threading.Thread(
            target=person, args=(port, paths[n], address, stats, scheduled), daemon=True
        )
        thread.start()
        people.append(thread)
    for thread in people:
        thread.join(timeout=120)
    stats.elapsed = time.perf_counter() - start  # type: ignore[attr-defined]
    stop.set()
    for watcher in watchers:
        watcher.join()
    return stats


def summary(stats: Stats, stored: int) -> dict[str, Any]:
    def p(kind: str, q: float) -> float:
        samples = stats.ms[kind]
        return round(percentile(samples, q), 1) if samples else 0.0

    posts = {k: v for k, v in stats.status.items() if k.startswith("post ")}
    errors = sum(v for k, v in stats.status.items() if k.split()[1] not in ("200", "302", "429"))
    return {
        "ratings_per_s": round(posts.get("post 302", 0) / stats.elapsed, 1),  # type: ignore[attr-defined]
        "get_p50_ms": p("get", 0.5),
        "get_p99_ms": p("get", 0.99),
        "post_p50_ms": p("post", 0.5),
        "post_p99_ms": p("post", 0.99),
        "status": dict(stats.status),
        "throttled_429": sum(v for k, v in stats.status.items() if k.endswith(" 429")),
        "errors": errors,
        "healthz_p99_ms": p("healthz", 0.99),
        "healthz_requests": len(stats.ms["healthz"]),
        "logged_in_page_p99_ms": p("page", 0.99),
        "logged_in_page_requests": len(stats.ms["page"]),
        "ratings_stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=30.0, help="ratings per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--addresses", type=int, default=500)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--cases", type=int, default=0, help="default: rate × seconds")
    args = parser.parse_args()
    cases = args.cases or int(args.rate * args.seconds)
    print(machine())
    with throwaway_database("rating_flood") as vendor:
        setup_django()
        from django.conf import settings
        from django.test import Client

        from fangkong.evaluation.models import Rating

        paths, _username, clerk = load(cases)
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        client.force_login(clerk)
        cookie = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        env = server_environment(SECRET_KEY=settings.SECRET_KEY, TRUSTED_PROXIES="127.0.0.1")
        with tempfile.TemporaryDirectory(prefix="fangkong-rating-flood-") as tmp:
            log = Path(tmp) / "gunicorn.log"
            with gunicorn(workers=args.workers, log=log, env=env) as (port, _server):
                warm = http.client.HTTPConnection(HOST, port, timeout=60)
                for _ in range(3):
                    request(warm, "GET", "/healthz", {})
                warm.close()
                before = load_average()
                print(f"load average before the flood: {before}")
                stats = flood(port, paths, args, cookie)
                after = load_average()
            print_server_log(log)
        stored = Rating.objects.count()
        result = {
            "benchmark": "rating_flood",
            "database": vendor,
            "version": database_version(),
            "rate": args.rate,
            "seconds": args.seconds,
            "addresses": args.addresses,
            "workers": args.workers,
            "load_before": before,
            "load_after": after,
            **summary(stats, stored),
        }
        for key, value in result.items():
            print(f"{key}: {value}")
        assert re.match(r"^\d", str(result["ratings_stored"]))
        emit(result)


if __name__ == "__main__":
    main()
