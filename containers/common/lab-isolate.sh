#!/bin/sh
# First step of every lab container (Postfix and the lab client alike): take away its ways
# out, then run the given command without the power to put them back.
#
# Docker 20.10 gives a container on an --internal network a default route to the bridge; the
# egress guard drops what follows it, but a lab container should not have a route out at all.
# The container is started with NET_ADMIN only so that this script can delete the default
# routes; it then drops NET_ADMIN from the bounding set before exec, so neither Postfix nor
# anything it starts can add a route again. After this, a connection to any address outside
# the lab's subnet fails inside the container with "Network is unreachable": no packet leaves.
#
# Lines starting with "lab-isolate:" are read by the harness; a failure ends with
# "lab-isolate: FAILED <step>" and exit 78, so the container never runs with a route out.
set -u

say() { echo "lab-isolate: $*"; }
fail() { say "FAILED $*"; exit 78; }

[ "$#" -gt 0 ] || fail "usage: lab-isolate COMMAND [ARG...]"

# Resolver: lab DNS when the harness gives one, otherwise none. A lab container must never
# use the host's resolver (the file docker writes may point at it).
if [ -n "${LAB_DNS:-}" ]; then
  printf 'nameserver %s\n' "$LAB_DNS" > /etc/resolv.conf || fail "writing /etc/resolv.conf"
else
  printf '# smtp-tls-lab: no resolver (nothing listens here)\nnameserver 127.0.0.1\n' > /etc/resolv.conf || fail "writing /etc/resolv.conf"
fi

# Delete every default route, IPv4 and IPv6. `ip -6` fails harmlessly where IPv6 is off.
for family in -4 -6; do
  guard=0
  while [ -n "$(ip "$family" route show default 2>/dev/null)" ]; do
    out=$(ip "$family" route del default 2>&1) ||
      fail "deleting the default route ($family): $out (the container needs --cap-add NET_ADMIN for this step)"
    guard=$((guard + 1))
    [ "$guard" -lt 16 ] || fail "default route ($family) keeps coming back"
  done
done
left=$(ip -4 route show default 2>/dev/null; ip -6 route show default 2>/dev/null)
[ -z "$left" ] || fail "a route out remains: $left"
say "no route out of the lab subnet ($(ip -4 route show | tr '\n' ';'))"

exec setpriv --bounding-set=-net_admin -- "$@"
