import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * The layers of the harness, as rules over its imports (static, `export … from`, dynamic
 * `import(…)` and `import('…').Type`), read from the source with the TypeScript parser. A rule
 * that breaks names the file, the line and the import. Type-only imports are erased before
 * anything runs, so rules about what *loads* follow runtime imports only; rules about what a
 * folder *depends on* count every import.
 */
const HARNESS = path.join(PROJECT_ROOT, 'harness');

interface Import {
  readonly from: string;
  readonly line: number;
  readonly specifier: string;
  /** Project-relative .ts file for our own modules; null for a package or a builtin. */
  readonly target: string | null;
  /** The package name (or node: builtin) for anything not ours. */
  readonly packageName: string | null;
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
}

const rel = (abs: string) => path.relative(PROJECT_ROOT, abs).split(path.sep).join('/');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveOurs(fromAbs: string, specifier: string): string {
  const base = path.resolve(path.dirname(fromAbs), specifier);
  const candidates = [base.replace(/\.(m?js)$/, '.ts'), base, `${base}.ts`, path.join(base, 'index.ts')];
  return rel(candidates.find((c) => c.endsWith('.ts') && fs.existsSync(c)) ?? candidates[0]!);
}

const packageOf = (s: string) => (s.startsWith('node:') ? s : s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);

/** Every import of one source text. Exported for the parser's own test below. */
export function importsOf(fileAbs: string, text: string): Import[] {
  const sf = ts.createSourceFile(fileAbs, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const add = (node: ts.Node, specifier: string, typeOnly: boolean, dynamic: boolean) => {
    const ours = specifier.startsWith('.');
    out.push({
      from: rel(fileAbs),
      line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
      specifier,
      target: ours ? resolveOurs(fileAbs, specifier) : null,
      packageName: ours ? null : packageOf(specifier),
      typeOnly,
      dynamic,
    });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(n, n.moduleSpecifier.text, typeOnly, false);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const named = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements : null;
      add(n, n.moduleSpecifier.text, n.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)), false);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = n.arguments[0];
      add(n, arg && ts.isStringLiteralLike(arg) ? arg.text : `<computed: ${arg?.getText(sf) ?? ''}>`, false, true);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n, n.argument.literal.text, true, false);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const FILES = tsFiles(HARNESS);
const IMPORTS = FILES.flatMap((f) => importsOf(f, fs.readFileSync(f, 'utf8')));
const byFile = new Map<string, Import[]>();
for (const i of IMPORTS) byFile.set(i.from, [...(byFile.get(i.from) ?? []), i]);

const inFolder = (file: string | null, ...folders: string[]) => file !== null && folders.some((d) => file.startsWith(`harness/${d}/`));
const show = (i: Import, why: string) => `${i.from}:${i.line} imports '${i.specifier}'${i.typeOnly ? ' (type only)' : ''}${i.dynamic ? ' (dynamic)' : ''}: ${why}`;
const importsFrom = (...folders: string[]) => IMPORTS.filter((i) => inFolder(i.from, ...folders));

/** Files loaded (at runtime) when `entry` is loaded, each with the chain of imports that reaches it. */
function runtimeClosure(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    for (const i of byFile.get(file) ?? []) {
      if (i.typeOnly || i.target === null || reached.has(i.target)) continue;
      reached.set(i.target, [...reached.get(file)!, i.target]);
      queue.push(i.target);
    }
  }
  return reached;
}

