import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { LAB_LABEL } from '../engine/labels.js';

/**
 * Samples, once a second while a run goes on, how many lab containers are alive, how much
 * memory they use (their cgroups), and how much memory the whole host has in use above what it
 * had when sampling started (containers, vitest workers, dockerd: everything the run costs).
 * For the bench and the soak; tests never assert on these figures.
 */
export interface ResourcePeaks {
  readonly samples: number;
  readonly peakContainers: number;
  /** Sum of the lab containers' cgroup memory at the sample where it was highest; null where cgroups cannot be read. */
  readonly peakContainerMemoryMiB: number | null;
  readonly peakHostInUseAboveBaselineMiB: number;
  readonly hostTotalMiB: number;
}

function meminfo(): { totalKiB: number; inUseKiB: number } {
  const text = fs.readFileSync('/proc/meminfo', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { totalKiB: field('MemTotal'), inUseKiB: field('MemTotal') - field('MemAvailable') };
}

/** A container's memory from its cgroup: v1 (cgroupfs), v2 cgroupfs, v2 systemd. */
function containerMemoryBytes(id: string): number | null {
  for (const file of [
    `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`,
    `/sys/fs/cgroup/docker/${id}/memory.current`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`,
  ]) {
    try {
      return Number(fs.readFileSync(file, 'utf8').trim());
    } catch {
      // not this layout
    }
  }
  return null;
}

function labContainerIds(): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('docker', ['ps', '-q', '--no-trunc', '--filter', `label=${LAB_LABEL}`], { timeout: 10_000 }, (err, stdout) => resolve(err ? [] : stdout.split('\n').filter(Boolean)));
  });
}

export class ResourceSampler {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly baselineKiB = meminfo().inUseKiB;
  private samples = 0;
  private peakContainers = 0;
  private peakContainerBytes: number | null = null;
  private peakInUseKiB = 0;

  start(intervalMs = 1000): this {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const ids = await labContainerIds();
      const mem = ids.map(containerMemoryBytes);
      const known = mem.filter((m): m is number => m !== null);
      this.samples++;
      this.peakContainers = Math.max(this.peakContainers, ids.length);
      if (known.length || ids.length === 0) this.peakContainerBytes = Math.max(this.peakContainerBytes ?? 0, known.reduce((a, b) => a + b, 0));
      this.peakInUseKiB = Math.max(this.peakInUseKiB, meminfo().inUseKiB);
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<ResourcePeaks> {
    if (this.timer) clearInterval(this.timer);
    await this.sample();
    const mib = (kib: number) => Math.round(kib / 1024);
    return {
      samples: this.samples,
      peakContainers: this.peakContainers,
      peakContainerMemoryMiB: this.peakContainerBytes === null ? null : Math.round(this.peakContainerBytes / 1024 / 1024),
      peakHostInUseAboveBaselineMiB: Math.max(0, mib(this.peakInUseKiB - this.baselineKiB)),
      hostTotalMiB: mib(meminfo().totalKiB),
    };
  }
}

export function formatPeaks(p: ResourcePeaks): string {
  return `peak ${p.peakContainers} lab container(s) alive, peak container memory ${p.peakContainerMemoryMiB ?? '?'} MiB, peak host memory in use above baseline ${p.peakHostInUseAboveBaselineMiB} MiB of ${p.hostTotalMiB} MiB (${p.samples} samples, 1/s)`;
}
