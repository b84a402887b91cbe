# Sourced by scripts/test: starts localstripe (a stateful Stripe emulator
# from PyPI) on a free loopback port with an empty store, stops it when the
# calling script exits, and points the Stripe tests at it (never at Stripe).
. "$(dirname "${BASH_SOURCE[0]}")/at_exit.sh"
start_localstripe() {
  local venv=$1 port
  mkdir -p target
  port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/localstripe" --port "$port" --from-scratch > target/localstripe.log 2>&1 &
  localstripe_pid=$!
  galley_at_exit 'kill "$localstripe_pid" 2>/dev/null || true; wait "$localstripe_pid" 2>/dev/null || true'
  for _ in $(seq 1 300); do
    "$venv/bin/python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
    kill -0 "$localstripe_pid" 2>/dev/null || { cat target/localstripe.log; echo "localstripe failed to start" >&2; exit 1; }
    sleep 0.1
  done
  echo "==> localstripe on 127.0.0.1:$port (pid $localstripe_pid)"
  export GALLEY_TEST_STRIPE_API="http://127.0.0.1:$port"
}
