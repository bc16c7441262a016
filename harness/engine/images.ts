import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { run } from '../core/exec.js';
import { TIMEOUTS } from '../core/timeouts.js';
import { CONTAINERS_DIR, labStateDir } from './paths.js';
import { docker } from './docker-cli.js';
import { IMAGE_LABEL, labLabels } from './labels.js';
import { withFileLock } from './file-lock.js';
import { DEFAULT_STACK, STACK_NAMES, isStackName, type StackName } from '../core/stacks.js';

/**
 * Lab images are described by containers/<name>/recipe.json and tagged by a hash of the
 * recipe and every file it copies in (its own and those it takes from containers/common/),
 * so an edit rebuilds and an unchanged recipe is reused after one `docker image inspect`.
 *
 * An image is built in two steps: a base (Debian plus packages) and the lab image (the base
 * with the recipe's files and entrypoint). The base is pulled and completed with apt when a
 * registry answers; offline it is built with debootstrap from Debian's mirror and imported.
 * Nothing else is ever pulled.
 *
 * Images carry IMAGE_LABEL, never LAB_LABEL: a container inherits its image's labels, and a
 * container someone starts by hand from a lab image is not the lab's to remove. The lab image
 * is exported and imported as one flat layer, so no label of an older base reaches it.
 */

/** A file a recipe copies into its image: from the recipe's own folder (`source`) or from containers/common/ (`common`). */
export type RecipeFile = ({ readonly source: string; readonly common?: undefined } | { readonly common: string; readonly source?: undefined }) & {
  readonly target: string;
  readonly mode: string;
};

/** Files several recipes share (lab-isolate, the first step of every lab container). */
export const COMMON_DIR_NAME = 'common';

/**
 * Part of every lab image's hash: how the lab image is made. Changed when the making changes
 * in a way the recipe does not show (v2: flattened, IMAGE_LABEL instead of LAB_LABEL).
 */
const LAB_IMAGE_FORMAT = 'lab-image-v2-flat-unlabelled';

export interface RecipeBase {
  readonly suite: string;
  readonly variant: string;
  readonly mirror: string;
  readonly pull: string | null;
  readonly packages: readonly string[];
  /**
   * Installed after debootstrap by apt-get inside the new root (a second step), because
   * debootstrap's --include unpacks and configures in an order of its own that breaks some
   * packages: trixie's exim4-base pulls cron-daemon-common -> systemd, whose pre-dependency
   * debootstrap configured too late, and bookworm's exim4-config failed now and then. apt
   * orders them properly. On a pulled base they are installed with the rest.
   */
  readonly aptPackages?: readonly string[];
}

/** What a stack changes in the recipe's base: its suite, the image a registry would give, and (when a suite names a package differently) the packages. */
export interface RecipeStack {
  readonly suite: string;
  readonly pull: string | null;
  readonly packages?: readonly string[];
  readonly aptPackages?: readonly string[];
}

export interface Recipe {
  readonly image: string;
  readonly about: string;
  /** The base of the default stack (bookworm); `stacks` says what each stack changes in it. */
  readonly base: RecipeBase;
  /** Per stack, what differs from `base`; a recipe without it has only the default stack. */
  readonly stacks?: Readonly<Partial<Record<StackName, RecipeStack>>>;
  readonly files: readonly RecipeFile[];
  /**
   * Shell commands run once in the lab layer at build time, after the files are in (no network):
   * what every container would otherwise do at each start, such as Postfix's create-missing.
   */
  readonly prepare?: readonly string[];
  readonly entrypoint: readonly string[];
}

export interface ImageRef {
  readonly name: string;
  readonly stack: StackName;
  readonly tag: string;
  readonly baseTag: string;
  /** How the image was had this time: already present, or built (with the base's origin). */
  readonly how: 'cached' | 'built-from-cached-base' | 'built-from-debootstrap' | 'built-from-pull';
  readonly ms: number;
}

function recipeDir(name: string, containersDir: string): string {
  return path.join(containersDir, name);
}

/** Where a recipe file's content is on disk. */
export function recipeFilePath(name: string, f: RecipeFile, containersDir: string = CONTAINERS_DIR): string {
  return f.common !== undefined ? path.join(containersDir, COMMON_DIR_NAME, f.common) : path.join(recipeDir(name, containersDir), f.source);
}

