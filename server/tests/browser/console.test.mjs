// The help-desk console in a real browser (issue 14): headless chromium against the real
// softtoken-server on a temp SQLite database, the desktop token `softtoken` as the operators'
// and the customers' token, the bank API as the bank's back end. Elements are found by the
// `data-testid`s of the console contract; every page visited is screenshot at 1280×800 and
// 390×844 and must not scroll sideways at either size.
//
// The tests run in order and build on each other (one server, one signed-in help desk), as a
// help-desk shift would: sign in, unlock a customer, revoke a lost phone, issue an
// activation; then the auditor exports what happened.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DesktopToken, Server, accepted, activatedCustomer, checkJapanese, checkLayout, launchBrowser, outputDir, parseCsv, repo,
} from './harness.mjs';

const helpdesk = { name: 'madoguchi.sato', role: 'helpdesk', password: 'correct horse battery 1' };
const auditor = { name: 'kansa.tanaka', role: 'auditor', password: 'audit-password-2026' };
const admin = { name: 'kanri.suzuki', role: 'admin', password: 'admin-password-2026-x' };
const superuser = { name: 'honbu.kato', role: 'superuser', password: 'superuser-password-2026', service: null };

let server;
let browser;
let desk; // the help desk's signed-in page
const customers = {};

before(async () => {
  server = new Server();
  server.operatorAdd(helpdesk);
  server.operatorAdd(auditor);
  server.operatorAdd(admin);
  server.operatorAdd(superuser);
  await server.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  for (const customer of Object.values(customers)) customer.token.remove();
});

async function newPage() {
  // A Japanese help desk's browser: the console answers in Japanese by Accept-Language.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 }, acceptDownloads: true, locale: 'ja-JP', timezoneId: 'Asia/Tokyo',
  });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  // A page that breaks its CSP (an inline style or script: "Refused to apply …") or throws
  // shows it here. A 4xx answer (a refused sign-in is a 401) or the browser's own favicon
  // request is logged as "Failed to load resource" and is no fault of the page.
  const problems = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.problems = problems;
  return page;
}

/** Fills and submits the sign-in form; `otp` empty at the first sign-in. */
async function submitLogin(page, operator, otp = '') {
  const form = page.getByTestId('login-form');
  await form.locator('[name=name]').fill(operator.name);
  await form.locator('[name=password]').fill(operator.password);
  await form.locator('[name=otp]').fill(otp);
  await page.getByTestId('login-submit').click();
}

/**
 * The first sign-in: password, then the enrollment page; the operator's own desktop token
 * activates from the shown URI and the first code confirms it. Returns the token and the
 * next code (the one a later sign-in may use).
 */
async function firstSignIn(page, operator, screenshotName) {
  await page.goto(`${server.url}/console`);
  await page.waitForURL(/\/console\/login/);
  await submitLogin(page, operator);
  const uri = (await page.getByTestId('activation-uri').textContent()).trim();
  const startPassword = (await page.getByTestId('start-password').textContent()).trim();
  assert.match(uri, /^softtoken:\/\/activate\?/);
  assert.match(uri, /service=_console/);
  await checkLayout(page, screenshotName, ['[data-testid=activation-qr]', '[data-testid=activation-uri]', '[data-testid=enroll-confirm]']);
  // Words for an operator (issue 25 item 7): stay on this page and type the code here.
  const keepOpen = (await page.getByTestId('enroll-keep-open').textContent()).trim();
  assert.match(keepOpen, /この画面を開いたまま/);
  assert.ok(!(await page.content()).includes('閉じて'), 'the enrolment page says to close it');
  await checkJapanese(page, screenshotName);
  // The QR code is a real image the browser decoded, not a broken one.
  const qrWidth = await page.getByTestId('activation-qr').evaluate((img) => img.naturalWidth);
  assert.ok(qrWidth > 0, 'the QR image did not load');

  const token = new DesktopToken();
  token.activate(uri, startPassword);
  const { code, next_code: nextCode } = token.codes();
  await page.getByTestId('enroll-confirm-form').locator('[name=otp]').fill(code);
  await page.getByTestId('enroll-confirm').click();
  await page.getByTestId('logout').waitFor();
  return { token, nextCode };
}

