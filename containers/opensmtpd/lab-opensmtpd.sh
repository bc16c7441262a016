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

out=$(smtpd -n -f "$conf" 2>&1); rc=$?
[ "$rc" -eq 0 ] || { printf '%s\n' "$out"; fail "smtpd -n (exit $rc)"; }
say "configuration accepted ($(dpkg-query -W -f '${Package} ${Version}' opensmtpd 2>/dev/null))"

exec smtpd -d -f "$conf"
