#!/usr/bin/env bash
# Start the task-queue worker and the web server together; Ctrl-C stops both.
set -euo pipefail
PY=.venv/bin/python
$PY manage.py qcluster >var/qcluster.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT
cat <<'TXT'

  fangkong (防控) demo — http://127.0.0.1:8000
  Password of every demo account: fangkong-demo
    admin (superuser) · group_admin · unit_admin · reporter · grid_worker · tracker
    guard · service_head · supervisor · window_staff · viewer
  Click first: log in as group_admin, type "sdly" in the search box of the
  Organisation page (finds 山东铝业), open it, then People and Import.
  API docs: http://127.0.0.1:8000/api/v1/docs · health: http://127.0.0.1:8000/healthz

TXT
$PY manage.py runserver 127.0.0.1:8000