/** Opens a customer's page through the search form (partial match). */
async function findCustomer(page, query, userId, screenshotName) {
  await page.getByTestId('nav-users').click();
  await page.getByTestId('search-form').locator('[name=q]').fill(query);
  await page.getByTestId('search-submit').click();
  const link = page.getByTestId('user-link').filter({ hasText: userId });
  await link.waitFor();
  if (screenshotName) await checkLayout(page, screenshotName, ['[data-testid=search-form]', '[data-testid=user-link]']);
  await link.click();
  await page.getByTestId('user-id').filter({ hasText: userId }).waitFor();
}

test('an operator signs in with password, enrols their own token, and signs in with its code', async () => {
  const page = await newPage();
  await page.goto(`${server.url}/console`);
  await page.waitForURL(/\/console\/login/);
  await checkLayout(page, '01-login', ['[data-testid=login-form]', '[data-testid=login-submit]']);
  await checkJapanese(page, '01-login');

  // A wrong password counts but shows no tries left: an unknown name answers the same.
  await submitLogin(page, { ...helpdesk, password: 'not the password!' });
  await page.getByTestId('error').waitFor();
  assert.equal(await page.getByTestId('tries-left').count(), 0, 'tries left shown for a wrong password');
  await checkLayout(page, '02-login-error', ['[data-testid=error]', '[data-testid=login-submit]']);
  await checkJapanese(page, '02-login-error');

  const { token, nextCode } = await firstSignIn(page, helpdesk, '03-enroll');
  customers.helpdesk = { token };
  await page.waitForURL(/\/console\/users/);
  await checkLayout(page, '04-users', ['[data-testid=search-form]', '[data-testid=issue-form]', '[data-testid=logout]']);
  await checkJapanese(page, '04-users');
  assert.equal((await page.getByTestId('operator-role').textContent()).trim(), 'ヘルプデスク');
  assert.equal((await page.getByTestId('operator-name').textContent()).trim(), helpdesk.name);

  // Signed out, the console is closed; password + a code of the own token opens it again.
  await page.getByTestId('logout').click();
  await page.waitForURL(/\/console\/login/);
  await page.goto(`${server.url}/console/users`);
  await page.waitForURL(/\/console\/login/);
  await submitLogin(page, helpdesk, nextCode);
  await page.waitForURL(/\/console\/users/);
  await page.getByTestId('search-form').waitFor();
  assert.deepEqual(page.problems, []);
  desk = page;
});

test('a customer locked by wrong codes is found by part of the user ID, unlocked, and the next code verifies', async () => {
  assert.ok(desk, 'the help desk is signed in');
  const customer = await activatedCustomer(server.bank, 'yamada-taro-0001');
  customers.locked = customer;
  // Wrong codes until the service locks the user (max failures 5, the default policy).
  const { code } = customer.token.codes();
  const wrong = [...code].map((digit) => String((Number(digit) + 5) % 10)).join('');
  for (let i = 0; i < 5; i += 1) assert.ok(!accepted(await server.bank.verify(customer.userId, wrong)));
  // Locked: even a right code is refused now.
  assert.ok(!accepted(await server.bank.verify(customer.userId, customer.token.codes().next_code)), 'locked user verified');

  await findCustomer(desk, 'taro', customer.userId, '05-search');
  await desk.getByTestId('user-locked').waitFor();
  assert.equal((await desk.getByTestId('user-failures').textContent()).trim(), '5');
  await checkLayout(desk, '06-user-locked', ['[data-testid=user-locked]', '[data-testid=unlock]', '[data-testid=token-row]']);
  assert.equal((await desk.getByTestId('user-locked').textContent()).trim(), '利用停止');
  await checkJapanese(desk, '06-user-locked');

  await desk.getByTestId('unlock').click();
  await desk.getByTestId('notice').waitFor();
  assert.equal(await desk.getByTestId('user-locked').count(), 0, 'still shown as locked');
  assert.equal((await desk.getByTestId('user-failures').textContent()).trim(), '0');
  await checkLayout(desk, '07-user-unlocked', ['[data-testid=notice]', '[data-testid=token-row]']);
  await checkJapanese(desk, '07-user-unlocked');

  // The next code verifies through the bank API (the locked attempt above consumed none).
  const verified = await server.bank.verify(customer.userId, customer.token.codes().next_code);
  assert.ok(accepted(verified), `after unlock: ${JSON.stringify(verified)}`);
  assert.deepEqual(desk.problems, []);
});

