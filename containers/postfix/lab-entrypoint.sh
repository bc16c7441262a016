#!/bin/sh
# Entrypoint of every lab Postfix container.
#
# The harness copies the effective main.cf/master.cf, map sources and certificates into the
# container before it starts, so nothing here edits main.cf: every Postfix tool pauses up to
# 2 s before it reads a main.cf modified within the last second ("pausing to let it settle"),
# which is also why the harness copies the files in with a modification time a minute ago.
# This script only prepares what Postfix itself
# cannot: hashed maps, the SASL database and the lab mailbox; then it lets postconf read the
# config (Postfix's own warnings and fatal errors) and hands over to `postfix start-fg`.
#
# Lines starting with "lab-entrypoint:" are read by the harness's wait strategy. On failure
# the last such line is "lab-entrypoint: FAILED <step>", preceded by the tool's own words.
set -u

say() { echo "lab-entrypoint: $*"; }
fail() { say "FAILED $*"; exit 78; }

# The resolver and the routes were set by lab-isolate, which runs before this script.

# Hashed maps named by the scenario, e.g. LAB_POSTMAP="hash:/etc/postfix/lab/maps/tls_policy".
# LAB_POSTMAP_F lists maps whose values are file names to load (postmap -F), such as
# tls_server_sni_maps.
for map in ${LAB_POSTMAP:-}; do
  out=$(postmap "$map" 2>&1) || { printf '%s\n' "$out"; fail "postmap $map"; }
done
for map in ${LAB_POSTMAP_F:-}; do
  out=$(postmap -F "$map" 2>&1) || { printf '%s\n' "$out"; fail "postmap -F $map"; }
done

# SASL users for Cyrus sasldb: one "user@realm:password" per line in LAB_SASL_USERS_FILE
# (generated per run by the harness; the passwords never appear in a report).
if [ -n "${LAB_SASL_USERS_FILE:-}" ] && [ -f "$LAB_SASL_USERS_FILE" ]; then
  while IFS=: read -r login pass; do
    [ -n "$login" ] || continue
    user=${login%@*}; realm=${login#*@}
    printf '%s' "$pass" | saslpasswd2 -p -c -f /etc/sasldb2 -u "$realm" "$user" || fail "saslpasswd2 $login"
  done < "$LAB_SASL_USERS_FILE"
  chown root:postfix /etc/sasldb2 && chmod 0640 /etc/sasldb2
fi

# Lab mailbox: virtual(8) delivers every @lab.test message into one Maildir the harness reads.
mkdir -p /var/mail/lab && chown 5000:5000 /var/mail/lab

# postconf reads main.cf and master.cf as every Postfix program does and says what is wrong on
# stderr (unknown and deprecated parameters, bad master.cf fields, fatal syntax), so Postfix's
# own words reach the harness before master starts.
for what in -n -M -P; do
  out=$(postconf "$what" 2>&1 >/dev/null); rc=$?
  [ -n "$out" ] && printf '%s\n' "$out"
  [ "$rc" -eq 0 ] || fail "postconf $what (exit $rc)"
done
say "config read (postconf -n -M -P)"

# `postfix check` is not run: besides these postconf passes it checks the ownership and modes
# of the queue, data and config directories and the chroot copies of /etc files, all of which
# the lab image fixes, not the scenario; it cost ~0.25 s of CPU per start (a fifth of a lab
# Postfix's start). `postfix start-fg` would run the same checks again unless the queue
# directory holds a quick-start file, which it removes: the file skips them there too.
queue=$(postconf -h queue_directory) && : > "$queue/quick-start" || fail "marking quick-start in the queue directory"

exec postfix start-fg
