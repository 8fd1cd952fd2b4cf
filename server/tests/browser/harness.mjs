// The browser tests' harness: a real softtoken-server (target/debug) on a fresh SQLite data
// directory and a free loopback port, the bank's side of its service (the bank API over
// HTTP), desktop tokens (the real `softtoken` CLI, each with its own SOFTTOKEN_HOME), and a
// headless system chromium driven by playwright-core (which downloads no browser of its own).
//
// Every wait here waits for something (a log line, a selector, a navigation, a process
// exit); nothing sleeps. The server process is killed when the run ends, also on failure or
// on a signal.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's root. */
export const repo = resolve(here, '../../..');
/** Where the screenshots of every page visited go (kept after the run). */
export const screenshotDir = resolve(process.env.SOFTTOKEN_SCREENSHOT_DIR ?? join(repo, 'target/browser-screenshots'));
/** Where the other files a run produces (downloads, the server's log) go. */
export const outputDir = resolve(join(repo, 'target/browser-tests'));

const serverBin = process.env.SOFTTOKEN_SERVER_BIN ?? join(repo, 'target/debug/softtoken-server');
const tokenBin = process.env.SOFTTOKEN_BIN ?? join(repo, 'target/debug/softtoken');

/** The two screens the layout must hold on: a laptop and a phone (iPhone 12–15 size). */
export const viewports = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

// Everything started, so that an exit of any kind (a failed assertion, Ctrl-C) stops it.
const children = new Set();
function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Runs a command to completion; returns its stdout, or throws with its output. */
export function run(bin, args, { input, env } = {}) {
  const result = spawnSync(bin, args, {
    input,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/** The chromium to drive: $CHROMIUM_BIN, else Debian's (`apt-get install chromium`). */
export function chromiumPath() {
  // Debian's /usr/bin/chromium is a shell wrapper; its binary proper needs no wrapper flags
  // for a headless run.
  const candidates = [process.env.CHROMIUM_BIN, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) {
    throw new Error('no chromium found: install Debian\'s chromium (scripts/setup.sh does) or set CHROMIUM_BIN');
  }
  return found;
}

/** Launches headless chromium; the sandbox is off only when running as root (CI, containers). */
export async function launchBrowser() {
  const args = [];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args, timeout: 20_000 });
}

/**
 * A running softtoken-server with one service: `url`, `serviceId`, `dataDir`, the bank's
 * client `bank`, and `operatorAdd` to create console operators.
 */
export class Server {
  /** Creates the data directory and the service; `start()` then serves it. */
  constructor({ serviceId = 'shinkin', serviceName = 'テスト信用金庫', serviceArgs = [] } = {}) {
    for (const bin of [serverBin, tokenBin]) {
      if (!existsSync(bin)) throw new Error(`${bin} is missing: build it first (scripts/browser-tests.sh does)`);
    }
    this.dataDir = mkdtempSync(join(tmpdir(), 'softtoken-browser-'));
    this.serviceId = serviceId;
    this.serviceName = serviceName;
    const added = run(serverBin, ['service', 'add', '--id', serviceId, '--name', serviceName, '--data-dir', this.dataDir, ...serviceArgs]);
    // The API key is printed once, on the last line.
    this.apiKey = added.trim().split('\n').map((line) => line.trim()).filter(Boolean).pop();
    assert.match(this.apiKey, /^stk_/, `service add printed no API key: ${added}`);
  }

  /**
   * Adds a console operator with the given password (read from stdin, never in argv).
   * `service: null` with role `superuser` makes a service-less operator. An operator of a
   * service signs in as `name@service` (names are per service, issue 22): `operator.name`
   * becomes that sign-in name.
   */
  operatorAdd(operator) {
    const { name, role, password, service = this.serviceId } = operator;
    const args = ['operator', 'add', '--name', name, '--role', role, '--password-stdin', '--data-dir', this.dataDir];
    if (service) args.push('--service', service);
    const result = run(serverBin, args, { input: `${password}\n` });
    if (service) operator.name = `${name}@${service}`;
    return result;
  }

  /** Serves on a free loopback port; resolves once GET /v1/time answers there. */
  async start() {
    mkdirSync(outputDir, { recursive: true });
    const child = spawn(serverBin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir, '--app-rate-limit', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    this.child = child;
    this.log = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { this.log += chunk; });
    this.url = await new Promise((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`softtoken-server did not start in 20 s:\n${this.log}`)), 20_000);
      child.stdout.on('data', (chunk) => {
        this.log += chunk;
        const found = /listening on (http:\/\/\S+)/.exec(this.log);
        if (found) {
          clearTimeout(timer);
          resolveUrl(found[1]);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`softtoken-server exited (${code}):\n${this.log}`));
      });
    });
    const time = await fetch(`${this.url}/v1/time`);
    assert.equal(time.status, 200, 'GET /v1/time');
    this.bank = new Bank(this.url, this.serviceId, this.apiKey);
    return this;
  }

  /** Stops the server, keeps its log under target/browser-tests, removes its data. */
  async stop() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (child) children.delete(child);
    writeFileSync(join(outputDir, 'server.log'), this.log ?? '');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The bank's back end calling the bank API of one service with its API key. */