test('the operator revokes a lost phone\'s token and sees when a new one may be issued', async () => {
  assert.ok(desk, 'the help desk is signed in');
  const customer = await activatedCustomer(server.bank, 'suzuki-hanako-0002');
  customers.lost = customer;
  // Found by a part of the serial, as read out by the customer.
  await findCustomer(desk, customer.serial.slice(2, 9), customer.userId);
  const row = desk.locator(`[data-testid=token-row][data-serial="${customer.serial}"]`);
  assert.equal((await row.getByTestId('token-state').textContent()).trim(), '利用中');
  await checkLayout(desk, '08-user-active', ['[data-testid=revoke]', '[data-testid=issue-form]']);

  // One click only asks (issue 25 item 3): what happens, the wait, what the customer sees.
  await row.getByTestId('revoke').click();
  await desk.getByTestId('confirm-page').waitFor();
  const lines = (await desk.getByTestId('confirm-line').allTextContents()).join('\n');
  assert.match(lines, /トークン失効/);
  assert.match(lines, /新しいトークンを発行できるのは .*\d{2}:\d{2}/);
  assert.match(lines, /お客さまのアプリ/);
  await checkLayout(desk, '09-confirm-revoke', ['[data-testid=confirm-submit]', '[data-testid=confirm-cancel]']);
  await checkJapanese(desk, '09-confirm-revoke');
  // Cancelled, nothing happened.
  await desk.getByTestId('confirm-cancel').click();
  assert.equal((await row.getByTestId('token-state').textContent()).trim(), '利用中');
  await row.getByTestId('revoke').click();
  await desk.getByTestId('confirm-submit').click();
  await desk.getByTestId('cooldown-until').waitFor();
  assert.equal((await row.getByTestId('token-state').textContent()).trim(), 'トークン失効');
  const cooldown = (await desk.getByTestId('cooldown-until').textContent()).trim();
  assert.match(cooldown, /\d{1,2}:\d{2}/, `the cool-down end shows a time: ${cooldown}`);
  // The cool-down in words, the issue form disabled (issue 25 item 5).
  const wait = (await desk.getByTestId('cooldown-wait').textContent()).trim();
  assert.match(wait, /^新しいトークンを発行できるのは \d{2}:\d{2} 以降（あと \d+ 分）$/);
  assert.ok(await desk.getByTestId('issue-submit').isDisabled(), 'the issue form works during the cool-down');
  await checkLayout(desk, '09-user-revoked', ['[data-testid=cooldown-until]', '[data-testid=cooldown-wait]', '[data-testid=token-row]']);
  await checkJapanese(desk, '09-user-revoked');

  // A code the lost phone makes offline is refused by the bank; once online, the phone
  // learns the revocation and shows no code at all.
  const offline = customer.token.codes({ offline: true });
  assert.ok(!accepted(await server.bank.verify(customer.userId, offline.next_code)), 'revoked token verified');
  assert.deepEqual(customer.token.shown(), [], 'the revoked token still shows a code');
  assert.deepEqual(desk.problems, []);
});

