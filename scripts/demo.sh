#!/usr/bin/env bash
# Start the task-queue worker and the web server together. Ctrl-C, SIGTERM (which
# `make` passes on to this script) or a closed terminal stops both within a few seconds,
# and when one of them ends the other is stopped too.
#   DEMO_PORT        port of the web server (8000)
#   DEMO_WORKER_LOG  the worker's log file (var/qcluster.log)
#   DATABASE_URL     as for every command (var/fangkong.sqlite3)
#   DEMO_PYTHON      the interpreter (.venv/bin/python)
set -uo pipefail # no -e: the stop below must run whatever the children answer
PY=${DEMO_PYTHON:-.venv/bin/python}
port=${DEMO_PORT:-8000}
worker_log=${DEMO_WORKER_LOG:-var/qcluster.log}
grace_tenths=80 # a task still running after 8 s is killed; the queue hands it out again

worker= web= napper=
any_left() { kill -0 -- "-$worker" 2>/dev/null || kill -0 -- "-$web" 2>/dev/null; }

stop_both() {
  trap '' INT TERM HUP # a second Ctrl-C must not cut the stop short
  [ -n "$napper" ] && kill "$napper" 2>/dev/null
  kill -TERM "$worker" 2>/dev/null         # the worker's main process only
  kill -TERM -- "-$web" 2>/dev/null        # runserver and its autoreloaded child
  local tenths=0
  while any_left && [ "$tenths" -lt "$grace_tenths" ]; do
    sleep 0.1
    tenths=$((tenths + 1))
  done
  if any_left; then
    echo "demo: still running after $((grace_tenths / 10)) s, killing" >&2
    kill -KILL -- "-$worker" "-$web" 2>/dev/null
  fi
  wait
}
trap 'stop_both; exit 130' INT
trap 'stop_both; exit 143' TERM
trap 'stop_both; exit 129' HUP

# Job control gives each child a process group of its own, so a Ctrl-C reaches only this
# script, which then asks each child once to stop. The worker's own processes (sentinel,
# pusher, monitor, workers) must hear it from the worker, not from the terminal.
set -m
PYTHONUNBUFFERED=1 $PY manage.py run_worker </dev/null >"$worker_log" 2>&1 &
worker=$!
$PY manage.py runserver "127.0.0.1:$port" </dev/null &
web=$!
set +m

cat <<TXT

  fangkong (防控) demo — http://127.0.0.1:$port
  Password of every demo account: fangkong-demo
    admin (superuser) · group_admin · unit_admin · reporter · grid_worker · tracker
    guard · service_head · supervisor · window_staff · viewer
  Click first: log in as group_admin, type "sdly" in the search box of the
  Organisation page (finds 山东铝业), open it, then People and Import.
  API docs: http://127.0.0.1:$port/api/v1/docs · health: http://127.0.0.1:$port/healthz
  The task queue writes to $worker_log. Ctrl-C stops both.

TXT
# `wait` returns as soon as a trapped signal arrives; the loop ends when either child does.
while kill -0 "$worker" 2>/dev/null && kill -0 "$web" 2>/dev/null; do
  sleep 1 &
  napper=$!
  wait "$napper" 2>/dev/null
done
echo "demo: the $(kill -0 "$web" 2>/dev/null && echo worker || echo web server) stopped; stopping the other" >&2
stop_both
exit 1
