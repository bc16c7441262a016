#!/bin/sh
# Entrypoint of the lab's OpenSMTPD containers (containers/opensmtpd), after lab-isolate.
#
# The harness copies the whole smtpd.conf to /etc/smtpd/lab/smtpd.conf and the scenario's
# certificates to /etc/smtpd/lab/tls/ before start; nothing here writes OpenSMTPD settings.
# smtpd refuses a private key that others may read, so the certificates are copied to a
# root-only folder. `smtpd -d` stays in the foreground and logs to stderr, where the harness reads it.
#
# Lines starting with "lab-opensmtpd:" are read by the harness; a failure ends with
# "lab-opensmtpd: FAILED <step>" and exit 78, after the tool's own words.
set -u

say() { echo "lab-opensmtpd: $*"; }
fail() { say "FAILED $*"; exit 78; }

conf=/etc/smtpd/lab/smtpd.conf
[ -f "$conf" ] || fail "no OpenSMTPD configuration at $conf (the harness copies it in before start)"

tls=/etc/smtpd/lab-tls
mkdir -p "$tls" && chmod 0700 "$tls" || fail "mkdir $tls"
if [ -d /etc/smtpd/lab/tls ]; then
  cp /etc/smtpd/lab/tls/* "$tls"/ 2>/dev/null || fail "copying the certificates to $tls"
fi
chown -R root:root "$tls" && chmod 0600 "$tls"/* 2>/dev/null

# The lab mailbox: every accepted message goes into one Maildir, delivered as this user.
id labmail >/dev/null 2>&1 || useradd -M -d /var/mail/lab -u 5000 -s /usr/sbin/nologin labmail || fail "useradd labmail"
mkdir -p /var/mail/lab && chown labmail:labmail /var/mail/lab || fail "making the lab mailbox"

# A sender's relays log in with a credentials table ("lab USER:PASSWORD") made here from the
# run's secrets file, for the one user the harness names; it stays root-only like the keys.
if [ -f /etc/smtpd/lab/sender-login ]; then
  login=$(cat /etc/smtpd/lab/sender-login)
  awk -F: -v u="$login" '$1 == u { print "lab " $0 }' "$tls/sasl-users" > "$tls/lab-secrets" 2>/dev/null
  [ -s "$tls/lab-secrets" ] || fail "no password for the sender login $login in the run's secrets"
  chmod 0600 "$tls/lab-secrets"
fi
# OpenSMTPD's resolver (libasr) asks DNS first, and a sending session waits for the PTR name of
# the host it connects to: with no resolver (or the lab DNS, which has no reverse zones) it never
# connects. libasr reads "lookup" in resolv.conf (glibc ignores the line): the hosts file first.
grep -q '^lookup' /etc/resolv.conf 2>/dev/null || echo 'lookup file bind' >> /etc/resolv.conf

out=$(smtpd -n -f "$conf" 2>&1); rc=$?
[ "$rc" -eq 0 ] || { printf '%s\n' "$out"; fail "smtpd -n (exit $rc)"; }
say "configuration accepted ($(dpkg-query -W -f '${Package} ${Version}' opensmtpd 2>/dev/null))"

exec smtpd -d -f "$conf"
