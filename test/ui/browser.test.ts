/**
 * The web UI in a real browser (Debian's chromium driven by playwright-core): `sluice ui` against a test
 * repository, clicked through as a user would. Screenshots go to $SLUICE_SCREENSHOT_DIR (default
 * <tmpdir>/sluice-ui-screenshots), kept after the run. Without chromium the test is skipped, unless
 * SLUICE_REQUIRE_BROWSER=1 (CI), where a missing browser fails.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { ok } from '../helpers/cli.js';
import { sha256 } from '../helpers/tree.js';
import { testRepo } from '../repo/helpers.js';
import { HOSTILE_NAME, queryFixture } from '../repo/query-fixture.js';
import { startUi } from './ui-server.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
const required = process.env.SLUICE_REQUIRE_BROWSER === '1';
const SHOTS = process.env.SLUICE_SCREENSHOT_DIR ?? join(tmpdir(), 'sluice-ui-screenshots');

/** Chromium with a fresh profile directory of its own (launch() removes it when the browser closes). */
async function launch(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    // A close that hangs (seen once on a loaded machine) must not hold the test run: kill the process.
    const closed = await Promise.race([browser.close().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    if (!closed) (browser as unknown as { process?: () => { kill(signal: string): void } | null }).process?.()?.kill('SIGKILL');
  });
  return browser;
}

