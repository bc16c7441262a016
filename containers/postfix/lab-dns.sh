#!/bin/sh
# The lab's DNS node: nsd (authoritative, 127.0.0.1:5353) serving the scenario's zones, signed
# here at start with fresh keys, and unbound (validating resolver, the node's address :53 and
# 127.0.0.1:53) with the lab zone's KSK as its only trust anchor. Nothing outside the lab
# zones is answered: unbound refuses "." (it never asks a real root), and lab-isolate left the
# container without a route out.
#
# Input (copied in by the harness before start):
#   /etc/lab-dns/plan            one line per zone, children before parents: ZONE MODE PARENT
#                                MODE: signed | unsigned | expired | corrupt:TYPE ; PARENT: '-' for the anchor zone
#   /etc/lab-dns/zones/ZONE.zone the zone's records ($ORIGIN, SOA, NS, delegations included)
# Lines starting with "lab-dns:" are read by the harness; a failure is "lab-dns: FAILED …".
#
#   lab-dns                start (the container's command)
#   lab-dns resign ZONE    re-sign /etc/lab-dns/zones/ZONE.zone with the zone's keys, restart nsd,
#                          reload unbound (cache emptied)
set -u
say() { echo "lab-dns: $*"; }
fail() { say "FAILED $*"; exit 78; }

IN=/etc/lab-dns
W=/var/lib/lab-dns
KEYS=$W/keys
ZONES=$W/zones
CTL=/run/lab-dns-unbound.ctl

# The signing of one zone, from its working copy (which holds its children's DS lines).
sign_zone() {
  zone=$1 mode=$2
  keys=$(grep "^$zone " "$KEYS/index" | cut -d' ' -f2-)
  src=$ZONES/$zone.zone
  case $mode in
    unsigned) cp "$src" "$ZONES/$zone.served" ;;
    signed|corrupt:*) out=$(cd "$KEYS" && ldns-signzone -f "$ZONES/$zone.served" "$src" $keys 2>&1) || { printf '%s\n' "$out"; fail "ldns-signzone $zone"; } ;;
    expired) out=$(cd "$KEYS" && ldns-signzone -e 20200201000000 -i 20200101000000 -f "$ZONES/$zone.served" "$src" $keys 2>&1) || { printf '%s\n' "$out"; fail "ldns-signzone -e (expired) $zone"; } ;;
    *) fail "unknown mode '$mode' for zone $zone" ;;
  esac
  case $mode in
    corrupt:*)
      # One character of the signature over TYPE changed: the RRset is bogus, the rest of the zone is not.
      type=${mode#corrupt:}
      awk -v t="$type" 'BEGIN{done=0} { if (!done && $4=="RRSIG" && $5==t) { s=$NF; c=substr(s,10,1); r=(c=="A")?"B":"A"; $NF=substr(s,1,9) r substr(s,11); done=1 } print } END{ if(!done) exit 3 }' "$ZONES/$zone.served" > "$ZONES/$zone.tmp" \
        || fail "no RRSIG over $type in zone $zone to corrupt"
      mv "$ZONES/$zone.tmp" "$ZONES/$zone.served" ;;
  esac
}

start_nsd() {
  nsd -d -c "$W/nsd.conf" >>"$W/nsd.log" 2>&1 &
  echo $! > "$W/nsd.pid"
  i=0
  until dig +short +time=1 +tries=1 -p 5353 @127.0.0.1 SOA "$(head -n 1 "$W/anchor-zone")" >/dev/null 2>&1 && [ -n "$(dig +short +time=1 +tries=1 -p 5353 @127.0.0.1 SOA "$(head -n 1 "$W/anchor-zone")")" ]; do
    i=$((i + 1)); [ "$i" -gt 50 ] && { tail -n 20 "$W/nsd.log"; fail "nsd did not answer"; }
    sleep 0.1
  done
}

if [ "${1:-}" = resign ]; then
  zone=${2:?zone}
  mode=$(awk -v z="$zone" '$1==z{print $2}' "$IN/plan")
  [ -n "$mode" ] || fail "resign: no zone $zone in the plan"
  cp "$IN/zones/$zone.zone" "$ZONES/$zone.zone"
  [ -f "$W/ds/$zone" ] && cat "$W/ds/$zone" >> "$ZONES/$zone.zone"
  sign_zone "$zone" "$mode"
  kill "$(cat "$W/nsd.pid")" 2>/dev/null; sleep 0.2
  start_nsd
  unbound-control -c "$W/unbound.conf" reload >/dev/null || fail "unbound-control reload"
  say "resigned $zone"
  exit 0
fi

mkdir -p "$KEYS" "$ZONES" "$W/ds"
[ -f "$IN/plan" ] || fail "no $IN/plan"
while read -r zone mode parent; do
  [ -n "$zone" ] || continue
  cp "$IN/zones/$zone.zone" "$ZONES/$zone.zone" || fail "no zone file for $zone"
done < "$IN/plan"

# Children first: each signed child's DS goes into its parent's working copy before the parent is signed.
anchor=""
while read -r zone mode parent; do
  [ -n "$zone" ] || continue
  if [ "$mode" != unsigned ]; then
    ksk=$(cd "$KEYS" && ldns-keygen -a ECDSAP256SHA256 -k "$zone") || fail "ldns-keygen -k $zone"
    zsk=$(cd "$KEYS" && ldns-keygen -a ECDSAP256SHA256 "$zone") || fail "ldns-keygen $zone"
    echo "$zone $zsk $ksk" >> "$KEYS/index"
    if [ "$parent" = - ]; then
      anchor=$(cat "$KEYS/$ksk.ds")
      echo "$zone" > "$W/anchor-zone"
    else
      cat "$KEYS/$ksk.ds" >> "$W/ds/$parent"
      cat "$KEYS/$ksk.ds" >> "$ZONES/$parent.zone"
    fi
  fi
  sign_zone "$zone" "$mode"
