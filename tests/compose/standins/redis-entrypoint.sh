#!/bin/sh
# As upstream: `redis-server …` runs without protected mode (no bind given: all interfaces).
set -eu
if [ "${1:-}" = "redis-server" ]; then
  shift
  exec redis-server --protected-mode no "$@"
fi
exec "$@"