test('the operator issues an activation, the desktop token activates from the shown URI, the bank confirms it', async () => {
  assert.ok(desk, 'the help desk is signed in');
  await desk.getByTestId('nav-users').click();
  const form = desk.getByTestId('issue-form');
  await form.locator('[name=user_id]').fill('sato-jiro-0003');
  await desk.getByTestId('issue-submit').click();
  const uri = (await desk.getByTestId('activation-uri').textContent()).trim();
  const startPassword = (await desk.getByTestId('start-password').textContent()).trim();
  assert.match(uri, new RegExp(`^softtoken://activate\\?.*service=${server.serviceId}`));
  assert.ok(startPassword.length >= 8, `generated start password: ${startPassword}`);
  await desk.getByTestId('expires-at').waitFor();
  await checkLayout(desk, '10-issued', ['[data-testid=activation-qr]', '[data-testid=activation-uri]', '[data-testid=start-password]']);
  await checkJapanese(desk, '10-issued');

  const token = new DesktopToken();
  customers.issued = { token };
  const { serial } = token.activate(uri, startPassword);
  const confirmed = await server.bank.confirm('sato-jiro-0003', token.codes().code);
  assert.ok(accepted(confirmed), `confirm: ${JSON.stringify(confirmed)}`);

  // The user's page now shows the token active, and the start password is gone.
  await desk.getByTestId('back-to-user').click();
  const row = desk.locator(`[data-testid=token-row][data-serial="${serial}"]`);
  await row.waitFor();
  assert.equal((await row.getByTestId('token-state').textContent()).trim(), '利用中');
  assert.equal(await desk.getByTestId('start-password').count(), 0);
  assert.ok(!(await desk.content()).includes(startPassword), 'the start password is shown again');
  await checkLayout(desk, '11-user-issued', ['[data-testid=token-row]', '[data-testid=user-audit]']);
  await checkJapanese(desk, '11-user-issued');
  assert.deepEqual(desk.problems, []);
});

