import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { LabError } from '../core/errors.js';
import { LabContainer, LabLineWaitStrategy, LabWaitStrategy, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { tarArchive } from '../engine/tar.js';
import { ensureWebCa, WEB_CA } from './web-pki.js';

/**
 * postfix-mta-sts-resolver's mta-sts-daemon (Debian's package, 1.5.0 on trixie) as its own lab
 * node (kind sts-resolver), answering Postfix's socketmap on port 8461 of its lab address.
 *
 * Trust: the daemon fetches policies with aiohttp over Python's ssl default context, which
 * loads OpenSSL's default verify paths; SSL_CERT_FILE names the STS lab's web CA (web-pki.ts:
 * Python 3.13 refuses the lab PKI's leaves, which lack an Authority Key Identifier) and
 * SSL_CERT_DIR an empty folder, so that CA is the only trust anchor (Debian's CA store is not
 * read). DNS: the lab DNS node is the container's only resolver (aiodns reads resolv.conf).
 *
 * Socketmap names (the last field of Postfix's socketmap:inet:host:8461:NAME):
 *  - `postfix`: the default zone, as the package's README configures it, plus tlsrpt: true
 *    (Postfix 3.10's policy_type=sts attributes in the answer);
 *  - `strict`: the same with strict_testing: true (a testing policy is applied as enforce);
 *  - `nortls`: tlsrpt: false (the answer as resolvers before 1.5 wrote it).
 */
export const RESOLVER_PORT = 8461;
const DIR = '/etc/lab-sts-resolver';
const TLS_IN = `${DIR}/tls`;
const READY_MS = 20_000;

export const RESOLVER_CONFIG = [
  'host: 0.0.0.0',
  `port: ${RESOLVER_PORT}`,
  'reuse_port: true',
  'shutdown_timeout: 1',
  // The package's default is 60 s: within it a cached policy is answered without even a DNS
  // look at the _mta-sts id. One second lets a scenario show an id change between two checks.
  'cache_grace: 1',
  'cache:',
  '  type: internal',
  '  options:',
  '    cache_size: 10000',
  'default_zone:',
  '  strict_testing: false',
  '  timeout: 4',
  '  tlsrpt: true',
  'zones:',
  '  strict:',
  '    strict_testing: true',
  '    timeout: 4',
  '    tlsrpt: true',
  '  nortls:',
  '    strict_testing: false',
  '    timeout: 4',
  '    tlsrpt: false',
  '',
].join('\n');

/**
 * Starts the daemon, then asks it one socketmap question (a name with no policy) until it
 * answers: only then is the node ready. A daemon that exits says so with its own words.
 */
const START_SCRIPT = String.raw`
mkdir -p /tmp/empty-ca-dir
SSL_CERT_FILE=${TLS_IN}/${WEB_CA}.crt SSL_CERT_DIR=/tmp/empty-ca-dir mta-sts-daemon -v debug --disable-uvloop -c ${DIR}/mta-sts-daemon.yml 2>&1 &
pid=$!
echo $pid > /run/mta-sts-daemon.pid
i=0
while [ $i -lt 100 ]; do
  if ! kill -0 $pid 2>/dev/null; then echo "lab-sts-resolver: FAILED mta-sts-daemon exited"; exit 1; fi
  a=$(python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",${RESOLVER_PORT}),timeout=2)
q=b"postfix probe.invalid"
s.sendall(str(len(q)).encode()+b":"+q+b",")
print(s.recv(512).decode())' 2>/dev/null)
  case "$a" in *NOTFOUND*|*OK*) echo "lab-sts-resolver: ready ($a)"; wait $pid; echo "lab-sts-resolver: mta-sts-daemon exited ($?)"; exit 1;; esac
  i=$((i+1)); sleep 0.1
done
echo "lab-sts-resolver: FAILED no socketmap answer on ${RESOLVER_PORT} within 10 s"; exit 1
`;

/** Where the start script writes mta-sts-daemon's pid (a test stops the daemon by it). */
export const RESOLVER_PID_FILE = '/run/mta-sts-daemon.pid';

export class StsResolverContainer extends LabContainer {
  private tlsDir: string | null = null;

  constructor(image: string, node: LabNodeIdentity) {
    super(image, 'StsResolverContainer', { node, readyTimeoutMs: READY_MS });
  }

  withTlsDirectory(dir: string): this {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new LabError('ECERT_FILE', `TLS directory ${dir} does not exist`);
    this.tlsDir = dir;
    return this;
  }

  /** @internal the wait strategy reads the output */
  outputLines() {
    return this.output;
  }

  protected labCommand(): readonly string[] {
    return ['sh', `${DIR}/start.sh`];
  }

  protected readiness(): LabWaitStrategy {
    return new LabLineWaitStrategy(() => this.outputLines(), {
      waitsFor: `sts-resolver-ready (line 'lab-sts-resolver: ready': mta-sts-daemon answered a socketmap query on ${RESOLVER_PORT})`,
      ready: /^lab-sts-resolver: ready/,
      failed: /^lab-sts-resolver: FAILED/,
      code: 'ESTS',
      who: 'the MTA-STS resolver',
      failure: (line) => `the MTA-STS resolver did not start: ${line.replace(/^lab-sts-resolver: FAILED /, '')}`,
      detailLines: 20,
    });
  }

  override async start(): Promise<StartedStsResolver> {
    if (!this.tlsDir) throw new LabError('EINTERNAL', 'StsResolverContainer: withTlsDirectory() is required (the lab CA is its only trust anchor)');
    await ensureWebCa(this.tlsDir);
    const files = [
      { content: RESOLVER_CONFIG, target: `${DIR}/mta-sts-daemon.yml`, mode: 0o644, mtime: new Date() },
      { content: START_SCRIPT, target: `${DIR}/start.sh`, mode: 0o755, mtime: new Date() },
    ];
    this.withCopyArchivesToContainer([{ tar: Readable.from([tarArchive(files)]), target: '/' }]);
    this.withBindMounts([{ source: this.tlsDir, target: TLS_IN, mode: 'ro' }]);
    const { started, address, network, steps } = await this.startLab();
    return new StartedStsResolver(started, this.node, address, network.name, this.scenarioId, steps, this.output);
  }
}

/** The daemon's answer to one socketmap query, as Postfix would read it. */
export interface ResolverAnswer {
  readonly map: string;
  readonly domain: string;
  /** The netstring's payload: "OK secure match=… servername=hostname policy_type=sts …" or "NOTFOUND ". */
  readonly answer: string;
}

export class StartedStsResolver extends StartedLabContainer {
  constructor(
    container: StartedTestContainer,
    node: LabNodeIdentity,
    address: string,
    networkName: string,
    scenarioId: string,
    startSteps: readonly StartStep[],
    private readonly lines: { all(): readonly string[]; readonly size: number },
  ) {
    super(container, node, address, networkName, scenarioId, startSteps);
  }

  /** Everything the daemon logged (debug level: "Lookup PERFORMED", fetch warnings). */
  logLines(): readonly string[] {
    return this.lines.all();
  }

  /** Asks the daemon as Postfix would (a netstring over TCP inside its container); a daemon that does not answer is ESTS. */
  async query(map: string, domain: string): Promise<ResolverAnswer> {
    if (!/^[a-z]+$/.test(map) || !/^[a-z0-9.-]+$/.test(domain)) throw new LabError('ESCENARIO', `not a socketmap name and domain: ${map} ${domain}`);
    const script = `
import socket
s=socket.create_connection(("127.0.0.1",${RESOLVER_PORT}),timeout=10)
q=b"${map} ${domain}"
s.sendall(str(len(q)).encode()+b":"+q+b",")
d=b""
while not d.endswith(b","):
    c=s.recv(65536)
    if not c: break
    d+=c
print(d.decode())`;
    const r = await this.exec(['python3', '-c', script]);
    const m = /^(\d+):([\s\S]*),\s*$/.exec(r.output.trim() + (r.output.trim().endsWith(',') ? '' : ''));
    if (r.exitCode !== 0 || !m) throw new LabError('ESTS', `the MTA-STS resolver did not answer a socketmap query for ${domain} (exit ${r.exitCode})`, { detail: r.output.slice(-2000) });
    return Object.freeze({ map, domain, answer: m[2]! });
  }
}