test('chromium is there when the browser tests are required', { skip: !required && 'SLUICE_REQUIRE_BROWSER is not set' }, () => {
  assert.ok(haveBrowser, `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
});

test('the web UI in chromium: timeline, browser, preview, stream, search, history, diff, download, check, hostile names', { skip: !haveBrowser && !required && `${CHROMIUM} is not installed`, timeout: 300_000 }, async (t) => {
  const f = await queryFixture(t);
  // A stream made by a command: its command line, exit status and stderr tail are shown.
  ok(await f.r.run(['snapshot', '--command', "db.sql=printf 'CREATE TABLE t (id INT);\\n'; echo 'dump: done' >&2", '--tag', 'dump', '--host', 'web1', '--time', '2026-12-02T02:00:00Z', '--no-progress']));
  const ui = await startUi(t, f.r);
  await mkdir(SHOTS, { recursive: true });
  const browser = await launch(t);
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(ui.base)) external.push(r.url());
  });
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  // Without the token: the page says so and the API refuses.
  const stranger = await context.newPage();
  await stranger.goto(`${ui.base}/`);
  await stranger.locator('.no-token').waitFor();
  assert.equal(await stranger.evaluate(async () => (await fetch('/api/snapshots')).status), 401);
  await stranger.close();

  // Timeline.
  await page.goto(ui.url);
  await page.locator('table.timeline tbody tr').first().waitFor();
  assert.equal(await page.locator('table.timeline tbody tr').count(), 4);
  assert.doesNotMatch(page.url(), /token=/, 'the token leaves the address bar');
  await page.selectOption('select[name=host]', 'db1');
  assert.equal(await page.locator('table.timeline tbody tr').count(), 2);
  await page.selectOption('select[name=host]', '');
  await page.selectOption('select[name=tag]', 'weekly');
  assert.equal(await page.locator('table.timeline tbody tr').count(), 1);
  await page.selectOption('select[name=tag]', '');
  await shot('timeline');

  // Browser: from the timeline into the tree of the second snapshot, down to the SQL file.
  const second = f.ids[1];
  await page.locator(`tr[data-snapshot="${second}"] a.snapshot-link`).click();
  for (const part of f.src.slice(1).split('/')) {
    await page.locator(`table.browser tr[data-name="${part}"] a`).click();
    await page.locator('.breadcrumbs a', { hasText: part }).waitFor();
  }
  await page.locator('table.browser tr[data-name="backup"] a').click();
  await page.locator('table.browser tr[data-name="ibdata1"]').waitFor();
  await page.locator('th[data-sort=size]').click();
  await page.locator('th[data-sort=size]').click();
  assert.equal(await page.locator('table.browser tbody tr').first().getAttribute('data-name'), 'ibdata1', 'largest first after sorting by size, descending');
  await shot('browser');
  await page.locator('.breadcrumbs a', { hasText: 'src' }).click();
  await page.locator('table.browser tr[data-name="etc"] a').click();
  await page.locator('table.browser tr[data-name="schema.sql"] a').click();

  // Preview of a SQL file: highlighted by highlight.js.
  await page.locator('pre.code code.language-sql .hljs-keyword').first().waitFor();
  const keywords = await page.locator('pre.code .hljs-keyword').allTextContents();
  assert.ok(keywords.includes('CREATE TABLE') && keywords.includes('INSERT INTO'), keywords.join(','));
  assert.ok((await page.locator('pre.code .hljs-string').count()) > 0);
  await shot('preview-sql');

  // Download: the bytes are the original's.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a.download').click()]);
  assert.equal(download.suggestedFilename(), 'schema.sql');
  assert.equal(sha256(await readFile(await download.path())), sha256(f.files['etc/schema.sql'] as Buffer));

  // Binary as hex, an image shown.
  await page.goto(`${ui.base}/#/file?snapshot=${second}&path=${encodeURIComponent(`${f.src}/backup/ibdata1`)}`);
  await page.locator('pre.hex').waitFor();
  assert.match((await page.locator('pre.hex').textContent()) ?? '', /^00000000 {2}[0-9a-f]{2} /);
  await page.goto(`${ui.base}/#/file?snapshot=${second}&path=${encodeURIComponent(`${f.src}/media/dot.png`)}`);
  await page.locator('img.image').waitFor();
  type Img = { complete: boolean; naturalWidth: number; addEventListener(e: string, f: () => void): void };
  await page.locator('img.image').evaluate((el) => new Promise<void>((resolve) => ((el as unknown as Img).complete ? resolve() : (el as unknown as Img).addEventListener('load', () => resolve()))));
  assert.equal(await page.locator('img.image').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), 1);

  // Stream view: command, exit status, stderr tail.
  await page.goto(`${ui.base}/#/timeline`);
  await page.locator('table.timeline a', { hasText: 'db.sql' }).click();
  await page.locator('section.stream td.command').waitFor();
  assert.match((await page.locator('section.stream td.command').textContent()) ?? '', /printf/);
  assert.equal(await page.locator('section.stream td.ok').textContent(), '0');
  assert.match((await page.locator('pre.stderr').textContent()) ?? '', /dump: done/);
  await page.locator('pre.code .hljs-keyword').first().waitFor();
  await shot('stream');

  // Search.
  await page.locator('.tabs a', { hasText: 'Search' }).click();
  await page.fill('input[name=q]', '*.ibd');
  await page.locator('form button[type=submit]').click();
  await page.locator('.status', { hasText: '3 matches' }).waitFor();
  assert.deepEqual(await page.locator('table.results td.name').allTextContents(), [`${f.src}/backup/shop/items.ibd`, `${f.src}/backup/shop/orders.ibd`, `${f.src}/backup/shop/orders.ibd`]);
  await shot('search');
  await page.locator('table.results td.name a').first().click();
  await page.locator('h2.file-name', { hasText: 'items.ibd' }).waitFor();

  // History of a config file, then its two versions side by side.
  await page.goto(`${ui.base}/#/history?path=${encodeURIComponent(`${f.src}/etc/nginx/nginx.conf`)}`);
  await page.locator('.status', { hasText: '2 versions' }).waitFor();
  assert.deepEqual(await page.locator('table.versions tbody tr td:nth-child(4)').allTextContents(), ['content changed', 'appeared']);
  await shot('history');
  await page.locator('table.versions a', { hasText: 'compare with' }).click();
  await page.locator('table.side-by-side tbody tr').first().waitFor();
  const changedRows = await page.locator('table.side-by-side tr:not(.same)').count();
  assert.ok(changedRows >= 2, `changed rows: ${changedRows}`);
  assert.match((await page.locator('table.side-by-side').textContent()) ?? '', /worker_processes 1;.*worker_processes 4;/s);
  await page.locator('table.changes tbody tr').first().waitFor();
  assert.ok((await page.locator('table.changes td', { hasText: 'items.ibd' }).count()) === 1);
  await shot('diff');

  // The hostile file name is text, nothing was injected, no dialog fired.
  await page.goto(`${ui.base}/#/browse?snapshot=${second}&path=${encodeURIComponent(`${f.src}/notes`)}`);
  const hostileRow = page.locator('table.browser tbody tr').filter({ hasText: 'onerror' });
  await hostileRow.waitFor();
  assert.equal(await hostileRow.locator('td.name a').textContent(), HOSTILE_NAME);
  assert.equal(await page.locator('img').count(), 0, 'no <img> element was injected');
  await hostileRow.locator('td.name a').click();
  await page.locator('h2.file-name').waitFor();
  assert.equal(await page.locator('h2.file-name').textContent(), HOSTILE_NAME);
  await page.locator('pre.code').waitFor();
  assert.equal(await page.locator('img').count(), 0);
  await shot('hostile-name');

  // Check with progress, then its result and the locks.
  await page.locator('.tabs a', { hasText: 'Check' }).click();
  await page.locator('button.run-check').click();
  await page.locator('.check-state[data-state=ok]').waitFor({ timeout: 60_000 });
  assert.match((await page.locator('.check-state').textContent()) ?? '', /no problems found · finished .*4 snapshots/s);
  await page.locator('.locks', { hasText: 'no locks held' }).waitFor();
  await shot('check');

  assert.deepEqual(dialogs, [], 'no dialog fired');
  assert.deepEqual(external, [], 'nothing was fetched from anywhere but sluice ui');
});

