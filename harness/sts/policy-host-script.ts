/**
 * The policy host's server, run by python3 in a lab container (the trixie image has python3 as
 * postfix-mta-sts-resolver's dependency). It listens on 443 of the container's lab address,
 * picks each site's certificate by SNI, and answers GET /.well-known/mta-sts.txt from
 * sites.json, which it reads again on every handshake and request: the harness switches a
 * site's answer during a scenario by rewriting that file. Every request is one stdout line
 * ("lab-sts-policy: fetch host=… path=… status=…"), which is how the lab counts fetches.
 *
 * sites.json: { "<mta-sts.domain>": { "cert": PATH, "key": PATH, "status": N, "headers": {…}, "body": BASE64 } | { …, "reset": true } }
 */
export const POLICY_HOST_DIR = '/etc/lab-sts-policy';
export const POLICY_SITES_FILE = `${POLICY_HOST_DIR}/sites.json`;
export const POLICY_HOST_SCRIPT_PATH = `${POLICY_HOST_DIR}/policy-host.py`;

export const POLICY_HOST_SCRIPT = String.raw`
import base64, json, socket, ssl, sys, threading

SITES = ${JSON.stringify(POLICY_SITES_FILE)}

def say(text):
    sys.stdout.write('lab-sts-policy: ' + text + '\n')
    sys.stdout.flush()

def sites():
    with open(SITES) as f:
        return json.load(f)

contexts = {}
def context_for(site):
    key = (site['cert'], site['key'])
    if key not in contexts:
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(site['cert'], site['key'])
        contexts[key] = c
    return contexts[key]

def sni(sock, name, ctx):
    s = sites()
    site = s.get(name or '') or s[sorted(s)[0]]
    sock.context = context_for(site)
    sock.lab_sni = name

def serve(conn, addr, base):
    try:
        tls = base.wrap_socket(conn, server_side=True)
    except Exception as e:
        say('handshake-failed from=%s error=%s' % (addr[0], str(e).replace(' ', '_')))
        conn.close()
        return
    try:
        tls.settimeout(10)
        data = b''
        while b'\r\n\r\n' not in data and len(data) < 16384:
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
        lines = data.decode('latin-1').split('\r\n')
        method, path = (lines[0].split(' ') + ['', ''])[:2]
        host = ''
        for l in lines[1:]:
            if l.lower().startswith('host:'):
                host = l.split(':', 1)[1].strip().split(':')[0]
        site = sites().get(host)
        sn = getattr(tls, 'lab_sni', None)
        if site is None or site.get('reset'):
            say('fetch host=%s sni=%s path=%s status=reset' % (host, sn, path))
            tls.close()
            return
        status = site['status'] if path == '/.well-known/mta-sts.txt' else 404
        body = base64.b64decode(site['body']) if status == site['status'] else b'not found\n'
        head = 'HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n' % (status, len(body))
        for k, v in site.get('headers', {}).items():
            head += '%s: %s\r\n' % (k, v)
        # Said before sending: a client that hangs up half-way (a resolver refusing an oversized
        # policy) still made this fetch, and the line must not depend on who closes first.
        say('fetch host=%s sni=%s path=%s status=%d bytes=%d' % (host, sn, path, status, len(body)))
        tls.sendall(head.encode() + b'\r\n' + body)
    except Exception as e:
        say('fetch-error from=%s error=%s' % (addr[0], str(e).replace(' ', '_')))
    finally:
        try:
            tls.close()
        except Exception:
            pass

def main():
    s = sites()
    base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    first = s[sorted(s)[0]]
    base.load_cert_chain(first['cert'], first['key'])
    base.sni_callback = sni
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        srv.bind(('0.0.0.0', 443))
        srv.listen(16)
    except OSError as e:
        say('FAILED cannot listen on 443: errno=%d %s' % (e.errno, e.strerror))
        sys.exit(1)
    say('ready sites=%s' % ','.join(sorted(s)))
    while True:
        conn, addr = srv.accept()
        threading.Thread(target=serve, args=(conn, addr, base), daemon=True).start()

main()
`;
