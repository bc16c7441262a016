#!/bin/sh
# Entrypoint of the lab's Exim containers (containers/exim), after lab-isolate.
#
# `lab-exim client`: idle, for execs (gnutls-cli, the lab's GnuTLS client).
# `lab-exim` (default): Exim 4 as a receiving MX. The harness copies the whole Exim
# configuration to /etc/exim4/lab/exim4.conf and the scenario's certificates to
# /etc/exim4/lab/tls/ before start; nothing here writes Exim settings. Exim reads its TLS key as
# its own user (Debian-exim) in the receiving process, so the certificates are copied where
# that user may read them. Exim logs to files only (no syslog in a container), so the log
# files are followed to stdout, where the harness reads them.
#
# Lines starting with "lab-exim:" are read by the harness; a failure ends with
# "lab-exim: FAILED <step>" and exit 78, after the tool's own words.
set -u

say() { echo "lab-exim: $*"; }
fail() { say "FAILED $*"; exit 78; }

if [ "${1:-}" = "client" ]; then
  say "client ready ($(gnutls-cli --version 2>&1 | head -n 1))"
  exec sleep infinity
fi

conf_in=/etc/exim4/lab/exim4.conf
[ -f "$conf_in" ] || fail "no Exim configuration at $conf_in (the harness copies it in before start)"

tls=/etc/exim4/lab-tls
mkdir -p "$tls" || fail "mkdir $tls"
if [ -d /etc/exim4/lab/tls ]; then
  cp /etc/exim4/lab/tls/* "$tls"/ 2>/dev/null || fail "copying the certificates to $tls"
fi
chown -R root:Debian-exim "$tls" && chmod 0750 "$tls" && chmod 0640 "$tls"/* 2>/dev/null
# Debian's exim4 reads /etc/exim4/exim4.conf before its generated configuration when it exists.
cp "$conf_in" /etc/exim4/exim4.conf || fail "installing $conf_in"

mkdir -p /var/mail/lab && chown Debian-exim:Debian-exim /var/mail/lab || fail "making the lab mailbox"
mkdir -p /var/log/exim4 && chown Debian-exim:adm /var/log/exim4 || fail "making /var/log/exim4"
for f in mainlog rejectlog paniclog; do
  : > "/var/log/exim4/$f" && chown Debian-exim:adm "/var/log/exim4/$f" || fail "making /var/log/exim4/$f"
done

# -bV reads the configuration and says what is wrong with it (and the build: GnuTLS).
out=$(exim -bV 2>&1); rc=$?
printf '%s\n' "$out" | sed -n -e '1s/^/lab-exim: version: /p' -e 's/^Support for: /lab-exim: support: /p'
[ "$rc" -eq 0 ] || { printf '%s\n' "$out"; fail "exim -bV (exit $rc)"; }
say "configuration accepted ($(gnutls-cli --version 2>&1 | head -n 1))"

tail -q -n +1 -F /var/log/exim4/mainlog /var/log/exim4/rejectlog /var/log/exim4/paniclog 2>/dev/null &
# -bdf: the daemon in the foreground; -q30m: queue runs now and then (nothing is routed out of the lab).
exim -bdf -q30m &
daemon=$!
trap 'kill "$daemon" 2>/dev/null' TERM INT
wait "$daemon"
rc=$?
sleep 1
fail "exim daemon exited ($rc)"