/** The image recipes under containers/ (each folder with a recipe.json), postfix first. */
export function recipeNames(containersDir: string = CONTAINERS_DIR): string[] {
  const names = fs.readdirSync(containersDir).filter((d) => fs.existsSync(path.join(containersDir, d, 'recipe.json'))).sort();
  return [...names.filter((n) => n === 'postfix'), ...names.filter((n) => n !== 'postfix')];
}

export function loadRecipe(name: string, containersDir: string = CONTAINERS_DIR): Recipe {
  const file = path.join(recipeDir(name, containersDir), 'recipe.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LabError('EIMAGE', `${file}: cannot read the image recipe: ${(err as Error).message}`);
  }
  const r = raw as Partial<Recipe>;
  const bad = (field: string, want: string): never => {
    throw new LabError('EIMAGE', `${file}: field '${field}' must be ${want}`);
  };
  if (typeof r.image !== 'string' || !/^[a-z0-9-]+$/.test(r.image)) bad('image', 'a lowercase name');
  if (!r.base || typeof r.base !== 'object') bad('base', 'an object');
  if (!Array.isArray(r.base!.packages) || r.base!.packages.some((p) => typeof p !== 'string' || !/^[a-z0-9.+-]+$/.test(p)))
    bad('base.packages', 'a list of Debian package names');
  if (r.base!.aptPackages !== undefined && (!Array.isArray(r.base!.aptPackages) || r.base!.aptPackages.some((p) => typeof p !== 'string' || !/^[a-z0-9.+-]+$/.test(p))))
    bad('base.aptPackages', 'a list of Debian package names');
  for (const k of ['suite', 'variant', 'mirror'] as const) if (typeof r.base![k] !== 'string') bad(`base.${k}`, 'a string');
  if (!Array.isArray(r.files)) bad('files', 'a list of {source, target, mode}');
  for (const [i, f] of r.files!.entries()) {
    const inside = (p: unknown) => typeof p === 'string' && p !== '' && !p.split('/').includes('..') && !p.startsWith('/');
    if ((f.source === undefined) === (f.common === undefined)) bad(`files[${i}]`, `a file with exactly one of 'source' (in containers/${name}/) or 'common' (in containers/${COMMON_DIR_NAME}/)`);
    if (f.source !== undefined && !inside(f.source)) bad(`files[${i}].source`, 'a path inside the recipe folder');
    if (f.common !== undefined && !inside(f.common)) bad(`files[${i}].common`, `a path inside containers/${COMMON_DIR_NAME}/`);
    if (typeof f.target !== 'string' || !f.target.startsWith('/')) bad(`files[${i}].target`, 'an absolute path');
    if (typeof f.mode !== 'string' || !/^0[0-7]{3}$/.test(f.mode)) bad(`files[${i}].mode`, "an octal mode like '0644'");
    const at = recipeFilePath(name, f, containersDir);
    if (!fs.existsSync(at)) bad(`files[${i}].${f.common !== undefined ? 'common' : 'source'}`, `an existing file (${path.relative(containersDir, at)} is missing)`);
  }
  if (!Array.isArray(r.entrypoint) || r.entrypoint.length === 0) bad('entrypoint', 'a non-empty list');
  if (r.prepare !== undefined && (!Array.isArray(r.prepare) || r.prepare.some((c) => typeof c !== 'string' || c.trim() === ''))) bad('prepare', 'a list of shell commands');
  if (r.stacks !== undefined) {
    if (!r.stacks || typeof r.stacks !== 'object') bad('stacks', 'an object of stack name to {suite, pull}');
    for (const [k, v] of Object.entries(r.stacks!)) {
      if (!isStackName(k)) bad(`stacks.${k}`, `a known stack (${STACK_NAMES.join(', ')})`);
      if (!v || typeof v.suite !== 'string' || !/^[a-z]+$/.test(v.suite)) bad(`stacks.${k}.suite`, 'a Debian suite name');
      if (v!.pull !== null && typeof v!.pull !== 'string') bad(`stacks.${k}.pull`, 'an image name or null');
      if (v!.packages !== undefined && (!Array.isArray(v!.packages) || v!.packages.some((p) => typeof p !== 'string' || !/^[a-z0-9.+-]+$/.test(p))))
        bad(`stacks.${k}.packages`, 'a list of Debian package names');
      if (v!.aptPackages !== undefined && (!Array.isArray(v!.aptPackages) || v!.aptPackages.some((p) => typeof p !== 'string' || !/^[a-z0-9.+-]+$/.test(p))))
        bad(`stacks.${k}.aptPackages`, 'a list of Debian package names');
    }
  }
  return r as Recipe;
}

