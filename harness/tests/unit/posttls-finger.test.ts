import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { parsePosttlsFinger } from '../../postfix/posttls-finger.js';

/** posttls-finger as the DANE lab's oracle, on its real output from Postfix 3.7 and 3.5 (golden/posttls-finger/README.md). */
const golden = (name: string) => fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/posttls-finger', name), 'utf8');

describe('posttls-finger output', () => {
  it("Postfix 3.7 names the match as 'Matched DANE … at depth N'", () => {
    const ee = parsePosttlsFinger('ee311.dane.lab.test:2531', 'dane', 0, golden('bookworm-dane-ee-spki-is-verified.txt'));
    expect(ee).toMatchObject({ trust: 'Verified', protocol: 'TLSv1.3', verifyFailure: null });
    expect(ee.matched).toMatch(/^Matched DANE EE certificate at depth 0: 3 1 1 /);
    expect(parsePosttlsFinger('ta211.dane.lab.test:2533', 'dane', 0, golden('bookworm-dane-ta-of-the-lab-ca-is-verified.txt')).matched).toMatch(/^Matched DANE TA certificate at depth 1: 2 1 1 /);
  });

  it("Postfix 3.5 names it 'depth=N matched end entity / trust anchor'", () => {
    const ee = parsePosttlsFinger('ee311.dane.lab.test:2531', 'dane', 0, golden('bullseye-dane-ee-spki-is-verified.txt'));
    expect(ee).toMatchObject({ trust: 'Verified', verifyFailure: null });
    expect(ee.matched).toMatch(/^depth=0 matched end entity public-key sha256 digest=/);
    expect(parsePosttlsFinger('ta211.dane.lab.test:2533', 'dane', 0, golden('bullseye-dane-ta-of-the-lab-ca-is-verified.txt')).matched).toMatch(/^depth=1 matched trust anchor public-key sha256 digest=/);
  });
});