export class Bank {
  constructor(url, serviceId, apiKey) {
    this.url = url;
    this.serviceId = serviceId;
    this.apiKey = apiKey;
  }

  /** POSTs JSON to a path under /v1/services/SID; returns `{ status, body }`. */
  async post(path, body = {}) {
    const response = await fetch(`${this.url}/v1/services/${this.serviceId}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.status < 500, `POST ${path}: ${response.status} ${text}`);
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** GETs a path under /v1/services/SID; returns `{ status, body }`. */
  async get(path) {
    const response = await fetch(`${this.url}/v1/services/${this.serviceId}${path}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    const text = await response.text();
    assert.ok(response.status < 500, `GET ${path}: ${response.status} ${text}`);
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** Issues an activation; returns its activation URI. */
  async issueActivation(userId, startPassword) {
    const { status, body } = await this.post('/enrollments', { user_id: userId, start_password: startPassword });
    assert.ok(status >= 200 && status < 300, `enrollment for ${userId}: ${status} ${JSON.stringify(body)}`);
    return body.activation_uri;
  }

  /** Confirms the user's pending token with its first code; returns the response. */
  confirm(userId, code) {
    return this.post(`/users/${encodeURIComponent(userId)}/confirm`, { otp: code });
  }

  /** Verifies a code at login; returns the response (`body.valid` on a 2xx). */
  verify(userId, code) {
    return this.post(`/users/${encodeURIComponent(userId)}/verify`, { otp: code });
  }
}

/** A 2xx answer whose body does not say `"valid": false`. */
export function accepted({ status, body }) {
  return status >= 200 && status < 300 && body?.valid !== false;
}

/** A desktop token: the real `softtoken` CLI with a vault of its own. */
export class DesktopToken {
  constructor() {
    this.home = mkdtempSync(join(tmpdir(), 'softtoken-vault-'));
  }

  run(args, input) {
    return run(tokenBin, args, { input, env: { SOFTTOKEN_HOME: this.home } });
  }

  /** Activates from an activation URI (the one a QR code carries) with the start password. */
  activate(uri, startPassword) {
    return JSON.parse(this.run(['activate', '--uri', uri, '--password-stdin', '--json'], `${startPassword}\n`));
  }

  /** What `show --once --json` lists: the live tokens' codes (it asks the bank first). */
  shown({ offline = false } = {}) {
    return JSON.parse(this.run(['show', '--once', '--json', ...(offline ? ['--offline'] : [])]));
  }

  /** The current and the next code of the only token; `offline`: as last known, without
   *  asking the bank (a thief's phone kept off the network). */
  codes({ offline = false } = {}) {
    const shown = this.shown({ offline });
    assert.equal(shown.length, 1, `one token expected in ${this.home}: ${JSON.stringify(shown)}`);
    return shown[0];
  }

  /** Deletes the vault. */
  remove() {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/**
 * A customer with a confirmed token: the bank issues the activation, the desktop token
 * activates, the bank confirms with its first code. Returns `{ userId, token, serial }`;
 * the confirm used the current code, so the next code the test may use is `next_code`.
 */
export async function activatedCustomer(bank, userId) {
  const token = new DesktopToken();
  const uri = await bank.issueActivation(userId, '1234abcd');
  const { serial } = token.activate(uri, '1234abcd');
  const confirmed = await bank.confirm(userId, token.codes().code);
  assert.ok(accepted(confirmed), `confirm ${userId}: ${JSON.stringify(confirmed)}`);
  return { userId, token, serial };
}

/**
 * Screenshots the page at both viewports (full page, under `screenshotDir`) and asserts that
 * the layout holds on each: no horizontal scroll, and every selector in `keys` visible and
 * inside the screen's width. Leaves the page at the desktop size.
 */
export async function checkLayout(page, name, keys = []) {
  mkdirSync(screenshotDir, { recursive: true });
  // A locator resolves as soon as its element is parsed; the stylesheet counts only once the
  // page has loaded (a CI run read the sheets of a page still loading and found none).
  await page.waitForLoadState('load');
  // The console's stylesheet is loaded and applied (a CSP or path mistake would leave the
  // page unstyled, and the layout checks below would pass on the browser's defaults).
  const styled = await page.evaluate(() => ({
    sheets: [...document.styleSheets].map((sheet) => sheet.href ?? ''),
    background: getComputedStyle(document.body).backgroundColor,
  }));
  assert.ok(styled.sheets.some((href) => href.endsWith('/console/static/console.css')), `${name}: no console.css in ${styled.sheets}`);
  assert.equal(styled.background, 'rgb(243, 245, 248)', `${name}: console.css is not applied`);
  for (const viewport of viewports) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    }));
    await page.screenshot({ path: join(screenshotDir, `${name}-${viewport.width}x${viewport.height}.png`), fullPage: true });
    assert.ok(scrollWidth <= innerWidth, `${name} at ${viewport.width}px scrolls sideways: ${scrollWidth} > ${innerWidth}`);
    for (const key of keys) {
      const control = page.locator(key).first();
      assert.ok(await control.isVisible(), `${name} at ${viewport.width}px: ${key} is not visible`);
      const box = await control.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= innerWidth + 0.5,
        `${name} at ${viewport.width}px: ${key} is outside the screen (${JSON.stringify(box)})`);
    }
  }
  await page.setViewportSize({ width: viewports[0].width, height: viewports[0].height });
}

