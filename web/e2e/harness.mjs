// The browser tests' harness: a real Parley server on a free port with a
// database of its own, and a real headless Chromium.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer as createHTTPServer } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const LOG_LIMIT = 2000; // lines of server output kept for a failure report

/**
 * @typedef {object} Server
 * @property {string} url e.g. http://127.0.0.1:41234
 * @property {string} database the database it runs on, dropped by stop()
 * @property {() => string} logs what the server wrote so far
 * @property {() => Promise<void>} restart SIGTERM, wait for exit, start again
 *   on the same port and database, wait until healthy
 * @property {() => Promise<void>} stop SIGTERM, wait for exit, drop the database
 *   (unless it was given: a deployment's nodes share theirs)
 * @property {() => Promise<void>} terminate SIGTERM, wait for exit (a node's
 *   graceful drain); stop() afterwards still drops what it owns
 * @property {() => Promise<void>} kill SIGKILL, wait for exit (a crash)
 * @property {Readonly<Record<string, string>>} env the PARLEY_* settings it
 *   runs with (the ports a retry chose included)
 *
 * @typedef {object} ServerOptions
 * @property {string} [database] run on this database, which the caller
 *   drops (the nodes of a deployment share one)
 * @property {Record<string, string>} [env] more PARLEY_* settings
 */

/**
 * Starts $PARLEY_BIN on a free port with a database of its own (the server
 * creates it, and the demo accounts) and waits until /healthz answers 200.
 * @param {ServerOptions} [opts]
 * @returns {Promise<Server>}
 */
export async function startServer(opts = {}) {
  const bin = parleyBin();
  let port = await freePort();
  const ownDatabase = !opts.database;
  const database = opts.database ?? `parley_e2e_${randomBytes(6).toString('hex')}`;
  let url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PARLEY_LISTEN: `127.0.0.1:${port}`,
    PARLEY_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}?sslmode=disable`,
    PARLEY_PUBLIC_URL: url,
    PARLEY_BCRYPT_COST: '4',
    // Media ports picked free by the server, so test files run in parallel.
    PARLEY_MEDIA_UDP_PORT: '0',
    PARLEY_MEDIA_TCP_PORT: '0',
    PARLEY_TURN_PORT: '0',
    ...opts.env,
  };

  /** @type {string[]} */
  const lines = [];
  /** @param {Buffer | string} chunk */
  const keep = (chunk) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > LOG_LIMIT) lines.splice(0, lines.length - LOG_LIMIT);
  };
  const logs = () => lines.join('\n');

  /** @type {import('node:child_process').ChildProcess | null} */
  let child = null;
  /** @type {Promise<number | string | null>} */
  let exited = Promise.resolve(null);
  // A test process that dies must not leave a server behind.
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const launch = async () => {
    const proc = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let running = true;
    exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => resolve(code ?? signal));
      proc.on('error', (err) => {
        keep(`spawn failed: ${err.message}`);
        resolve('spawn error');
      });
    });
    exited.then(() => (running = false));

    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!running) throw new Error(`parley exited before it was healthy (${await exited}):\n${logs()}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`parley was not healthy within ${START_TIMEOUT_MS} ms:\n${logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const terminate = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate();
    process.off('exit', killOnExit);
    if (ownDatabase) await dropDatabase(database);
  };

  const kill = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await exited;
  };

  const restart = async () => {
    await terminate();
    keep('--- harness: restarting parley ---');
    await launch();
  };

  // The free port was free when asked; another process (a parallel test
  // binary) may take it before the server binds it. Then another port,
  // up to three times; a restart later keeps the port the server has.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt < 3 && /address already in use/.test(String(err))) {
        // A media port the caller chose may be the one taken: it gets
        // another too, and the caller reads it back from env.
        const taken = /media (UDP|TCP) port (\d+)/.exec(String(err));
        if (taken && env[`PARLEY_MEDIA_${taken[1]}_PORT`] === taken[2]) {
          const again = await freePort(taken[1] === 'UDP' ? 'udp' : 'tcp');
          env[`PARLEY_MEDIA_${taken[1]}_PORT`] = String(again);
          keep(`--- harness: media ${taken[1]} port ${taken[2]} was taken; again on ${again} ---`);
          continue;
        }
        port = await freePort();
        url = `http://127.0.0.1:${port}`;
        env.PARLEY_LISTEN = `127.0.0.1:${port}`;
        env.PARLEY_PUBLIC_URL = url;
        keep(`--- harness: the port was taken; again on ${port} ---`);
        continue;
      }
      await stop();
      throw err;
    }
  }
  return { url, database, logs, restart, stop, terminate, kill, env };
}