describe('the layers point the right way', () => {
  it('core imports nothing of ours', () => {
    const bad = importsFrom('core').filter((i) => i.target !== null && !inFolder(i.target, 'core'));
    expect(bad.map((i) => show(i, 'core is the bottom layer'))).toEqual([]);
  });

  it('loading a scenario loads no Docker or client library (scenario/load.ts and all it reaches)', () => {
    const DOCKER_OR_CLIENT = new Set(['testcontainers', 'dockerode', 'docker-modem', 'nodemailer', 'smtp-server', 'ssh2']);
    const closure = runtimeClosure('harness/scenario/load.ts');
    const bad: string[] = [];
    for (const [file, chain] of closure) {
      const via = chain.length > 1 ? ` (reached by ${chain.join(' -> ')})` : '';
      if (inFolder(file, 'engine', 'lab') || (inFolder(file, 'clients') && file !== 'harness/clients/capabilities.ts')) bad.push(`${file} is loaded with a scenario${via}`);
      for (const i of byFile.get(file) ?? []) {
        if (!i.typeOnly && i.packageName !== null && (DOCKER_OR_CLIENT.has(i.packageName) || i.packageName.startsWith('@testcontainers/'))) bad.push(show(i, `loads ${i.packageName} with a scenario${via}`));
      }
    }
    expect(closure.size).toBeGreaterThan(3);
    expect(bad).toEqual([]);
  });

  it('report/ depends on its own model and core only (its model may name the checks\' result types, type-only)', () => {
    const allowed = (i: Import) =>
      (i.target !== null && inFolder(i.target, 'report', 'core')) ||
      (i.packageName?.startsWith('node:') ?? false) ||
      (i.from === 'harness/report/types.ts' && i.typeOnly && i.target === 'harness/checks/result.ts');
    const bad = importsFrom('report').filter((i) => !allowed(i));
    expect(bad.map((i) => show(i, 'renderers and the report model depend on the model and core only'))).toEqual([]);
  });

  it('the probe engine (enum/) does not depend on lab/, scenario/, engine/ or checks/', () => {
    const bad = importsFrom('enum').filter((i) => inFolder(i.target, 'lab', 'scenario', 'engine', 'checks'));
    expect(bad.map((i) => show(i, 'the probe is a standalone engine'))).toEqual([]);
  });

  it('clients (clients/, smtp/, tls/) never import checks/: clients observe and never judge', () => {
    const bad = importsFrom('clients', 'smtp', 'tls').filter((i) => inFolder(i.target, 'checks'));
    expect(bad.map((i) => show(i, 'clients observe and never judge'))).toEqual([]);
  });

  it('the capturing peer (peer/) records and never judges: no checks/, lab/ or scenario/ import, and its record types load no server', () => {
    const bad = importsFrom('peer').filter((i) => inFolder(i.target, 'checks', 'lab', 'scenario'));
    expect(bad.map((i) => show(i, 'a peer observes; checks judge'))).toEqual([]);
    const recordFiles = ['harness/peer/peer-record.ts', 'harness/peer/peer-spec.ts'];
    const loads = recordFiles.flatMap((f) => [...runtimeClosure(f).keys()].flatMap((g) => (byFile.get(g) ?? []).filter((i) => !i.typeOnly && i.packageName === 'smtp-server').map((i) => show(i, `${f} must stay data`))));
    expect(loads).toEqual([]);
  });

  it('tls/ and smtp/ do not import the probe engine (enum/)', () => {
    const bad = importsFrom('tls', 'smtp').filter((i) => inFolder(i.target, 'enum'));
    expect(bad.map((i) => show(i, 'what both need belongs below both'))).toEqual([]);
  });

  it("the library's public surface (harness/index.ts) only re-exports, and loading it loads no vitest or test file", () => {
    const entry = 'harness/index.ts';
    const sf = ts.createSourceFile(entry, fs.readFileSync(path.join(PROJECT_ROOT, entry), 'utf8'), ts.ScriptTarget.Latest, true);
    const notReExports = sf.statements.filter((s) => !(ts.isExportDeclaration(s) && s.moduleSpecifier)).map((s) => `${entry}:${sf.getLineAndCharacterOfPosition(s.getStart(sf)).line + 1}: ${s.getText(sf).slice(0, 80)}`);
    expect(notReExports, 'the public surface declares nothing of its own: each name lives in its layer').toEqual([]);
    const closure = runtimeClosure(entry);
    const bad: string[] = [];
    for (const [file, chain] of closure) {
      if (inFolder(file, 'tests', 'vitest', 'runner', 'cli', 'bin', 'dev')) bad.push(`${file} is loaded with the library (reached by ${chain.join(' -> ')})`);
      for (const i of byFile.get(file) ?? []) {
        if (!i.typeOnly && (i.packageName === 'vitest' || i.packageName?.startsWith('@vitest/'))) bad.push(show(i, `loads ${i.packageName} with the library (reached by ${chain.join(' -> ')}); matchers stay plain functions`));
      }
    }
    expect(closure.size).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });

  it('every import of ours resolves to a file, and no import is computed (so every rule above sees it)', () => {
    const bad = IMPORTS.filter((i) => i.specifier.startsWith('<computed') || (i.target !== null && !fs.existsSync(path.join(PROJECT_ROOT, i.target))));
    expect(bad.map((i) => show(i, 'cannot be followed'))).toEqual([]);
  });
});

describe('the import reader itself', () => {
  it('finds static, re-exported, dynamic and type-position imports, and tells type-only ones apart', () => {
    const src = [
      "import fs from 'node:fs';",
      "import { a, type B } from './a.js';",
      "import type { C } from './c.js';",
      "import { type D } from './d.js';",
      "import './side-effect.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "const g = await import('./g.js');",
      "type H = import('./h.js').H;",
      "declare module 'vitest' { interface X {} }",
    ].join('\n');
    const found = importsOf(path.join(HARNESS, 'core', 'x.ts'), src).map((i) => [i.specifier, i.typeOnly, i.dynamic, i.line]);
    expect(found).toEqual([
      ['node:fs', false, false, 1],
      ['./a.js', false, false, 2],
      ['./c.js', true, false, 3],
      ['./d.js', true, false, 4],
      ['./side-effect.js', false, false, 5],
      ['./e.js', false, false, 6],
      ['./f.js', true, false, 7],
      ['./g.js', false, true, 8],
      ['./h.js', true, false, 9],
    ]);
    expect(importsOf(path.join(HARNESS, 'core', 'x.ts'), "import { x } from '../checks/result.js';")[0]?.target).toBe('harness/checks/result.ts');
  });

  it('reads the whole harness: every folder a rule names has files and imports', () => {
    for (const d of ['core', 'scenario', 'report', 'enum', 'clients', 'smtp', 'tls', 'checks', 'lab', 'engine', 'peer']) {
      expect(importsFrom(d).length, d).toBeGreaterThan(0);
    }
  });

  it('follows runtime imports transitively (positive control for the scenario-loading rule)', () => {
    const session = runtimeClosure('harness/lab/scenario-session.ts');
    expect([...session.keys()].some((f) => inFolder(f, 'engine'))).toBe(true);
    expect([...session.keys()].flatMap((f) => byFile.get(f) ?? []).some((i) => i.packageName === 'testcontainers' && !i.typeOnly)).toBe(true);
  });
});
