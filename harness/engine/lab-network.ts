import os from 'node:os';
import { randomBytes, randomInt } from 'node:crypto';
import { getContainerRuntimeClient } from 'testcontainers';
import { LabError } from '../core/errors.js';
import { docker } from './docker-cli.js';
import { labLabels, RUN_ID, SCENARIO_LABEL } from './labels.js';

/**
 * Where scenario networks get their subnets: one /24 each out of this range, unless
 * LAB_SUBNET_POOL names another IPv4 range (a /16 to /24). The default lies outside the
 * pools Docker hands out by itself (172.17–31.0.0/16, 192.168.0.0/16) and outside ranges
 * common tools claim (Podman's 10.88/10.89, Kubernetes' 10.96 and 10.233).
 */
export const DEFAULT_SUBNET_POOL = '10.213.0.0/16';

/** Most attempts at a free /24; each one follows a conflict with another network made meanwhile. */
const CREATE_ATTEMPTS = 12;

interface Cidr {
  readonly base: number;
  readonly bits: number;
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((a, b) => a * 256 + b, 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function parseCidr(text: string): Cidr | null {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return null;
  const bits = Number(m[2]);
  if (bits > 32) return null;
  const size = 2 ** (32 - bits);
  return { base: Math.floor(ipToInt(m[1]!) / size) * size, bits };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const end = (c: Cidr) => c.base + 2 ** (32 - c.bits);
  return a.base < end(b) && b.base < end(a);
}

/** The pool of /24s, from LAB_SUBNET_POOL or the default. */
export function subnetPool(text: string = process.env.LAB_SUBNET_POOL ?? DEFAULT_SUBNET_POOL): Cidr {
  const pool = parseCidr(text);
  if (!pool || pool.bits < 16 || pool.bits > 24) {
    throw new LabError('EUSAGE', `LAB_SUBNET_POOL=${text} is not an IPv4 range from /16 to /24 (for example ${DEFAULT_SUBNET_POOL})`);
  }
  return pool;
}

/**
 * The subnets of Docker networks as last looked up, shared by every network this process
 * creates: looking costs two docker CLI calls, most of a network's create. A network made
 * since (another scenario's, anyone's) is caught by Docker itself, which refuses an
 * overlapping subnet; the refusal makes the next attempt look again.
 */
let dockerSubnetsSeen: Promise<Cidr[]> | null = null;

function dockerSubnets(fresh: boolean): Promise<Cidr[]> {
  if (fresh || !dockerSubnetsSeen) {
    dockerSubnetsSeen = dockerSubnetsNow();
    // A failed look is not kept: the next create looks again.
    dockerSubnetsSeen.catch(() => (dockerSubnetsSeen = null));
  }
  return dockerSubnetsSeen;
}

/** Keeps what this process made or removed in the list seen, so its own next create needs no new look. */
async function noteSubnet(subnet: Cidr, what: 'made' | 'removed'): Promise<void> {
  const seen = await dockerSubnetsSeen?.catch(() => null);
  if (!seen) return;
  const i = seen.findIndex((c) => c.base === subnet.base && c.bits === subnet.bits);
  if (what === 'removed' && i >= 0) seen.splice(i, 1);
  if (what === 'made' && i < 0) seen.push(subnet);
}

/** Every IPv4 subnet in use: Docker networks' (as last looked up, or `fresh`) and this host's own interfaces'. */
async function subnetsInUse(fresh: boolean): Promise<Cidr[]> {
  const used: Cidr[] = [...(await dockerSubnets(fresh))];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal || !a.cidr) continue;
      const c = parseCidr(a.cidr);
      if (c) used.push(c);
    }
  }
  return used;
}

/** The IPv4 subnets of every Docker network now. */
async function dockerSubnetsNow(): Promise<Cidr[]> {
  const used: Cidr[] = [];
  const ids = await docker(['network', 'ls', '-q'], { timeoutMs: 15_000 });
  const list = ids.stdout.split('\n').filter(Boolean);
  if (list.length) {
    // A network removed between ls and inspect makes inspect exit 1; the others are still printed.
    const r = await docker(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...list], { timeoutMs: 15_000 });
    for (const word of r.stdout.split(/\s+/)) {
      const c = parseCidr(word);
      if (c) used.push(c);
    }
  }
  return used;
}

