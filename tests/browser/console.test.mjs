// Browser test of the web console (issue 7) in headless Chromium, driven
// by playwright-core with Debian's chromium. usage:
//   node console.test.mjs BASE_URL OUT_DIR USER PASSWORD
// Logs in, sees a syntax error next to the query box, searches, opens a
// call, places a hold there and releases it from the holds page, checks
// that hostile call text shows as text, exports a CSV and opens the audit
// page. Screenshots go to OUT_DIR. Exit 0 = pass.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, outDir, user, password] = process.argv.slice(2);
fs.mkdirSync(outDir, { recursive: true });
let failed = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failed++;
}
const shot = (page, name) => page.screenshot({ path: path.join(outDir, name + '.png'), fullPage: true });

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(15000);
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });

  await page.goto(base + '/');
  await page.waitForSelector('#login:not([hidden])');
  // every control has a label
  const unlabeled = await page.$$eval('input, select', (els) => els.filter((e) => !e.labels || !e.labels.length).map((e) => e.id));
  check(unlabeled.length === 0, 'every control has a label ' + unlabeled.join(','));
  await shot(page, '01-login');

  // wrong password: the error is shown, no session
  await page.fill('#login-user', user);
  await page.fill('#login-password', 'not-the-password');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  check(/wrong/.test(await page.textContent('#login-error')), 'a wrong password is refused');

  // log in with the keyboard
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#search:not([hidden])');
  check((await page.textContent('#who')).includes(user), 'logged in as ' + user);

  // a syntax error shows next to the box, not as "no results"
  await page.fill('#q', 'refund AND');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.getElementById('q-error').textContent.length > 0);
  const err = await page.textContent('#q-error');
  check(/position 11/.test(err), 'syntax error names the position: ' + err);
  check(!/No calls match/.test(await page.textContent('#search-status')), 'not shown as no results');
  await shot(page, '02-syntax-error');

  // search with a filter; hits are highlighted
  await page.fill('#q', 'refund');
  await page.selectOption('#f-sort', 'oldest');
  await page.press('#q', 'Enter');
  await page.waitForSelector('#results tbody tr');
  const rows = await page.$$eval('#results tbody tr', (r) => r.map((x) => x.cells[0].textContent));
  check(rows.length >= 3 && rows.includes('c01'), 'search finds the refund calls: ' + rows.join(' '));
  check((await page.$$('#results tbody mark')).length > 0, 'snippets highlight the hits');
  check((await page.textContent('#q-error')) === '', 'the error is gone');
  await shot(page, '03-search');

  // times: the store's zone (UTC here) named until the session picks one,
  // then shown on that zone's wall clock, the zone named in the header
  check(/\(UTC\)/.test(await page.textContent('#results thead .tz-th')), 'the time column names the zone');
  await page.fill('#f-tz', 'America/Chicago');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => /America\/Chicago/.test(document.querySelector('#results thead .tz-th').textContent));
  const t0 = await page.$eval('#results tbody tr', (r) => r.cells[1].textContent);
  check(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d C[DS]T$/.test(t0), 'times shown in the session\'s zone: ' + t0);

  // open a call: turns by speaker, hits marked, versions with hashes
  await page.click('#results tbody a >> text=c01');
  await page.waitForSelector('#call:not([hidden]) #call-turns li');
  check((await page.$$('#call-turns li.bot')).length > 0 && (await page.$$('#call-turns li.human')).length > 0,
    'bot and caller turns are distinguished');
  check((await page.$$('#call-turns mark')).length > 0, 'transcript hits are marked');
  check(/^[0-9a-f]{64}$/.test((await page.textContent('#call-versions tbody .hash')).trim()), 'a version shows its hash');
  await shot(page, '04-call');

  // place a hold from the call page, then release it from the holds page
  check(/No active hold/.test(await page.textContent('#call-holds')), 'the call starts unheld');
  await page.fill('#hold-matter', 'Doe v. Acme');
  await page.fill('#hold-reason', 'litigation');
  await page.click('#hold-form button[type=submit]');
  await page.waitForFunction(() => /under a legal hold/.test(document.getElementById('call-holds').textContent));
  check(true, 'a hold placed from the call page covers the call');
  await page.click('#nav-holds');
  await page.waitForSelector('#holds:not([hidden]) #holds-table tbody tr');
  check((await page.textContent('#holds-table')).includes('Doe v. Acme'), 'the holds page lists it');
  await shot(page, '04b-holds');
  await page.fill('#holds-table tbody input', 'settled');
  await page.click('#holds-table tbody button');
  await page.waitForFunction(() => /^0 active/.test(document.getElementById('holds-status').textContent));
  check(true, 'the hold is released with a reason');

  // hostile text in a call shows as text and runs nothing
  await page.goto(base + '/#/call/x1');
  await page.waitForSelector('#call:not([hidden]) #call-turns li');
  const turns = await page.textContent('#call-turns');
  check(turns.includes('<script>alert(1)</script>'), 'a <script> transcript shows as text');
  check(turns.includes('" onmouseover="alert(2)'), 'an attribute injection shows as text');
  check(await page.evaluate(() => document.scripts.length) === 1, 'no script element was added');
  check(await page.evaluate(() => document.querySelectorAll('#call img, [onmouseover], [onerror]').length) === 0,
    'no element was made from call data');
  await page.hover('#call-turns li.human');
  await shot(page, '05-xss-as-text');

  // a recording plays in the browser's <audio>, opened from a search at
  // the moment the hit was said; its timed sentences seek (issue 20)
  await page.goto(base + '/#/call/r1?q=visit');
  await page.waitForSelector('#call:not([hidden]) #call-media audio');
  const audioSel = '#call-media audio';
  await page.waitForFunction((s) => { const a = document.querySelector(s); return a.readyState >= 1 && a.currentTime > 0; }, audioSel);
  const dur = await page.evaluate((s) => document.querySelector(s).duration, audioSel);
  check(Math.abs(dur - 6) < 0.1, 'the recording loads in <audio> (' + dur + ' s)');
  const at = await page.evaluate((s) => document.querySelector(s).currentTime, audioSel);
  check(Math.abs(at - 2) < 0.05, 'opened from a search, it starts where the hit was said (' + at + ' s)');
  check(/book a visit/.test(await page.textContent('#call-media .timed li.hit')), 'that sentence is marked');
  await page.click('#call-media .timed li:nth-child(3) button');
  await page.waitForFunction((s) => document.querySelector(s).currentTime >= 4, audioSel);
  check(true, 'a timed sentence seeks the player');
  await shot(page, '05c-recording');

  // export the current search as CSV
  await page.goto(base + '/#/search?q=refund');
  await page.waitForSelector('#results tbody tr');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const csvPath = path.join(outDir, 'export.csv');
  await download.saveAs(csvPath);
  const csv = fs.readFileSync(csvPath, 'utf8');
  check(csv.startsWith('id,') && csv.includes('\r\n"c01",') && !csv.includes('\r\n"c02",'), 'the CSV holds the current search');

  // place a hold on every call of the current search
  const nres = (await page.$$('#results tbody tr')).length;
  await page.fill('#sh-matter', 'Roe v. Acme');
  await page.fill('#sh-reason', 'regulator request');
  await page.click('#search-hold-form button[type=submit]');
  await page.waitForFunction(() => /placed on/.test(document.getElementById('sh-status').textContent));
  const held = await page.textContent('#sh-status');
  check(new RegExp('placed on ' + nres + ' call').test(held), 'a hold from the search covers its ' + nres + ' calls: ' + held);
  await shot(page, '05b-hold-from-search');

  // the audit page shows the chain and this user's reads
  await page.click('#nav-audit');
  await page.waitForFunction(() => /Chain/.test(document.getElementById('audit-chain').textContent));
  check(/Chain verified/.test(await page.textContent('#audit-chain')), 'audit chain verified');
  const audit = await page.textContent('#audit-table');
  check(audit.includes(user) && audit.includes('export') && audit.includes('show'), 'reads and the export are audited by name');
  check(audit.includes('recording play'), 'a play of a recording is audited');
  // who, from where, as columns; the detail as "name: value", not JSON
  const heads = await page.$$eval('#audit-table th', (th) => th.map((t) => t.textContent));
  check(['OS user', 'Actor', 'Client', 'Command'].every((h) => heads.includes(h)), 'audit columns: ' + heads.join('|'));
  const cells = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)));
  const search = cells.find((c) => c[3] === user && c[5] === 'search');
  check(search && search[4] === '127.0.0.1', 'a search names its client: ' + JSON.stringify(search));
  check(cells.every((c) => !c[7].includes('{"')), 'no raw JSON in the detail column');
  check(search && /^sort: /m.test(search[7]), 'the detail reads name: value: ' + (search && search[7]));
  // filtered by command
  await page.fill('#af-command', 'export');
  await page.click('#af-go');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#audit-table tbody tr')).every((tr) => tr.cells[5].textContent === 'export'));
  const nexp = (await page.$$('#audit-table tbody tr')).length;
  check(nexp >= 1, 'the command filter keeps the export entries: ' + nexp);
  await page.fill('#af-command', '');
  await shot(page, '06-audit');

  // readable at 200 % zoom: nothing wider than the window
  await page.setViewportSize({ width: 640, height: 900 });
  await page.goto(base + '/#/search?q=refund');
  await page.waitForSelector('#results tbody tr');
  await page.evaluate(() => { document.body.style.zoom = '2'; });
  await shot(page, '07-zoom-200');

  // log out: the API refuses the old session
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  const me = await page.evaluate(() => fetch('/api/me').then((r) => r.status));
  check(me === 401, 'logged out');

  check(dialogs === 0, 'no dialog was opened by call data');
  check(external.length === 0, 'nothing was fetched from elsewhere: ' + external.join(' '));
} catch (e) {
  console.log('FAIL ' + (e && e.stack || e));
  failed++;
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(failed ? failed + ' failed' : 'all passed');
process.exit(failed ? 1 : 0);
