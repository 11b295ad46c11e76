#!/usr/bin/env bash
# Starts PostgreSQL and Redis on their standard local ports when they are not answering,
# installing them from Debian's packages first when they are missing. Idempotent.
set -euo pipefail

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "$name is up"; return 0; fi
    sleep 0.5
  done
  echo "$name did not come up" >&2
  return 1
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# PostgreSQL
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  apt_install postgresql
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
# Trust local TCP connections for the test user, as on the development machines.
hba=/etc/postgresql/$version/main/pg_hba.conf
hba_changed=0
if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  hba_changed=1
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
elif [ "$hba_changed" = 1 ]; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" postgres | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' postgres

# Redis
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping

# Chromium for the headless page check (test/app/events-page.e2e-spec.ts); ~25 s without recommends.
command -v chromium >/dev/null 2>&1 || apt_install --no-install-recommends chromium || echo "chromium not installed: the page check will not run" >&2