/** A /24 of the pool that overlaps nothing in `used`, chosen at random so that concurrent scenarios rarely try the same one. */
export function freeSubnet(pool: Cidr, used: readonly Cidr[]): Cidr | null {
  const count = 2 ** (24 - pool.bits);
  const start = randomInt(count);
  for (let i = 0; i < count; i++) {
    const candidate = { base: pool.base + ((start + i) % count) * 256, bits: 24 };
    if (!used.some((u) => overlaps(u, candidate))) return candidate;
  }
  return null;
}

/** Docker's words when an explicit subnet collides with another network's: choose again. */
const OVERLAP = /overlaps|address space|pool.*(in use|exists)|conflicts/i;

/**
 * A per-scenario Docker network made with --internal: containers on it reach each other and
 * the host reaches them at their own addresses, but Docker gives the network no way out,
 * and the egress guard drops anything that tries. Concurrent scenarios never share one.
 *
 * Its IPv4 subnet is a /24 the lab chooses (never Docker's pick), so that every node of the
 * scenario has a fixed address known before any container starts: `<subnet>.<hostNumber>`.
 * Docker keeps `.1` for the bridge (the host's side, from which the harness connects).
 */
export class LabNetwork {
  private constructor(
    readonly name: string,
    readonly id: string,
    /** e.g. '10.213.7.0/24' */
    readonly subnet: string,
  ) {}

  /** create(), and how long it took (the bench's breakdown). */
  static async createTimed(scenarioId: string): Promise<{ readonly network: LabNetwork; readonly ms: number }> {
    const started = Date.now();
    const network = await LabNetwork.create(scenarioId);
    return { network, ms: Date.now() - started };
  }

  static async create(scenarioId: string): Promise<LabNetwork> {
    // Unique even when one run starts the same scenario twice (the catalogue and a test beside it).
    const name = `smtp-tls-lab-${RUN_ID}-${scenarioId}`.slice(0, 100) + `-${randomBytes(3).toString('hex')}`;
    const pool = subnetPool();
    const tried: Cidr[] = [];
    let lastError = '';
    let fresh = false;
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      let chosen = freeSubnet(pool, [...(await subnetsInUse(fresh)), ...tried]);
      if (!chosen && !fresh) {
        // What was seen may hold networks removed since: look again before giving up.
        fresh = true;
        chosen = freeSubnet(pool, [...(await subnetsInUse(true)), ...tried]);
      }
      if (!chosen) break;
      const subnet = `${intToIp(chosen.base)}/24`;
      try {
        const client = await getContainerRuntimeClient();
        const net = await client.network.create({
          Name: name,
          Internal: true,
          CheckDuplicate: true,
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: intToIp(chosen.base + 1) }] },
          Labels: labLabels({ [SCENARIO_LABEL]: scenarioId }),
        });
        void noteSubnet(chosen, 'made');
        return new LabNetwork(name, net.id, subnet);
      } catch (err) {
        lastError = (err as Error).message;
        if (!OVERLAP.test(lastError)) {
          throw new LabError('ECONTAINER', `could not create lab network ${name} (${subnet}): ${lastError}`, { cause: err });
        }
        // Another scenario (or anyone) took it between our look and our create: look again.
        tried.push(chosen);
        fresh = true;
      }
    }
    throw new LabError('ECONTAINER', `could not create lab network ${name}: no free /24 left in ${intToIp(pool.base)}/${pool.bits} after ${tried.length} attempt(s)`, {
      detail: `${lastError ? `last refusal: ${lastError}\n` : ''}remedy: remove unused Docker networks, or set LAB_SUBNET_POOL to a free IPv4 range (/16 to /24)`,
    });
  }

  /** The fixed address of host number `n` (10–250) on this network. */
  address(hostNumber: number): string {
    if (!Number.isInteger(hostNumber) || hostNumber < 2 || hostNumber > 254) throw new LabError('EINTERNAL', `host number ${hostNumber} is not an address of ${this.subnet}`);
    return intToIp(parseCidr(this.subnet)!.base + hostNumber);
  }

  /** The bridge's address, from which the harness on this host reaches the nodes. */
  get gateway(): string {
    return intToIp(parseCidr(this.subnet)!.base + 1);
  }

  async remove(): Promise<void> {
    const client = await getContainerRuntimeClient();
    await client.network.remove(client.network.getById(this.id));
    void noteSubnet(parseCidr(this.subnet)!, 'removed');
  }
}