/**
 * The English catalogue's words (`pub static EN: Texts` in server/src/console/text.rs), three
 * letters or more, lower-cased; placeholders (`{time}`) and the names a Japanese page shows
 * too (the product, QR, URI, API, PSKC, CSV, XML, MiB, UTC, JST, OTP) left out.
 */
export function englishCatalogueWords() {
  const source = readFileSync(join(repo, 'server/src/console/text.rs'), 'utf8');
  const start = source.indexOf('pub static EN: Texts = Texts {');
  assert.ok(start >= 0, 'the English catalogue is not in text.rs');
  const block = source.slice(start, source.indexOf('\n};', start));
  const keep = new Set(['softtoken', 'qr', 'uri', 'api', 'pskc', 'csv', 'xml', 'mib', 'utc', 'jst', 'otp', 'hex']);
  const words = new Set();
  for (const [, value] of block.matchAll(/^\s+\w+: "((?:[^"\\]|\\.)*)",$/gm)) {
    for (const word of value.replace(/\{[^}]*\}/g, ' ').match(/[A-Za-z]{3,}/g) ?? []) {
      if (!keep.has(word.toLowerCase())) words.add(word.toLowerCase());
    }
  }
  assert.ok(words.size > 100, `too few English words read: ${words.size}`);
  return words;
}

/**
 * Asserts that a Japanese page shows no word of the English catalogue: everything it says
 * comes from the Japanese one. Left out: the language switch (it names English), and what is
 * data, not words (IDs, serials, operator and service names, codes, check IDs, a form
 * field's name in brackets such as （night_cutoff）, an IANA zone such as Asia/Tokyo).
 */
export async function checkJapanese(page, name, english = englishCatalogueWords()) {
  const text = await page.evaluate(() => {
    const body = document.body.cloneNode(true);
    const data = '[data-testid=lang-switch], .mono, code, [data-testid=operator-name], [data-testid=current-service], [data-testid=user-id], [data-testid=user-link], [data-testid=stopped-by]';
    for (const element of body.querySelectorAll(data)) element.remove();
    return body.innerText ?? body.textContent;
  });
  const words = text.replace(/id=\S+/g, ' ').replace(/（[a-z_]+）/g, ' ').replace(/\b[A-Z][a-z]+\/[A-Za-z_]+\b/g, ' ');
  const found = (words.match(/[A-Za-z]{3,}/g) ?? [])
    .filter((word) => english.has(word.toLowerCase()));
  assert.deepEqual(found, [], `${name} shows English on a Japanese page: ${found.join(', ')}\n${text}`);
}

/** Parses CSV (RFC 4180: quoted cells may hold commas, quotes doubled, line breaks). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else {
      cell += c;
    }
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
