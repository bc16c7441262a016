import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { buildReport } from '../../report/build-report.js';
import { validateReportJson } from '../../report/schema.js';
import type { Report, ScenarioRecord } from '../../report/types.js';
import { writeReport } from '../../report/write-report.js';

/**
 * index.html in a real browser: Debian's chromium driven by playwright-core (never
 * `playwright install`: no browser is downloaded). The report is the golden report of a real
 * run (harness/tests/fixtures/report/real-run/, 2 scenarios, one failing check) with hostile
 * server text put into a banner and a log line. The pages, the report files and a screenshot
 * are kept under harness/tests/.output/report-browser/ (git-ignored).
 */
const CHROMIUM = '/usr/bin/chromium';
const GOLDEN_REPORT = path.join(PROJECT_ROOT, 'harness/tests/fixtures/report/real-run/report.json');
const OUTPUT = path.join(PROJECT_ROOT, 'harness/tests/.output/report-browser');
const PAYLOAD = '<script>window.__pwned=1</script>';
const IMG_PAYLOAD = '<img src=x onerror="window.__pwned=2">';

/** The golden run's records with server text that is markup, in the failing check's banner, greeting line and first log line. */
function hostileReport(): { report: Report; scenario: number; check: number } {
  const real = JSON.parse(fs.readFileSync(GOLDEN_REPORT, 'utf8'));
  const records = real.scenarios.map(({ status: _s, ...r }: any) => r);
  const scenario = records.findIndex((s: any) => s.checks.some((c: any) => c.status === 'fail'));
  const check = records[scenario].checks.findIndex((c: any) => c.status === 'fail');
  const failing = records[scenario].checks[check];
  const raw = failing.observations.find((o: any) => o.client === 'raw');
  raw.banner.lines[0] = `mx.lab.test ESMTP ${PAYLOAD}`;
  const greeting = raw.transcript.find((t: any) => t.dir === 'S');
  greeting.text = `220 mx.lab.test ESMTP ${PAYLOAD}`;
  const connect = failing.logEvents.find((e: any) => e.type === 'connect' && e.peer.port === raw.localPort);
  connect.raw = `${connect.raw} ${PAYLOAD} ${IMG_PAYLOAD}`;
  const report = buildReport({ runId: `${real.run.id}-hostile`, startedAt: new Date(real.run.startedAt), finishedAt: new Date(real.run.finishedAt), postfixImage: real.run.postfixImage, node: real.run.node, scenarios: records as ScenarioRecord[], infrastructureErrors: [] });
  return { report, scenario, check };
}

