#!/usr/bin/env bash
# Load test: gunicorn (4 workers) on PostgreSQL with 1,000 credentials and 10,000 deployments,
# driven from a second process on loopback. Needs PostgreSQL at 127.0.0.1:5432 (user postgres).
#   bash bench/load.sh [--requests N] [--concurrency N] [--json-out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
DB=litecreds_load
PORT=${LOAD_PORT:-18765}
PASSWORD=load-admin-password-1

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export SECRET_KEY="load-bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
export LITECREDS_MASTER_KEY="load-bench-master-key-0123456789abcdef"
export LITECREDS_ENV_FILE="" ALLOWED_HOSTS="127.0.0.1" LITECREDS_ADMIN_PASSWORD="$PASSWORD"
export LITECREDS_LOGIN_FAILURE_LIMIT=1000

$PY - <<PYEOF
import psycopg
with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
    conn.execute("DROP DATABASE IF EXISTS $DB WITH (FORCE)")
    conn.execute("CREATE DATABASE $DB")
PYEOF
$PY -m litecreds.bootstrap > /dev/null
$PY bench/fill.py --credentials 1000 --deployments 10000
$PY manage.py collectstatic --noinput -v0

.venv/bin/gunicorn litecreds.wsgi --workers 4 --bind "127.0.0.1:$PORT" --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break
  sleep 0.2
done

$PY bench/load.py --base "http://127.0.0.1:$PORT" --password "$PASSWORD" "$@"