done < "$IN/plan"
[ -n "$anchor" ] || fail "the plan has no signed anchor zone (PARENT '-')"
say "signed: $(while read -r z m p; do [ -n "$z" ] && printf '%s(%s) ' "$z" "$m"; done < "$IN/plan")"
say "trust anchor: $anchor"

# nsd: every zone, on loopback only (unbound is the only one asking it).
{
  printf 'server:\n  ip-address: 127.0.0.1@5353\n  database: ""\n  zonesdir: "%s"\n  username: ""\n  pidfile: ""\n  logfile: "%s/nsd.log"\n  verbosity: 1\nremote-control:\n  control-enable: no\n' "$ZONES" "$W"
  while read -r zone mode parent; do [ -n "$zone" ] && printf 'zone:\n  name: "%s"\n  zonefile: "%s.served"\n' "$zone" "$zone"; done < "$IN/plan"
} > "$W/nsd.conf"
start_nsd

# unbound: validating, the lab anchor only, every lab zone a stub to nsd, everything else refused.
# Extended DNS Errors (ede:) came with unbound 1.16; bullseye's 1.13 refuses the keyword, so
# there the resolver's answers carry no EDE (its reason is still in unbound's log).
ede_line='  ede: yes\n'
unbound_version=$(unbound -V 2>/dev/null | sed -n 's/^Version //p' | head -n 1)
if [ -n "$unbound_version" ] && ! dpkg --compare-versions "$unbound_version" ge 1.16; then
  ede_line=''
  say "unbound $unbound_version has no Extended DNS Errors (ede: needs 1.16): answers carry no EDE"
fi
{
  printf 'server:\n  interface: 0.0.0.0\n  port: 53\n  access-control: 0.0.0.0/0 allow\n  do-not-query-localhost: no\n'
  printf '  username: ""\n  chroot: ""\n  directory: "%s"\n  pidfile: ""\n  use-syslog: no\n  logfile: ""\n  verbosity: 1\n' "$W"
  printf "  val-log-level: 2\n  log-servfail: yes\n${ede_line}  module-config: \"validator iterator\"\n  auto-trust-anchor-file: \"\"\n"
  printf '  local-zone: "." refuse\n  local-zone: "test." nodefault\n  local-zone: "%s." transparent\n' "$(cat "$W/anchor-zone")"
  printf '  trust-anchor: "%s"\n' "$(printf '%s' "$anchor" | tr '\t' ' ')"
  printf 'remote-control:\n  control-enable: yes\n  control-interface: %s\n  control-use-cert: no\n' "$CTL"
  while read -r zone mode parent; do [ -n "$zone" ] && printf 'stub-zone:\n  name: "%s"\n  stub-addr: 127.0.0.1@5353\n' "$zone"; done < "$IN/plan"
} > "$W/unbound.conf"
out=$(unbound-checkconf "$W/unbound.conf" 2>&1) || { printf '%s\n' "$out"; fail "unbound-checkconf"; }
unbound -d -c "$W/unbound.conf" 2>&1 | sed -u 's/^/unbound: /' &
i=0
until [ -n "$(dig +short +time=1 +tries=1 @127.0.0.1 SOA "$(cat "$W/anchor-zone")" 2>/dev/null)" ]; do
  i=$((i + 1)); [ "$i" -gt 50 ] && fail "unbound did not answer"
  sleep 0.1
done

# Each zone must validate as its plan says before any check runs: a signed zone with the ad
# flag, an unsigned one without it, an expired one SERVFAIL. Otherwise this is no DANE lab.
while read -r zone mode parent; do
  [ -n "$zone" ] || continue
  # Under load the first answer can take a while: ask until one comes (at most ~20 s), then judge it.
  # (5 tries were not enough once under npm test, with the interop MTAs running beside: no answer at all.)
  i=0
  while :; do
    ans=$(dig +dnssec +time=2 +tries=1 @127.0.0.1 SOA "$zone")
    status=$(printf '%s\n' "$ans" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1)
    [ -n "$status" ] && break
    i=$((i + 1)); [ "$i" -ge 10 ] && break
  done
  [ -n "$status" ] || { say "FAILED zone $zone ($mode): the resolver gave no answer in ~20 s (unbound busy or down)"; exit 78; }
  flags=$(printf '%s\n' "$ans" | sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p' | head -n 1)
  case " $flags " in *" ad "*) ad=yes ;; *) ad=no ;; esac
  case $mode in
    signed|corrupt:*) want="NOERROR yes" ;;
    unsigned) want="NOERROR no" ;;
    expired) want="SERVFAIL no" ;;
  esac
  if [ "$status $ad" != "$want" ]; then
    # unbound's own reason travels in the Extended DNS Error of its answer (ede: yes).
    ede=$(printf '%s\n' "$ans" | sed -n 's/^; EDE: //p' | head -n 1)
    say "FAILED zone $zone ($mode): resolver answered $status with ad=$ad, expected $want${ede:+; unbound: $ede}"
    exit 78
  fi
done < "$IN/plan"
say "ready"
wait