/** @returns {string} $PARLEY_BIN, checked */
function parleyBin() {
  const bin = process.env.PARLEY_BIN;
  if (!bin) throw new Error('PARLEY_BIN is not set: point it at a built parley binary (make test does)');
  if (!existsSync(bin)) throw new Error(`PARLEY_BIN=${bin} does not exist`);
  return bin;
}

/**
 * @typedef {object} Deployment
 * @property {Server[]} nodes named n1, n2, … (PARLEY_NODE_ID), in order
 * @property {string} database the one they share
 * @property {string} nats the NATS server's client URL
 * @property {() => string} logs every node's output, each under its name
 * @property {() => Promise<void>} stop every node, the NATS server, the database
 */

/**
 * Starts count nodes of one deployment: a real NATS server (web/e2e/natsd,
 * built next to $PARLEY_BIN; never the machine's NATS service) and
 * $PARLEY_BIN count times on free ports, one database, each its own media
 * ports. perNode(i), if given, adds settings to node i (0-based).
 * @param {number} count
 * @param {(i: number) => Record<string, string>} [perNode]
 * @returns {Promise<Deployment>}
 */
export async function startNodes(count, perNode = () => ({})) {
  const natsd = await startNATS();
  const database = `parley_e2e_${randomBytes(6).toString('hex')}`;
  /** @type {Server[]} */
  const nodes = [];
  const logs = () => nodes.map((n, i) => `--- node n${i + 1} (${n.url}) ---\n${n.logs()}`).join('\n');
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    natsd.stop();
    await dropDatabase(database);
  };
  try {
    // One after the other: the first creates the database and its schema.
    for (let i = 0; i < count; i++) {
      nodes.push(await startServer({
        database,
        env: { PARLEY_NATS_URL: natsd.url, PARLEY_NODE_ID: `n${i + 1}`, ...perNode(i) },
      }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, database, nats: natsd.url, logs, stop };
}

/**
 * Builds and starts web/e2e/natsd: a NATS server on a free port.
 * @returns {Promise<{url: string, stop: () => void}>}
 */
async function startNATS() {
  const here = dirname(fileURLToPath(import.meta.url));
  const bin = join(dirname(parleyBin()), 'natsd');
  await promisify(execFile)('go', ['build', '-o', bin, './natsd'], { cwd: here });
  // Its standard input is a pipe from us: it ends with this process.
  const proc = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const killOnExit = () => proc.kill('SIGKILL');
  process.on('exit', killOnExit);
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('natsd did not start within 30 s')), START_TIMEOUT_MS);
    proc.on('exit', (code) => reject(new Error(`natsd exited (${code})`)));
    createInterface({ input: /** @type {import('node:stream').Readable} */ (proc.stdout) }).on('line', (line) => {
      const m = /^nats (\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return {
    url,
    stop: () => {
      process.off('exit', killOnExit);
      proc.kill('SIGTERM');
    },
  };
}

/**
 * Polls cond until it returns a truthy value, or fails after timeout ms
 * saying what was awaited. For state outside the page (the page has
 * Playwright's own auto-waiting).
 * @template T
 * @param {() => T | Promise<T>} cond
 * @param {string} what
 * @param {number} [timeout]
 * @returns {Promise<T>}
 */
export async function waitUntil(cond, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Runs fn; if it throws, prints the server's output before passing the
 * failure on, so a failing test shows what the server saw.
 * @template T
 * @param {{url?: string, database: string, logs: () => string}} server a Server or a Deployment
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function explain(server, fn) {
  try {
    return await fn();
  } catch (err) {
    process.stderr.write(`\n--- parley output (${server.url ?? 'nodes'}, ${server.database}) ---\n${server.logs()}\n--- end ---\n`);
    throw err;
  }
}

/**
 * The features Chromium runs without here. Chromium reads only the last
 * --disable-features it is given, so this list repeats what playwright-core
 * (1.65) disables for its own sake (Google services that would reach the
 * network, the HTTPS upgrades, paint holding) and adds the omnibox popup:
 * headless Chromium 15x preloads that WebUI in two renderer processes for
 * every window, and each browser context is a window. Without them the
 * browser tests take about a fifth less CPU (`invite.test.mjs`: 18.6–20.4 s
 * of CPU against 25.1–25.9 s).
 *
 * And the spare renderer: Chromium keeps a renderer process started ahead
 * for the context used last, and every test person is a new context, so
 * most spares were started for nothing and another one made (40 renderers
 * for 20 contexts, 20 without it). A context and a page cost about 0.4 s of
 * CPU instead of 0.58 s; invite, chat and transfer together 151 s of the
 * machine's CPU instead of 173 s.
 */
const DISABLED_FEATURES = [
  // playwright-core's own
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  // ours: the omnibox popup's preloaded renderers, and the spare renderer
  'WebUIOmniboxPopup',
  'WebUIOmniboxAimPopup',
  'SpareRendererForSitePerProcess',
];

/** Launches headless Chromium (Debian's, never a downloaded one). */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make deps`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--auto-select-desktop-capture-source=Entire screen',
      `--disable-features=${DISABLED_FEATURES.join(',')}`,
    ],
  });
}

/**
 * A server and a browser, started together. When one of them fails to
 * start, the other is stopped before the error is thrown: a browser left
 * open would keep the test file's process alive until its timeout.
 * @param {ServerOptions} [opts]
 * @returns {Promise<[Server, import('playwright-core').Browser]>}
 */
export async function startServerAndBrowser(opts = {}) {
  const [server, browser] = await Promise.allSettled([startServer(opts), launchBrowser()]);
  if (server.status === 'fulfilled' && browser.status === 'fulfilled') return [server.value, browser.value];
  if (server.status === 'fulfilled') await server.value.stop();
  if (browser.status === 'fulfilled') await browser.value.close();
  throw server.status === 'rejected' ? server.reason : /** @type {PromiseRejectedResult} */ (browser).reason;
}

/**
 * @typedef {{origin: string, stop: () => Promise<void>}} Site
 */

/**
 * A company's web site for the tests that embed the widget: an HTTP server
 * on an origin of its own (another port of 127.0.0.1) that serves the HTML
 * of pages by path, as the test sets them, and 404 for the rest.
 * @param {Map<string, string>} pages
 * @returns {Promise<Site>}
 */
export async function startSite(pages) {
  const site = createHTTPServer((req, res) => {
    const html = pages.get(req.url ?? '');
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = site.address();
  return {
    origin: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    stop: () => new Promise((resolve) => site.close(() => resolve(undefined))),
  };
}

/**
 * Waits until the locator's text is exactly text, case and all
 * (auto-waiting, with a deadline), and fails saying what it found instead.
 * playwright-core has no expect(); this is its toHaveText.
 * @param {import('playwright-core').Locator} locator
 * @param {string} text
 * @param {number} [timeout]
 */
export async function waitForText(locator, text, timeout = 10_000) {
  const exact = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  try {
    await locator.filter({ hasText: exact }).first().waitFor({ timeout });
  } catch (err) {
    const found = await locator.allTextContents().catch(() => []);
    throw new Error(`expected ${locator} to have text ${JSON.stringify(text)} within ${timeout} ms; ` +
      `found ${JSON.stringify(found)}`, { cause: err });
  }
}

/** @returns {Promise<number>} a TCP port free on 127.0.0.1 right now */
/**
 * A port free now on 127.0.0.1 (TCP unless proto is 'udp'); another
 * process may take it before it is used.
 * @param {'tcp' | 'udp'} [proto]
 * @returns {Promise<number>}
 */
export function freePort(proto = 'tcp') {
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const sock = createSocket('udp4');
      sock.on('error', reject);
      sock.bind(0, '127.0.0.1', () => {
        const { port } = sock.address();
        sock.close(() => resolve(port));
      });
      return;
    }
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @param {string} database */
async function dropDatabase(database) {
  await promisify(execFile)('psql', [
    '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q',
    '-c', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`,
  ]);
}
