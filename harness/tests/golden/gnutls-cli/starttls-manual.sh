f=/tmp/lab-gnutls-1; rm -f $f.in $f.out $f.local; mkfifo $f.in; : > $f.out
gnutls-cli --crlf --starttls --port 25 --insecure --print-cert --x509cafile /tmp/lab-ca.crt --verify-hostname mx.lab.test "$@" 10.213.226.10 < $f.in > $f.out 2>&1 & pid=$!
( sleep 20; kill $pid 2>/dev/null ) & dog=$!
count() { grep -c -E "$1" $f.out; }
wait_for() { until [ "$(count "$1")" -ge "$2" ]; do kill -0 $pid 2>/dev/null || return 1; sleep 0.02; done; }
(
trap '' PIPE
wait_for '^220 ' 1 || exit 0
echo "lab-local=$(ss -Htnp state established '( dport = :25 )' | grep "pid=$pid," | awk '{print $3}')" > $f.local
printf 'EHLO client.lab.test\n'; wait_for '^250 ' 1 || exit 0
printf 'STARTTLS\n'; wait_for '^220 ' 2 || exit 0
kill -ALRM $pid
wait_for '^- Options:|^\*\*\* (Fatal|Handshake has failed)' 1 || exit 0
printf 'EHLO client.lab.test\n'; wait_for '^250 ' 2 || exit 0
printf 'QUIT\n'; wait_for '^221 ' 1
) > $f.in
wait $pid; rc=$?; kill $dog 2>/dev/null; echo "lab-exit=$rc"; cat $f.local 2>/dev/null; cat $f.out