test('the operator stops a customer\'s one-time passwords after a confirmation, and the stopped token stays on the page', async () => {
  assert.ok(desk, 'the help desk is signed in');
  const customer = await activatedCustomer(server.bank, 'takahashi-ken-0004');
  customers.stopped = customer;
  await findCustomer(desk, 'takahashi', customer.userId);
  await desk.getByTestId('stop').click();
  await desk.getByTestId('confirm-page').waitFor();
  const lines = (await desk.getByTestId('confirm-line').allTextContents()).join('\n');
  assert.match(lines, /利用中止/);
  assert.ok(lines.includes(customer.serial), `the confirmation names the token: ${lines}`);
  await checkLayout(desk, '15-confirm-stop', ['[data-testid=confirm-submit]']);
  await checkJapanese(desk, '15-confirm-stop');
  await desk.getByTestId('confirm-submit').click();
  await desk.getByTestId('notice').waitFor();
  // Unbound, yet shown (issue 25 item 4): 利用中止, when, by whom.
  const stopped = desk.locator(`[data-testid=stopped-row][data-serial="${customer.serial}"]`);
  await stopped.waitFor();
  assert.equal((await stopped.getByTestId('stopped-state').textContent()).trim(), '利用中止');
  assert.equal((await stopped.getByTestId('stopped-by').textContent()).trim(), helpdesk.name);
  assert.match((await stopped.getByTestId('stopped-at').textContent()).trim(), /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  await checkLayout(desk, '16-user-stopped', ['[data-testid=stopped-tokens]', '[data-testid=notice]']);
  await checkJapanese(desk, '16-user-stopped');
  assert.deepEqual(desk.problems, []);
});

test('a transfer the bank asked the customer to confirm shows on the customer\'s page in Japanese', async () => {
  assert.ok(desk, 'the help desk is signed in');
  const customer = await activatedCustomer(server.bank, 'ito-akira-0005');
  customers.transfer = customer;
  // The bank creates a transfer challenge and checks a wrong code for it: both rows carry
  // typed details (the challenge's masked account and amount, the check's outcome).
  const created = await server.bank.post(`/users/${customer.userId}/transactions`, {
    payee_account: '1234567890', payee_name: 'ヤマダ商店', amount: 50000, currency: 'JPY',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const checked = await server.bank.post(`/users/${customer.userId}/transactions/${created.body.id}/verify`, { otp: '00000000' });
  assert.equal(checked.status, 200, JSON.stringify(checked.body));
  await findCustomer(desk, 'ito-akira', customer.userId);
  const details = (await desk.getByTestId('event-detail').allTextContents()).join('\n');
  assert.match(details, /50,000円/, `the transfer's amount in the page's words: ${details}`);
  assert.match(details, /誤ったコード 取引/, `the check's outcome in the page's words: ${details}`);
  await checkLayout(desk, '16b-user-transfer', ['[data-testid=user-audit]']);
  await checkJapanese(desk, '16b-user-transfer');
  // The bank's audit API keeps the English it always gave.
  const audit = await fetch(`${server.url}/v1/services/${server.serviceId}/audit?limit=1000`, {
    headers: { authorization: `Bearer ${server.apiKey}` },
  }).then((r) => r.json());
  const made = audit.events.find((e) => e.kind === 'transaction_created' && e.user_id === customer.userId);
  assert.match(made.detail, /^id=\S+ digest=[0-9a-f]+ account=\*+7890 amount=50000 JPY$/, made.detail);
  assert.deepEqual(desk.problems, []);
});

test('an auditor exports the audit trail as CSV with the help desk\'s actions in it', async () => {
  const page = await newPage();
  const { token } = await firstSignIn(page, auditor, '12-auditor-enroll');
  customers.auditor = { token };
  await page.waitForURL(/\/console\/audit/);
  await page.getByTestId('audit-row').first().waitFor();
  await checkLayout(page, '13-audit', ['[data-testid=audit-filter]', '[data-testid=csv-export]', '[data-testid=audit-table]']);
  await checkJapanese(page, '13-audit');
  // Read-only: no action forms for an auditor.
  assert.equal(await page.locator('[data-testid=unlock-form], [data-testid=revoke-form], [data-testid=issue-form]').count(), 0);

  // Filtered by the unlocked customer: the page and the export show only their rows.
  const filter = page.getByTestId('audit-filter');
  await filter.locator('[name=user]').fill('yamada-taro-0001');
  await filter.locator('button, input[type=submit]').first().click();
  await page.waitForURL(/user=yamada-taro-0001/);
  await checkLayout(page, '14-audit-filtered', ['[data-testid=csv-export]', '[data-testid=audit-table]']);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-export').click()]);
  assert.equal(download.suggestedFilename(), `audit-${server.serviceId}.csv`);
  const file = join(outputDir, download.suggestedFilename());
  await download.saveAs(file);
  const text = readFileSync(file, 'utf8');
  const lines = text.trim().split(/\r?\n/);
  assert.equal(lines[0], 'id,at,kind,user_id,serial,operator,detail');
  const rows = parseCsv(text).slice(1);
  assert.ok(rows.length >= 3, `rows for the customer: ${lines.join('\n')}`);
  for (const row of rows) assert.equal(row[3], 'yamada-taro-0001', `a row of another user: ${row}`);
  // The help desk's unlock names the operator; the bank's own calls name none.
  const byDesk = rows.filter((row) => row[5] === helpdesk.name);
  assert.equal(byDesk.length, 1, `one console action on this customer: ${lines.join('\n')}`);
  assert.match(byDesk[0][2], /unlock/);
  // Oldest first: the activation comes before the unlock.
  const ids = rows.map((row) => Number(row[0]));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.deepEqual(page.problems, []);
});

test('an administrator sets the policy with its night cut-off, and sees the operators in aligned rows', async () => {
  const page = await newPage();
  const { token } = await firstSignIn(page, admin, '17-admin-enroll');
  customers.admin = { token };
  await page.getByTestId('nav-policy').click();
  await page.getByTestId('policy-form').waitFor();
  // Only what the rule allows (issue 25 item 6): 6 and 8 digits, no 7.
  const digits = await page.getByTestId('policy-digits').locator('option').evaluateAll((options) => options.map((o) => o.value));
  assert.deepEqual(digits, ['', '6', '8']);
  await page.getByTestId('policy-night-cutoff').fill('20:50-08:10');
  await page.getByTestId('policy-night-zone').fill('Asia/Tokyo');
  await page.getByTestId('policy-submit').click();
  await page.getByTestId('notice').waitFor();
  assert.equal(await page.getByTestId('policy-night-cutoff').inputValue(), '20:50-08:10');
  await checkLayout(page, '18-policy', ['[data-testid=policy-night-cutoff]', '[data-testid=policy-submit]']);
  await checkJapanese(page, '18-policy');
  // A window the rule refuses is named, in Japanese.
  await page.getByTestId('policy-night-cutoff').fill('25:00-08:10');
  await page.getByTestId('policy-submit').click();
  await page.getByTestId('error').waitFor();
  assert.match(await page.getByTestId('error').textContent(), /night_cutoff/);
  await checkJapanese(page, '18-policy-refused');

  // The operators table (issue 25 item 11): every cell of a row starts and ends with it.
  await page.getByTestId('nav-operators').click();
  await page.getByTestId('operators-table').waitFor();
  await checkLayout(page, '19-operators', ['[data-testid=operators-table]', '[data-testid=operator-add-form]']);
  // Each cell's content centred on the row's middle: a name beside taller buttons lines up.
  const rows = await page.getByTestId('operator-row').evaluateAll((trs) => trs.map((tr) => {
    const row = tr.getBoundingClientRect();
    const middle = (row.top + row.bottom) / 2;
    return [...tr.cells].map((td) => {
      const cell = td.getBoundingClientRect();
      const range = document.createRange();
      range.selectNodeContents(td);
      const content = range.getBoundingClientRect();
      return {
        top: cell.top - row.top,
        bottom: row.bottom - cell.bottom,
        display: getComputedStyle(td).display,
        offCentre: content.height > 0 ? Math.abs((content.top + content.bottom) / 2 - middle) : 0,
      };
    });
  }));
  assert.ok(rows.length >= 3, `operators listed: ${rows.length}`);
  for (const cells of rows) {
    for (const cell of cells) {
      assert.equal(cell.display, 'table-cell', `a cell left the table: ${JSON.stringify(cells)}`);
      assert.ok(Math.abs(cell.top) < 1 && Math.abs(cell.bottom) < 1, `a cell out of its row: ${JSON.stringify(cells)}`);
      assert.ok(cell.offCentre < 3, `a cell's content off the row's middle: ${JSON.stringify(cells)}`);
    }
  }
  const roles = await page.getByTestId('operator-row').locator('[data-role]').allTextContents();
  assert.ok(roles.every((role) => /[^\x00-\x7f]/.test(role)), `roles in English: ${roles}`);
  await checkJapanese(page, '19-operators');

  for (const [nav, name] of [['nav-import', '20-import'], ['nav-api-key', '21-api-key'], ['nav-audit', '22-audit-admin']]) {
    await page.getByTestId(nav).click();
    await page.waitForLoadState();
    await checkLayout(page, name);
    await checkJapanese(page, name);
  }
  // A PSKC import's report, its skip reasons in Japanese.
  await page.getByTestId('nav-import').click();
  await page.getByTestId('import-pskc').setInputFiles(join(repo, 'crates/pskc/tests/fixtures/mixed-skips.pskcxml'));
  await page.getByTestId('import-submit').click();
  await page.getByTestId('import-report').waitFor();
  await checkLayout(page, '20b-import-report', ['[data-testid=import-report]']);
  await checkJapanese(page, '20b-import-report');
  await page.goto(`${server.url}/console/no-such-page`);
  await checkJapanese(page, '23-not-found');
  assert.deepEqual(page.problems, []);
});

test('a superuser picks the service to work on, in Japanese', async () => {
  const page = await newPage();
  const { token } = await firstSignIn(page, superuser, '24-superuser-enroll');
  customers.superuser = { token };
  await page.waitForURL(/\/console\/services/);
  assert.equal((await page.getByTestId('operator-role').textContent()).trim(), 'スーパーユーザー');
  await checkLayout(page, '25-services', ['[data-testid=service-select]', '[data-testid=service-pick-submit]']);
  await checkJapanese(page, '25-services');
  await page.getByTestId('service-pick-submit').click();
  await page.waitForURL(/\/console\/users/);
  await checkJapanese(page, '26-superuser-users');
  assert.deepEqual(page.problems, []);
});