/** The stacks a recipe can build: those its `stacks` table names, or only the default one. */
export function recipeStacks(recipe: Recipe): StackName[] {
  return recipe.stacks ? STACK_NAMES.filter((s) => recipe.stacks![s] !== undefined) : [DEFAULT_STACK];
}

/**
 * The recipe as one stack builds it: the base with the stack's suite, pull and packages. The
 * default stack's entry repeats the base's own values, so its base (and so its tag) is the
 * base as written.
 */
export function recipeForStack(recipe: Recipe, stack: StackName, name = recipe.image): Recipe {
  if (!recipe.stacks) {
    if (stack === DEFAULT_STACK) return recipe;
    throw new LabError('EIMAGE', `containers/${name}/recipe.json has no stacks table, so it builds only ${DEFAULT_STACK}, not ${stack}`);
  }
  const s = recipe.stacks[stack];
  if (!s) throw new LabError('EIMAGE', `containers/${name}/recipe.json has no stack '${stack}' (it has ${recipeStacks(recipe).join(', ')})`);
  const aptPackages = s.aptPackages ?? recipe.base.aptPackages;
  return { ...recipe, base: { ...recipe.base, suite: s.suite, pull: s.pull, packages: s.packages ?? recipe.base.packages, ...(aptPackages ? { aptPackages } : {}) } };
}

