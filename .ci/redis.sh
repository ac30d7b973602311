# Redis for the queue's tests (SPEC §10), sourced by .ci/run: Debian's redis-server (installed with
# apt-get when missing) on a loopback port of its own, persistence off, daemonized with a pidfile so
# that stopping it prints nothing after the run's last line. Its URL goes to the suite in
# CELLSCAN_REDIS_URL; .ci/run also sets CELLSCAN_REQUIRE_REDIS=1, so a test that needs Redis fails
# (never skips) when this did not work.

redis_dir=""

start_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server: not installed; apt-get install redis-server"
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/tmp/cellscan-ci-apt.log 2>&1; then
      echo "redis-server: apt-get failed (log: /tmp/cellscan-ci-apt.log); the queue's tests will fail"
      return 1
    fi
  fi
  redis_dir="$(mktemp -d)"
  local port
  port="$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
  if ! redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --dir "$redis_dir" --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"; then
    echo "redis-server: would not start on 127.0.0.1:$port; the queue's tests will fail"
    return 1
  fi
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
    echo "redis-server: no answer on 127.0.0.1:$port after 10 s; the queue's tests will fail"
    tail -5 "$redis_dir/redis.log"
    return 1
  fi
  export CELLSCAN_REDIS_URL="redis://127.0.0.1:$port"
  echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $CELLSCAN_REDIS_URL (persistence off)"
}

stop_redis() {
  [ -n "$redis_dir" ] || return 0
  if [ -f "$redis_dir/redis.pid" ]; then kill "$(cat "$redis_dir/redis.pid")" 2>/dev/null; fi
  rm -rf "$redis_dir"
}
