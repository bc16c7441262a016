import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
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
  /** Where the machine's CPU went while sampling: all of it, and the part inside containers. */
  readonly cpu: CpuUse;
}

/**
 * The machine's CPU between start and stop, from /proc/stat (every process: harness, engine,
 * kernel, containers, and whatever else runs) and the container cgroups' own counter.
 * Whether a run is CPU-bound is read here: busy near available means more concurrency cannot help.
 */
export interface CpuUse {
  readonly wallS: number;
  readonly cores: number;
  readonly busyCoreS: number;
  /** CPU used by processes inside containers (cgroup cpuacct of the engine's parent cgroup); null where it cannot be read. */
  readonly containersCoreS: number | null;
}

/** Busy and total CPU time of the whole machine so far, in seconds (the first line of /proc/stat, USER_HZ 100). */
function machineCpu(): { busyS: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0) - (f[8] ?? 0) - (f[9] ?? 0);
  return { busyS: busy / 100 };
}

/** CPU seconds of every container the engine ran so far (v1 cpuacct, v2 cgroupfs); null where neither exists. */
function containersCpuS(): number | null {
  try {
    return Number(fs.readFileSync('/sys/fs/cgroup/cpuacct/docker/cpuacct.usage', 'utf8').trim()) / 1e9;
  } catch {
    // not cgroup v1
  }
  try {
    const usec = /^usage_usec (\d+)/m.exec(fs.readFileSync('/sys/fs/cgroup/docker/cpu.stat', 'utf8'))?.[1];
    return usec ? Number(usec) / 1e6 : null;
  } catch {
    return null;
  }
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
  private readonly startedAt = Date.now();
  private readonly cpuAtStart = machineCpu();
  private readonly containersCpuAtStart = containersCpuS();

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

  private cpuUse(): CpuUse {
    const inside = containersCpuS();
    return {
      wallS: (Date.now() - this.startedAt) / 1000,
      cores: os.availableParallelism(),
      busyCoreS: machineCpu().busyS - this.cpuAtStart.busyS,
      containersCoreS: inside === null || this.containersCpuAtStart === null ? null : inside - this.containersCpuAtStart,
    };
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
      cpu: this.cpuUse(),
    };
  }
}

export function formatPeaks(p: ResourcePeaks): string {
  return `peak ${p.peakContainers} lab container(s) alive, peak container memory ${p.peakContainerMemoryMiB ?? '?'} MiB, peak host memory in use above baseline ${p.peakHostInUseAboveBaselineMiB} MiB of ${p.hostTotalMiB} MiB (${p.samples} samples, 1/s)`;
}

/** "CPU busy 75.3 of 89.0 core-s (85%); inside lab containers 28.1 core-s; engine, kernel, harness and the rest 47.2 core-s". */
export function formatCpu(c: CpuUse): string {
  const available = c.wallS * c.cores;
  const pct = available > 0 ? Math.round((100 * c.busyCoreS) / available) : 0;
  const inside = c.containersCoreS === null ? 'inside containers: not readable here' : `inside containers ${c.containersCoreS.toFixed(1)} core-s; engine, kernel, harness and anything else running ${(c.busyCoreS - c.containersCoreS).toFixed(1)} core-s`;
  return `CPU busy ${c.busyCoreS.toFixed(1)} of ${available.toFixed(1)} core-s available (${pct}%, ${c.cores} cores); ${inside}`;
}
