import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { imageTags, loadRecipe, recipeFilePath, recipeForStack } from '../../engine/images.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * Recipes share files through containers/common/, and the image tag covers every file a recipe
 * uses, its own and the shared ones: editing lab-isolate (shared) must rebuild the image.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-recipe-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function copyOfContainers(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(path.join(PROJECT_ROOT, 'containers'), dir, { recursive: true });
  return dir;
}

describe('image recipes and containers/common/', () => {
  it('the postfix recipe takes lab-isolate from containers/common/', () => {
    const recipe = loadRecipe('postfix');
    const isolate = recipe.files.find((f) => f.target === '/usr/local/bin/lab-isolate');
    expect(isolate?.common).toBe('lab-isolate.sh');
    expect(recipeFilePath('postfix', isolate!)).toBe(path.join(PROJECT_ROOT, 'containers', 'common', 'lab-isolate.sh'));
  });

  it('editing a common file the recipe uses changes the tag; editing one it does not use changes nothing', () => {
    const dir = copyOfContainers('edit');
    const before = imageTags('postfix', loadRecipe('postfix', dir), dir);
    fs.writeFileSync(path.join(dir, 'common', 'unused-by-postfix.txt'), 'not named by any recipe\n');
    expect(imageTags('postfix', loadRecipe('postfix', dir), dir)).toEqual(before);
    fs.appendFileSync(path.join(dir, 'common', 'lab-isolate.sh'), '# an edit\n');
    const after = imageTags('postfix', loadRecipe('postfix', dir), dir);
    expect(after.tag).not.toBe(before.tag);
    // The base (Debian and packages) does not depend on the lab's files.
    expect(after.baseTag).toBe(before.baseTag);
  });

  it('a recipe file names exactly one origin, inside its folder, and it must exist', () => {
    const dir = copyOfContainers('bad');
    const file = path.join(dir, 'postfix', 'recipe.json');
    const original = JSON.parse(fs.readFileSync(file, 'utf8')) as { files: Record<string, string>[] };
    const withFirst = (f: Record<string, string>) => {
      fs.writeFileSync(file, JSON.stringify({ ...original, files: [f, ...original.files.slice(1)] }));
      try {
        loadRecipe('postfix', dir);
        return 'loaded';
      } catch (err) {
        expect(err).toBeInstanceOf(LabError);
        return (err as LabError).message;
      }
    };
    const place = { target: '/usr/local/bin/lab-isolate', mode: '0755' };
    expect(withFirst({ ...place, common: 'lab-isolate.sh', source: 'lab-isolate.sh' })).toMatch(/exactly one of 'source'.*or 'common'/);
    expect(withFirst({ ...place, common: '../postfix/lab-entrypoint.sh' })).toMatch(/files\[0\]\.common' must be a path inside containers\/common\//);
    expect(withFirst({ ...place, common: 'missing.sh' })).toMatch(/common\/missing\.sh is missing/);
    expect(withFirst({ ...place, common: 'lab-isolate.sh' })).toBe('loaded');
  });
  it("'prepare' is a list of shell commands, and changing it changes the lab tag, not the base", () => {
    const dir = copyOfContainers('prepare');
    const file = path.join(dir, 'postfix', 'recipe.json');
    const recipe = JSON.parse(fs.readFileSync(file, 'utf8')) as { prepare?: unknown };
    expect(recipe.prepare).toEqual(['postfix post-install create-missing']);
    const before = imageTags('postfix', loadRecipe('postfix', dir), dir);
    fs.writeFileSync(file, JSON.stringify({ ...recipe, prepare: ['postfix post-install create-missing', 'true'] }));
    const after = imageTags('postfix', loadRecipe('postfix', dir), dir);
    expect(after.tag).not.toBe(before.tag);
    expect(after.baseTag).toBe(before.baseTag);
    fs.writeFileSync(file, JSON.stringify({ ...recipe, prepare: 'postfix check' }));
    expect(() => loadRecipe('postfix', dir)).toThrow(/field 'prepare' must be a list of shell commands/);
  });

  it("'aptPackages' (the second, apt-ordered install) are part of the base's tag, a stack may give its own, and they must be package names", () => {
    const dir = copyOfContainers('apt');
    const file = path.join(dir, 'exim', 'recipe.json');
    const recipe = JSON.parse(fs.readFileSync(file, 'utf8')) as { base: { aptPackages?: string[]; packages: string[] }; stacks: Record<string, Record<string, unknown>> };
    expect(recipe.base.aptPackages).toEqual(['exim4-daemon-light']);
    expect(recipe.base.packages).not.toContain('exim4-daemon-light');
    const before = imageTags('exim', recipeForStack(loadRecipe('exim', dir), 'trixie'), dir);
    fs.writeFileSync(file, JSON.stringify({ ...recipe, stacks: { ...recipe.stacks, trixie: { ...recipe.stacks.trixie, aptPackages: ['exim4-daemon-heavy'] } } }));
    const trixie = recipeForStack(loadRecipe('exim', dir), 'trixie');
    expect(trixie.base.aptPackages).toEqual(['exim4-daemon-heavy']);
    expect(imageTags('exim', trixie, dir).baseTag).not.toBe(before.baseTag);
    expect(recipeForStack(loadRecipe('exim', dir), 'bookworm').base.aptPackages).toEqual(['exim4-daemon-light']);
    fs.writeFileSync(file, JSON.stringify({ ...recipe, base: { ...recipe.base, aptPackages: ['exim4 daemon'] } }));
    expect(() => loadRecipe('exim', dir)).toThrow(/field 'base.aptPackages' must be a list of Debian package names/);
  });
});