test('a directory of 10,000 entries: only the rows in view are drawn, scrolling reaches the last one', { skip: !haveBrowser && !required && `${CHROMIUM} is not installed`, timeout: 300_000 }, async (t) => {
  const r = await testRepo(t);
  const big = join(r.dir, 'big');
  await mkdir(big);
  const name = (i: number) => `entry-${String(i).padStart(5, '0')}.txt`;
  for (let i = 0; i < 10_000; i += 1000) await Promise.all(Array.from({ length: 1000 }, (_, j) => writeFile(join(big, name(i + j)), `${i + j}\n`)));
  const id = (JSON.parse(ok(await r.run(['snapshot', big, '--json', '--no-progress'])).stdout.toString()) as { id: string }).id;
  const ui = await startUi(t, r);
  const browser = await launch(t);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(ui.url);
  await page.locator('table.timeline tbody tr.row').first().waitFor();
  await page.goto(`${ui.base}/#/browse?snapshot=${id}&path=${encodeURIComponent(big)}`);
  const rows = page.locator('table.browser tbody tr.row');
  await page.locator(`table.browser tr[data-name="${name(0)}"]`).waitFor();
  assert.equal(await page.locator('.count').textContent(), '10000 entries');
  const drawn = await rows.count();
  assert.ok(drawn > 10 && drawn < 200, `rows drawn: ${drawn}`);
  await page.locator('.scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  const last = page.locator(`table.browser tr[data-name="${name(9999)}"]`);
  await last.waitFor({ state: 'visible' });
  assert.equal(await page.locator(`table.browser tr[data-name="${name(0)}"]`).count(), 0, 'rows scrolled out of view are dropped');
  assert.ok((await rows.count()) < 200);
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'browser-10000.png') });
  // The middle of the list is reached too (each row sits where its place in the list says).
  await page.locator('.scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
  await page.locator(`table.browser tr[data-name="${name(5000)}"]`).waitFor({ state: 'visible' });
  await page.locator('.scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await last.locator('a').click();
  await page.locator('h2.file-name', { hasText: name(9999) }).waitFor();
  await page.locator('pre.code', { hasText: '9999' }).waitFor();
  // Sorted by name, descending: the last entry comes first.
  await page.goBack();
  await page.locator('th[data-sort=name]').click();
  await page.locator(`table.browser tbody tr.row >> nth=0`).waitFor();
  assert.equal(await rows.first().getAttribute('data-name'), name(9999));
});
