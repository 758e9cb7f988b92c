# Shared by the bench scripts: source it, do not run it.

# A free TCP port on 127.0.0.1 (the bench tools cannot all bind port 0).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# Wait until something listens on PORT, without connecting (one-shot
# servers such as `iperf3 -s -1` or `nc -l` must keep their one accept).
wait_port() {
  for _ in $(seq 300); do ss -ltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.02; done
  echo "port $1 not ready" >&2
  return 1
}