describe('index.html in a real browser (Debian chromium, playwright-core)', () => {
  let browser: Browser | null = null;
  let context: BrowserContext;
  let page: Page;
  let files: Record<string, string>;
  const { report, scenario, check } = hostileReport();
  const failing = report.scenarios[scenario]!.checks[check]!;
  const requests: string[] = [];
  const consoleLines: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`chromium-missing: ${CHROMIUM} does not exist, so the HTML report cannot be tested in a browser. Install Debian's chromium (as root: apt-get install -y chromium; npm test's setup does this on Debian/Ubuntu). Never 'playwright install'.`);
    }
    expect(validateReportJson(JSON.parse(JSON.stringify(report)))).toEqual({ valid: true });
    fs.rmSync(OUTPUT, { recursive: true, force: true });
    files = writeReport(path.join(OUTPUT, 'reports'), report);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(pathToFileURL(files.html!).href);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('the matrix has one cell per check, each coloured by its outcome', async () => {
    const all = report.scenarios.flatMap((s) => s.checks);
    const cells = page.locator('table.matrix a.cell');
    expect(await cells.count()).toBe(all.length);
    expect(await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(all.map((c) => c.status));
    const colours = await cells.evaluateAll((els) => [...new Set(els.map((e) => `${e.getAttribute('data-status')} ${(globalThis as any).getComputedStyle(e).backgroundColor}`))]);
    expect(new Set(colours.map((c) => c.split(' ')[0])).size).toBe(colours.length); // one colour per status
    for (const c of await cells.all()) expect(await c.isVisible()).toBe(true);
  });

  it('the status filter hides the passing cells (and their details) and shows them again', async () => {
    const pass = page.locator('a.cell.st-pass');
    const fail = page.locator('a.cell.st-fail');
    expect(await pass.count()).toBe(report.summary.checks.pass);
    await page.locator('#filter input[data-filter="pass"]').uncheck();
    expect(await pass.evaluateAll((els) => els.filter((e) => e.getClientRects().length > 0).length)).toBe(0);
    expect(await page.locator('details.check.st-pass').evaluateAll((els) => els.filter((e) => e.getClientRects().length > 0).length)).toBe(0);
    expect(await fail.isVisible()).toBe(true);
    await page.locator('#filter input[data-filter="pass"]').check();
    expect(await pass.evaluateAll((els) => els.filter((e) => e.getClientRects().length > 0).length)).toBe(report.summary.checks.pass);
  });

  it('clicking the failing cell opens its check: expected vs observed, a ladder per observation, and its Postfix log lines', async () => {
    const details = page.locator(`details#c-${scenario}-${check}`);
    expect(await details.getAttribute('open')).toBeNull();
    await page.locator('a.cell.st-fail').click();
    await expect.poll(() => details.getAttribute('open')).not.toBeNull();
    const failingRows = details.locator('table.assertions.failing tbody tr');
    expect(await failingRows.count()).toBe(failing.assertions.filter((a) => !a.ok).length);
    expect(await failingRows.first().innerText()).toContain('TLSv1.1');

    const ladders = details.locator('.ladder');
    expect(await ladders.count()).toBe(failing.observations.length);
    const rawLadder = ladders.first();
    expect(await rawLadder.isVisible()).toBe(true);
    const clientSteps = await rawLadder.locator('.step.s-C pre').allInnerTexts();
    expect(clientSteps).toEqual(['EHLO client.lab.test', 'STARTTLS', 'EHLO client.lab.test', 'QUIT']);
    expect(await rawLadder.locator('.step.s-tls').innerText()).toContain('handshake: TLSv1.1 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA');

    const logs = details.locator('.obs .log');
    expect(await logs.count()).toBe(failing.observations.length);
    const rawLog = await logs.first().locator('li').allInnerTexts();
    const rawObservation = failing.observations.find((o) => o.client === 'raw')!;
    const expectedLines = failing.logEvents.filter((e) => !('peer' in e) || e.peer.port === rawObservation.localPort).slice(0, 3).map((e) => e.raw);
    expect(rawLog).toHaveLength(expectedLines.length);
    rawLog.forEach((line, i) => expect(line).toContain(expectedLines[i]));
    expect(await logs.first().isVisible()).toBe(true);

    await rawLadder.scrollIntoViewIfNeeded();
    fs.mkdirSync(OUTPUT, { recursive: true });
    const shot = path.join(OUTPUT, 'failing-check.png');
    await page.screenshot({ path: shot });
    expect(fs.statSync(shot).size).toBeGreaterThan(20_000);
    await page.screenshot({ path: path.join(OUTPUT, 'whole-page.png'), fullPage: true });
  });

  it('a banner and a log line holding <script> and <img onerror> show as text and run nothing', async () => {
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
    const details = page.locator(`details#c-${scenario}-${check}`);
    expect(await details.locator('.ladder .step.s-S').first().innerText()).toContain(`220 mx.lab.test ESMTP ${PAYLOAD}`);
    expect(await details.locator('.obs .log li').first().innerText()).toContain(`${PAYLOAD} ${IMG_PAYLOAD}`);
    // Not removed by the CSP either: the page's DOM has no element the payload would have made.
    expect(await page.evaluate(() => [(globalThis as any).document.scripts.length, (globalThis as any).document.images.length])).toEqual([1, 0]);
  });

  it('works from file:// with nothing fetched but the page itself, no script error and no CSP complaint', () => {
    expect(requests).toEqual([pathToFileURL(files.html!).href]);
    expect(pageErrors).toEqual([]);
    expect(consoleLines.filter((l) => /error|refused|content security policy/i.test(l))).toEqual([]);
  });

  it('junit.xml of the same report is well-formed XML with one testcase per check', async () => {
    const xml = fs.readFileSync(files.junit!, 'utf8');
    const parsed = await page.evaluate((text) => {
      const doc = new (globalThis as any).DOMParser().parseFromString(text, 'application/xml');
      const err = doc.getElementsByTagName('parsererror')[0];
      return { error: err ? err.textContent : null, testcases: doc.getElementsByTagName('testcase').length, failures: doc.getElementsByTagName('failure').length, greeting: doc.querySelector('failure')?.getAttribute('message')?.slice(0, 40) ?? null };
    }, xml);
    expect(parsed.error).toBeNull();
    expect(parsed.testcases).toBe(report.scenarios.reduce((n, s) => n + s.checks.length, 0));
    expect(parsed.failures).toBe(report.summary.checks.fail);
  });
});
