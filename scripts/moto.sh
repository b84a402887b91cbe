# Sourced by scripts/test and scripts/bench: starts a moto server on a free
# loopback port, stops it when the calling script exits, and points every
# AWS client at it only (never at a real account).
. "$(dirname "${BASH_SOURCE[0]}")/at_exit.sh"
start_moto() {
  local venv=$1
  mkdir -p target
  moto_port_file=$(mktemp -u /tmp/galley-moto-port.XXXXXX)
  "$venv/bin/python" scripts/moto_server.py "$moto_port_file" > target/moto.log 2>&1 &
  moto_pid=$!
  galley_at_exit 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$moto_port_file"' 
  for _ in $(seq 1 300); do
    [ -s "$moto_port_file" ] && break
    kill -0 "$moto_pid" 2>/dev/null || { cat target/moto.log; echo "moto failed to start" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$moto_port_file" ] || { echo "moto did not start within 30 s" >&2; exit 1; }
  local port
  port=$(cat "$moto_port_file")
  echo "==> moto server on 127.0.0.1:$port (pid $moto_pid)"
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
}
