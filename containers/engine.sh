#!/usr/bin/env bash
# Make sure a Docker engine is reachable, and that the lab's egress guard is in place.
#
# Idempotent. When `docker info` already answers, the engine is left exactly as it is.
# Otherwise, on Debian/Ubuntu as root, it installs docker.io (and debootstrap, which
# containers/build-image.sh needs) from the distribution's packages, starts dockerd in the
# background with its log in $LAB_STATE_DIR/dockerd.log, and waits for the socket.
# In both cases the egress guard (DOCKER-USER rules that drop forwarding from docker bridges
# to any non-docker interface) is checked and, where we may, installed: the lab's network
# rule is that containers reach only loopback and each other.
#
# Exit codes: 0 engine reachable, 2 no engine and no way to get one here (with the remedy).
set -uo pipefail

STATE_DIR="${LAB_STATE_DIR:-/var/lib/smtp-tls-lab}"
SOCKET_WAIT_S="${LAB_DOCKERD_WAIT_S:-60}"

say() { printf 'engine: %s\n' "$*" >&2; }
die() { printf 'engine: error: %s\n' "$*" >&2; exit 2; }

engine_reachable() { timeout 10 docker info >/dev/null 2>&1; }

remedy() {
  cat >&2 <<'TXT'
engine: remedy: install and start a Docker engine, then run the lab again:
  - Debian/Ubuntu (as root): apt-get install docker.io && dockerd &   (or: systemctl start docker)
  - other Linux: install Docker Engine or Podman (with `podman system service` and
    DOCKER_HOST=unix:///run/podman/podman.sock) from your distribution
  - macOS/Windows: Docker Desktop, Colima or Podman Desktop
TXT
}

install_packages() {
  local need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  command -v iptables >/dev/null 2>&1 || need+=(iptables)
  [ ${#need[@]} -eq 0 ] && return 0
  say "installing ${need[*]} from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed; trying the install anyway"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >"$STATE_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "apt-get install ${need[*]} failed (log: $STATE_DIR/apt.log)"; }
}

start_dockerd() {
  # A session that was killed leaves its pid file behind, and a new dockerd refuses to start.
  if [ -f /var/run/docker.pid ] && ! pgrep -x dockerd >/dev/null 2>&1; then
    say "removing stale /var/run/docker.pid (no dockerd is running)"
    rm -f /var/run/docker.pid
  fi
  if ! pgrep -x containerd >/dev/null 2>&1 && [ -f /run/containerd/containerd.pid ]; then
    rm -f /run/containerd/containerd.pid
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    say "starting dockerd in the background (log: $STATE_DIR/dockerd.log)"
    nohup setsid dockerd >>"$STATE_DIR/dockerd.log" 2>&1 </dev/null &
  else
    say "dockerd is running but not answering yet; waiting for it"
  fi
  local waited=0
  until engine_reachable; do
    if [ "$waited" -ge "$SOCKET_WAIT_S" ]; then
      tail -n 20 "$STATE_DIR/dockerd.log" >&2 2>/dev/null
      die "timeout 'dockerd-socket' (${SOCKET_WAIT_S}s): /var/run/docker.sock did not answer (log: $STATE_DIR/dockerd.log)"
    fi
    sleep 1; waited=$((waited + 1))
  done
  say "dockerd answers after ${waited}s"
}

ensure_egress_guard() {
  if ! command -v iptables >/dev/null 2>&1; then
    say "warning: iptables not found, so the egress guard cannot be checked"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    iptables -S DOCKER-USER >/dev/null 2>&1 || say "warning: not root, cannot check the egress guard"
    return 0
  fi
  # dockerd creates DOCKER-USER when it starts; wait briefly for it rather than creating a
  # chain that dockerd would then not jump to.
  local i=0
  until iptables -S DOCKER-USER >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -gt 20 ] && { say "warning: no DOCKER-USER chain; egress guard not installed"; return 0; }
    sleep 0.5
  done
  local added=0 pos=1 rule
  # Order matters: the two RETURN rules keep container-to-container traffic, the DROPs stop
  # everything else that tries to leave a docker bridge.
  for rule in "-i docker0 -o docker0 -j RETURN" "-i br-+ -o br-+ -j RETURN" "-i docker0 -j DROP" "-i br-+ -j DROP"; do
    # shellcheck disable=SC2086
    if ! iptables -C DOCKER-USER $rule 2>/dev/null; then
      # shellcheck disable=SC2086
      iptables -I DOCKER-USER "$pos" $rule && added=$((added + 1))
    fi
    pos=$((pos + 1))
  done
  if [ "$added" -gt 0 ]; then say "egress guard: inserted $added DOCKER-USER rule(s)"; else say "egress guard: in place"; fi
}

main() {
  mkdir -p "$STATE_DIR" 2>/dev/null || STATE_DIR="$(mktemp -d)"
  if engine_reachable; then
    say "docker engine reachable; leaving it as it is"
    ensure_egress_guard
    exit 0
  fi
  # LAB_ENGINE_NO_INSTALL=1 behaves as a machine where nothing may be installed (tests use it).
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1 || [ "${LAB_ENGINE_NO_INSTALL:-}" = 1 ]; then
    say "no docker engine is reachable, and this is not Debian/Ubuntu as root"
    remedy; exit 2
  fi
  install_packages
  start_dockerd
  ensure_egress_guard
}

main "$@"
