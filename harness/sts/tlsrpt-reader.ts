import { LabError } from '../core/errors.js';

/**
 * The lab's TLS-RPT collector: Debian packages no collector for libtlsrpt, so a small python3
 * reader in the Postfix under test binds the UNIX datagram socket that smtp_tlsrpt_socket_name
 * names (relative names are under $queue_directory, as postconf(5) says) and appends every
 * datagram, base64-encoded, one per line, to DATAGRAM_FILE. The harness reads that file with
 * exec; decoding is tlsrpt-datagram.ts. Started once per container (a pid file says it runs).
 */
export const DATAGRAM_FILE = '/var/lib/lab-tlsrpt/datagrams';
const PID_FILE = '/var/lib/lab-tlsrpt/reader.pid';

const READER = String.raw`
import base64, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
os.makedirs(os.path.dirname(path), exist_ok=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
print('lab-tlsrpt: listening on ' + path, flush=True)
while True:
    d = s.recv(262144)
    with open(out, 'a') as f:
        f.write(base64.b64encode(d).decode() + '\n')
`;

export interface Exec {
  exec(cmd: string[]): Promise<{ readonly exitCode: number; readonly output: string }>;
}

/** The socket's absolute path in the container, from the running config (postconf -h). */
export async function tlsrptSocketPath(c: Exec): Promise<string> {
  const r = await c.exec(['postconf', '-h', 'smtp_tlsrpt_enable', 'smtp_tlsrpt_socket_name', 'queue_directory']);
  const [enable, name, queue] = r.output.trim().split('\n').map((l) => l.trim());
  if (r.exitCode !== 0 || enable === undefined) throw new LabError('ESTS', `postconf could not read the TLSRPT settings (exit ${r.exitCode})`, { detail: r.output.slice(-1000) });
  // smtp_tlsrpt_enable = no is a state to observe (nothing is reported), not a mistake: the reader listens all the same.
  void enable;
  if (!name) throw new LabError('ESCENARIO', 'a tlsrpt check needs smtp_tlsrpt_socket_name in the sender\'s main.cf (the socket the lab reads)');
  return name.startsWith('/') ? name : `${queue}/${name}`;
}

/** Starts the reader unless it runs already; resolves once its socket exists. */
export async function ensureTlsrptReader(c: Exec): Promise<string> {
  const socket = await tlsrptSocketPath(c);
  const script = [
    `mkdir -p ${'$(dirname "$3")'}`,
    'if [ -f "$4" ] && kill -0 "$(cat "$4")" 2>/dev/null; then exit 0; fi',
    ': > "$3"',
    'nohup python3 -u -c "$1" "$2" "$3" > /var/lib/lab-tlsrpt/reader.log 2>&1 &',
    'echo $! > "$4"',
    'i=0; while [ ! -S "$2" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    '[ -S "$2" ] || { cat /var/lib/lab-tlsrpt/reader.log; exit 1; }',
  ].join('\n');
  const r = await c.exec(['sh', '-c', script, 'sh', READER, socket, DATAGRAM_FILE, PID_FILE]);
  if (r.exitCode !== 0) throw new LabError('ESTS', `the lab's TLS-RPT reader could not bind ${socket} in the sender (exit ${r.exitCode})`, { detail: r.output.slice(-2000) });
  return socket;
}

/** Every datagram received so far, in order, as bytes. */
export async function readDatagrams(c: Exec): Promise<Buffer[]> {
  const r = await c.exec(['cat', DATAGRAM_FILE]);
  if (r.exitCode !== 0) throw new LabError('ESTS', `the TLS-RPT datagram file ${DATAGRAM_FILE} could not be read (exit ${r.exitCode})`, { detail: r.output.slice(-1000) });
  return r.output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[A-Za-z0-9+/=]+$/.test(l))
    .map((l) => Buffer.from(l, 'base64'));
}