function hash(parts: readonly (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** The image's tags: the base by its packages, the lab image by the base, the format, the entrypoint and every file's target, mode and content (common files too). */
export function imageTags(name: string, recipe: Recipe = loadRecipe(name), containersDir: string = CONTAINERS_DIR): { tag: string; baseTag: string } {
  const baseHash = hash([JSON.stringify(recipe.base)]);
  const files = recipe.files.flatMap((f) => [f.target, f.mode, fs.readFileSync(recipeFilePath(name, f, containersDir))]);
  const fullHash = hash([baseHash, LAB_IMAGE_FORMAT, JSON.stringify(recipe.entrypoint), ...(recipe.prepare ? [JSON.stringify(recipe.prepare)] : []), ...files]);
  return { tag: `smtp-tls-lab/${name}:${fullHash}`, baseTag: `smtp-tls-lab/base-${name}:${baseHash}` };
}

async function imageExists(tag: string): Promise<boolean> {
  return (await docker(['image', 'inspect', '--format', '{{.Id}}', tag], { timeoutMs: 15_000 })).code === 0;
}

/**
 * Make sure the image for containers/<name> on `stack` exists, building what is missing. The
 * base's hash covers the stack's suite, so every stack has its own tags; the lock is per
 * stack too, so builds of several stacks may run side by side (runner/stack-images.ts runs two at once).
 */
export async function ensureImage(name: string, log: (line: string) => void = () => {}, stack: StackName = DEFAULT_STACK): Promise<ImageRef> {
  const started = Date.now();
  const recipe = recipeForStack(loadRecipe(name), stack, name);
  const { tag, baseTag } = imageTags(name, recipe);
  if (await imageExists(tag)) return { name, stack, tag, baseTag, how: 'cached', ms: Date.now() - started };
  return withFileLock(path.join(labStateDir(), stack === DEFAULT_STACK ? `image-${name}.lock` : `image-${name}-${stack}.lock`), async () => {
    // Another process may have built it while we waited for the lock.
    if (await imageExists(tag)) return { name, stack, tag, baseTag, how: 'cached' as const, ms: Date.now() - started };
    let how: ImageRef['how'] = 'built-from-cached-base';
    if (!(await imageExists(baseTag))) how = await buildBase(recipe, baseTag, log, stack);
    await buildLabLayer(name, recipe, baseTag, tag, log);
    log(`image ${tag} (${stack}): built in ${((Date.now() - started) / 1000).toFixed(1)} s (${how})`);
    return { name, stack, tag, baseTag, how, ms: Date.now() - started };
  });
}

async function buildBase(recipe: Recipe, baseTag: string, log: (line: string) => void, stack: StackName): Promise<ImageRef['how']> {
  if (recipe.base.pull && process.env.LAB_NO_PULL !== '1') {
    const pulled = await docker(['pull', '--quiet', recipe.base.pull], { timeoutMs: 120_000 });
    if (pulled.code === 0) {
      log(`image ${baseTag}: pulled ${recipe.base.pull}, installing packages with apt`);
      await aptOnPulledBase(recipe, baseTag);
      return 'built-from-pull';
    }
    log(`image ${baseTag}: ${recipe.base.pull} cannot be pulled (no registry); building it with debootstrap`);
  }
  await debootstrapBase(recipe, baseTag, log, stack);
  return 'built-from-debootstrap';
}

async function aptOnPulledBase(recipe: Recipe, baseTag: string): Promise<void> {
  // Build-time only: apt inside this throwaway container reaches Debian's mirror, as debootstrap
  // does on the host. Lab containers themselves never get a route out.
  const name = `smtp-tls-lab-build-${process.pid}`;
  const script = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${[...recipe.base.packages, ...(recipe.base.aptPackages ?? [])].join(' ')} && rm -rf /var/lib/apt/lists/*`;
  const r = await docker(['run', '--name', name, ...labelFlags(), '--network', 'host', recipe.base.pull!, 'sh', '-c', script], {
    timeoutMs: TIMEOUTS.imageBuild,
  });
  try {
    if (r.code !== 0) throw new LabError('EIMAGE', `apt-get in ${recipe.base.pull} failed`, { detail: r.stderr.slice(-2000) });
    const c = await docker(['commit', '--change', `LABEL ${IMAGE_LABEL}=base-${recipe.image}`, name, baseTag]);
    if (c.code !== 0) throw new LabError('EIMAGE', `docker commit ${baseTag} failed`, { detail: c.stderr });
  } finally {
    await docker(['rm', '-f', name]);
  }
}

/**
 * The offline base build: debootstrap, the recipe's aptPackages in the new root, docker import.
 * `cold` (the bench's cold figure) builds without the recipe's package cache, as a fresh machine does.
 */
export async function debootstrapBase(recipe: Recipe, baseTag: string, log: (line: string) => void, stack: StackName, opts: { readonly cold?: boolean } = {}): Promise<void> {
  const which = await run('sh', ['-c', 'command -v debootstrap']);
  if (which.code !== 0) {
    throw new LabError('EIMAGE', 'debootstrap is not installed, so the base image cannot be built offline', {
      detail: 'remedy: apt-get install debootstrap (containers/engine.sh does this when it installs the engine)',
    });
  }
  const root = fs.mkdtempSync(path.join(process.env.LAB_BUILD_DIR ?? '/var/tmp', 'smtp-tls-lab-rootfs-'));
  // mkdtemp makes the folder 0700, and it is the chroot's "/" while packages configure: a
  // maintainer script that drops root (Exim's config check runs as Debian-exim) could then not
  // read /etc/passwd, and exim4-config failed with "user mail was not found".
  fs.chmodSync(root, 0o755);
  const logFile = path.join(labStateDir(), stack === DEFAULT_STACK ? `debootstrap-${recipe.image}.log` : `debootstrap-${recipe.image}-${stack}.log`);
  const mirror = process.env.LAB_DEBIAN_MIRROR ?? recipe.base.mirror;
  log(`image ${baseTag}: debootstrap ${recipe.base.suite} (${recipe.base.packages.join(', ')}) from ${mirror}; log: ${logFile}`);
  // debootstrap keeps the .debs it downloaded here (one folder per recipe and suite), so a rebuild after a
  // recipe change downloads only what is new: a bookworm build took 53.4 s cold and 39.4 s with the cache (whole build, other work running).
  const cacheDir = opts.cold ? fs.mkdtempSync(path.join(process.env.LAB_BUILD_DIR ?? '/var/tmp', 'smtp-tls-lab-cold-cache-')) : debootstrapCacheDir(recipe.image, recipe.base.suite);
  fs.mkdirSync(cacheDir, { recursive: true });
  try {
    const args = [
      `--cache-dir=${cacheDir}`,
      `--variant=${recipe.base.variant}`,
      `--include=${recipe.base.packages.join(',')}`,
      recipe.base.suite,
      root,
      mirror,
    ];
    const r = await run('debootstrap', args, { timeoutMs: TIMEOUTS.imageBuild, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    fs.writeFileSync(logFile, `${r.stdout}\n${r.stderr}`);
    if (r.code !== 0) {
      // debootstrap says why on stdout ("E: Failed getting release file ..."); keep the last lines of both.
      const said = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim()).slice(-8).join('\n');
      throw new LabError('EIMAGE', `debootstrap failed (exit ${r.code}); full log: ${logFile}`, {
        detail: `${said}\nremedy: check that ${mirror} answers (LAB_DEBIAN_MIRROR overrides the recipe's mirror) and that every package in the recipe exists in ${recipe.base.suite}`,
      });
    }
    if (recipe.base.aptPackages?.length) await aptInRoot(recipe, root, cacheDir, logFile, log, baseTag);
    // Keep the image small: package caches are not needed at run time.
    await run('sh', ['-c', `rm -rf "${root}"/var/cache/apt/archives/*.deb "${root}"/var/lib/apt/lists/*`]);
    const imp = await run('bash', ['-c', 'set -o pipefail; tar -C "$1" -c . | docker import --change "LABEL $2" - "$3"', '_', root, `${IMAGE_LABEL}=base-${recipe.image}`, baseTag], {
      timeoutMs: 300_000,
    });
    if (imp.code !== 0) throw new LabError('EIMAGE', `docker import ${baseTag} failed`, { detail: imp.stderr.slice(-2000) });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    if (opts.cold) fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

/**
 * The recipe's aptPackages, installed by apt-get chrooted into the root debootstrap made (build
 * time only, from the mirror debootstrap used, as debootstrap itself does). No service starts:
 * policy-rc.d refuses every start while apt runs. The downloaded .debs are kept beside
 * debootstrap's in the recipe's cache folder, so a rebuild downloads only what is new.
 */
async function aptInRoot(recipe: Recipe, root: string, cacheDir: string, logFile: string, log: (line: string) => void, baseTag: string): Promise<void> {
  const packages = recipe.base.aptPackages!;
  log(`image ${baseTag}: apt-get install ${packages.join(' ')} in the new root (second step)`);
  const script = [
    'set -eu',
    'root=$1; cache=$2; shift 2',
    'printf "#!/bin/sh\\nexit 101\\n" > "$root/usr/sbin/policy-rc.d"; chmod 0755 "$root/usr/sbin/policy-rc.d"',
    'mkdir -p "$root/var/cache/apt/archives"',
    'cp -n "$cache"/*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true',
    'mount -t proc proc "$root/proc"',
    'trap \'umount "$root/proc" 2>/dev/null || true\' EXIT',
    // Valid-Until is not checked: debootstrap does not check it either, and a mirror that serves a
    // fixed snapshot (sid's Release file here expired 27 days before this machine's date) is what the lab builds from.
    'chroot "$root" apt-get -o Acquire::Check-Valid-Until=false update -qq',
    'DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -o Acquire::Check-Valid-Until=false install -y -q --no-install-recommends "$@"',
    'cp -n "$root"/var/cache/apt/archives/*.deb "$cache"/ 2>/dev/null || true',
    'rm -f "$root/usr/sbin/policy-rc.d"',
  ].join('\n');
  const r = await run('sh', ['-c', script, '_', root, cacheDir, ...packages], { timeoutMs: TIMEOUTS.imageBuild, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  fs.appendFileSync(logFile, `\n--- apt-get install ${packages.join(' ')} (second step) ---\n${r.stdout}\n${r.stderr}`);
  if (r.code !== 0) {
    const said = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim()).slice(-8).join('\n');
    throw new LabError('EIMAGE', `apt-get install in the debootstrapped root failed (exit ${r.code}); full log: ${logFile}`, {
      detail: `${said}\nremedy: check that every package in aptPackages of containers/${recipe.image}/recipe.json exists in ${recipe.base.suite}, and that ${recipe.base.mirror} answers`,
    });
  }
}

/**
 * Where debootstrap keeps the downloaded packages of one recipe on one suite between builds (an
 * absolute path, as it requires). One folder per recipe and suite: builds of one are serialised
 * by its lock, builds of two recipes may run at once and must not write the same files.
 */
export function debootstrapCacheDir(image: string, suite: string): string {
  return path.resolve(labStateDir(), 'debootstrap-cache', `${image}-${suite}`);
}

/** `--label k=v` for a container the build makes: the lab's labels, so that a killed build's leftovers are swept like a dead run's. */
function labelFlags(): string[] {
  return Object.entries(labLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
}

/** The base image's settings a flattened import would lose (a pulled base sets PATH, say). */
async function baseSettings(baseTag: string): Promise<string[]> {
  const r = await docker(['image', 'inspect', '--format', '{{json .Config}}', baseTag], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new LabError('EIMAGE', `docker image inspect ${baseTag} failed`, { detail: r.stderr });
  const config = (JSON.parse(r.stdout) ?? {}) as { Env?: string[] | null; WorkingDir?: string; User?: string };
  return [
    ...(config.Env ?? []).flatMap((e) => {
      const at = e.indexOf('=');
      return at > 0 ? ['--change', `ENV ${e.slice(0, at)}=${JSON.stringify(e.slice(at + 1))}`] : [];
    }),
    ...(config.WorkingDir ? ['--change', `WORKDIR ${config.WorkingDir}`] : []),
    ...(config.User ? ['--change', `USER ${config.User}`] : []),
  ];
}

/**
 * The base plus the recipe's files, exported and imported as one flat image with the
 * entrypoint and IMAGE_LABEL. (A commit would keep every label of the base, and Docker cannot
 * take a label away; a base built before images stopped carrying LAB_LABEL still has it.)
 */
async function buildLabLayer(name: string, recipe: Recipe, baseTag: string, tag: string, log: (line: string) => void): Promise<void> {
  log(`image ${tag}: adding the lab files (${recipe.files.length}) to ${baseTag}`);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-layer-'));
  const ctr = `smtp-tls-lab-layer-${process.pid}-${Date.now()}`;
  try {
    for (const f of recipe.files) {
      const dest = path.join(staging, f.target);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(recipeFilePath(name, f), dest);
      fs.chmodSync(dest, parseInt(f.mode, 8));
    }
    const settings = await baseSettings(baseTag);
    const run1 = recipe.prepare?.length ? ['--network', 'none', '--entrypoint', 'sh', baseTag, '-c', ['set -e', ...recipe.prepare].join('\n')] : [baseTag, '/bin/true'];
    const created = await docker(['create', '--name', ctr, ...labelFlags(), ...run1]);
    if (created.code !== 0) throw new LabError('EIMAGE', `docker create from ${baseTag} failed`, { detail: created.stderr });
    const cp = await run('bash', ['-c', 'set -o pipefail; tar -C "$1" --owner=0 --group=0 -c . | docker cp - "$2":/', '_', staging, ctr]);
    if (cp.code !== 0) throw new LabError('EIMAGE', `copying the lab files into ${ctr} failed`, { detail: cp.stderr });
    if (recipe.prepare?.length) {
      // The container was made to run them (no network): started now, with the files in.
      const ran = await docker(['start', '-a', ctr], { timeoutMs: 300_000 });
      if (ran.code !== 0) throw new LabError('EIMAGE', `containers/${name}/recipe.json: a prepare command failed in ${tag}`, { detail: `${ran.stdout}\n${ran.stderr}`.trim().slice(-2000) });
    }
    const changes = [
      ...settings,
      '--change', `ENTRYPOINT ${JSON.stringify(recipe.entrypoint)}`,
      '--change', 'CMD []',
      '--change', `LABEL ${IMAGE_LABEL}=${name}`,
    ];
    const flat = await run('bash', ['-c', 'set -o pipefail; c="$1"; t="$2"; shift 2; docker export "$c" | docker import "$@" - "$t"', '_', ctr, tag, ...changes], {
      timeoutMs: 300_000,
    });
    if (flat.code !== 0) throw new LabError('EIMAGE', `docker export | docker import ${tag} failed`, { detail: flat.stderr.slice(-2000) });
  } finally {
    await docker(['rm', '-f', ctr]);
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

const tagStacks = new Map<string, Map<string, StackName>>();

/**
 * The stack whose recipe gives this image tag (computed once per image kind and process).
 * Undefined for a tag no stack gives: a test's own image, or a recipe changed since the image
 * was built. Callers that know the stack pass it; this is for those that know only the image.
 */
export function stackOfImageTag(name: string, image: string): StackName | undefined {
  let byTag = tagStacks.get(name);
  if (!byTag) {
    const recipe = loadRecipe(name);
    byTag = new Map(recipeStacks(recipe).map((s) => [imageTags(name, recipeForStack(recipe, s)).tag, s]));
    tagStacks.set(name, byTag);
  }
  return byTag.get(image);
}
