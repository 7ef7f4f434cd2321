// The protocol client (web/static/lib/parley.js) in Chromium, against a
// scripted websocket (Playwright's routeWebSocket) so each behaviour of
// docs/protocol.md can be played exactly: answers, errors, silence,
// session.closing, a dropped socket. The real server serves the module;
// the desk test checks the client against the real websocket.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitUntil } from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser();
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

const HELLO = {
  version: 1,
  server: 'parley test',
  connection: 'c-test',
  principal: { kind: 'user', id: 'user:1', name: 'Alice Agent', role: 'agent' },
};

/**
 * @typedef {object} Socket one websocket the page opened
 * @property {import('playwright-core').WebSocketRoute} ws
 * @property {any[]} frames what the client sent, parsed
 * @property {number} openedAt
 */

/**
 * Opens a page of the server with a scripted /ws. answer(env, socket) is
 * called for each client frame after the hello (answered by default).
 * In the page, window.t holds the module, a Connection and a log.
 * @param {(env: any, socket: Socket) => void} [answer]
 * @param {{refuseHello?: {code: string, message: string}}} [opts]
 */
async function scripted(answer = () => {}, opts = {}) {
  const context = await browser.newContext({ baseURL: server.url });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  /** @type {Socket[]} */
  const sockets = [];
  await page.routeWebSocket('**/ws', (ws) => {
    /** @type {Socket} */
    const socket = { ws, frames: [], openedAt: Date.now() };
    sockets.push(socket);
    ws.onMessage((message) => {
      const env = JSON.parse(String(message));
      socket.frames.push(env);
      if (env.type === 'session.hello' && opts.refuseHello) {
        ws.send(JSON.stringify({ type: 'error', re: env.id, error: opts.refuseHello }));
      } else if (env.type === 'session.hello') {
        ws.send(JSON.stringify({ type: 'ack', re: env.id, data: HELLO }));
      } else {
        answer(env, socket);
      }
    });
  });
  await page.goto('/login');
  await page.evaluate(async () => {
    const mod = await import('/static/lib/parley.js');
    const conn = new mod.Connection({ client: 'client-test/1' });
    /** @type {any[]} */
    const log = [];
    conn.onstate = (s) => log.push(['state', s]);
    conn.onhello = (h) => log.push(['hello', h.connection]);
    conn.onclose = (code, reason) => log.push(['close', code, reason]);
    conn.on('session.closing', (data) => log.push(['closing', data.retry_ms]));
    /** @type {any} */ (window).t = { mod, conn, log };
  });
  return { page, context, sockets };
}

/**
 * @param {import('playwright-core').Page} page
 * @param {any[]} entry e.g. ['state', 'open']
 */
async function waitForLog(page, entry) {
  await page.waitForFunction((e) => {
    const log = /** @type {any} */ (window).t.log;
    return log.some((/** @type {any[]} */ l) => JSON.stringify(l) === JSON.stringify(e));
  }, entry);
}

describe('protocol client', () => {
  test('hello first with version 1, then requests answered by their ack or error', () =>
    explain(server, async () => {
      const { page, context, sockets } = await scripted((env, { ws }) => {
        if (env.type === 'session.ping') ws.send(JSON.stringify({ type: 'ack', re: env.id, data: { time: 'now' } }));
        if (env.type === 'chat.nope') {
          ws.send(JSON.stringify({ type: 'error', re: env.id, error: { code: 'unknown_type', message: 'no such type' } }));
        }
      });
      const got = await page.evaluate(async () => {
        const { conn, mod } = /** @type {any} */ (window).t;
        const hello = await conn.connect();
        const ping = await conn.request('session.ping');
        const err = await conn.request('chat.nope', { x: 1 }).catch((/** @type {any} */ e) => e);
        return {
          hello,
          ping,
          err: { isProtocolError: err instanceof mod.ProtocolError, code: err.code, message: err.message },
          state: conn.state,
        };
      });
      assert.deepEqual(got.hello, HELLO);
      assert.deepEqual(got.ping, { time: 'now' });
      assert.deepEqual(got.err, { isProtocolError: true, code: 'unknown_type', message: 'no such type' });
      assert.equal(got.state, 'open');
      assert.deepEqual(sockets[0].frames, [
        { type: 'session.hello', id: 'r-1', data: { version: 1, client: 'client-test/1' } },
        { type: 'session.ping', id: 'r-2' },
        { type: 'chat.nope', id: 'r-3', data: { x: 1 } },
      ]);
      await context.close();
    }));

  test('events reach their handlers until unsubscribed', () =>
    explain(server, async () => {
      const { page, context, sockets } = await scripted((env, { ws }) => {
        // The event comes between the request and its answer.
        ws.send(JSON.stringify({ type: 'test.event', data: { n: env.data.n } }));
        ws.send(JSON.stringify({ type: 'ack', re: env.id }));
      });
      const seen = await page.evaluate(async () => {
        const { conn } = /** @type {any} */ (window).t;
        /** @type {number[]} */
        const seen = [];
        const off = conn.on('test.event', (/** @type {any} */ data) => seen.push(data.n));
        await conn.connect();
        await conn.request('test.emit', { n: 1 });
        off();
        await conn.request('test.emit', { n: 2 });
        return seen;
      });
      assert.deepEqual(seen, [1]);
      assert.equal(sockets.length, 1);
      await context.close();
    }));

  test('a request with no answer fails with timeout', () =>
    explain(server, async () => {
      const { page, context } = await scripted(); // answers nothing but hello
      const err = await page.evaluate(async () => {
        const { conn } = /** @type {any} */ (window).t;
        await conn.connect();
        return conn.request('test.silent', {}, { timeoutMs: 200 }).then(
          () => null,
          (/** @type {any} */ e) => ({ code: e.code, state: conn.state }),
        );
      });
      assert.deepEqual(err, { code: 'timeout', state: 'open' });
      await context.close();
    }));

  test('a dropped socket fails waiting requests, then reconnects and says hello again', () =>
    explain(server, async () => {
      const { page, context, sockets } = await scripted(); // never answers: the drop does
      await page.evaluate(async () => {
        const { conn } = /** @type {any} */ (window).t;
        await conn.connect();
        /** @type {any} */ (window).waiting = conn.request('test.wait').catch((/** @type {any} */ e) => e.code);
      });
      await waitUntil(() => sockets[0].frames.length === 2, 'the request to reach the server');
      await sockets[0].ws.close({ code: 1011, reason: 'gone' });

      assert.equal(await page.evaluate(() => /** @type {any} */ (window).waiting), 'disconnected');
      await waitUntil(() => sockets.length === 2, 'a second socket');
      await waitForLog(page, ['hello', 'c-test']);
      await page.waitForFunction(() => /** @type {any} */ (window).t.log.filter((/** @type {any[]} */ l) => l[0] === 'hello').length === 2);
      assert.equal(sockets[1].frames[0].type, 'session.hello', 'the first frame on the new socket is the hello');
      const log = await page.evaluate(() => /** @type {any} */ (window).t.log);
      assert.deepEqual(log, [
        ['state', 'connecting'],
        ['state', 'open'],
        ['hello', 'c-test'],
        ['close', 1011, 'gone'],
        ['state', 'reconnecting'],
        ['state', 'open'],
        ['hello', 'c-test'],
      ]);
      await context.close();
    }));

  test('session.closing: waits retry_ms (with jitter) before reconnecting', () =>
    explain(server, async () => {
      const retryMs = 1500;
      const { page, context, sockets } = await scripted();
      await page.evaluate(() => /** @type {any} */ (window).t.conn.connect());
      await sockets[0].ws.send(JSON.stringify({ type: 'session.closing', data: { reason: 'server shutting down', retry_ms: retryMs } }));
      await waitForLog(page, ['closing', retryMs]);
      const closedAt = Date.now();
      await sockets[0].ws.close({ code: 1001, reason: 'server shutting down' });
      await waitUntil(() => sockets.length === 2, 'the reconnect', 10_000);
      const waited = sockets[1].openedAt - closedAt;
      assert.ok(waited >= retryMs * 0.9, `reconnected after ${waited} ms, before retry_ms ${retryMs}`);
      assert.ok(waited <= retryMs * 1.5 + 1000, `reconnected after ${waited} ms, long after retry_ms ${retryMs}`);
      await context.close();
    }));

  test('a refused hello fails connect() and does not retry', () =>
    explain(server, async () => {
      const refusal = { code: 'unsupported_version', message: 'this server speaks protocol version 2' };
      const { page, context, sockets } = await scripted(undefined, { refuseHello: refusal });
      const got = await page.evaluate(async () => {
        const { conn } = /** @type {any} */ (window).t;
        const err = await conn.connect().catch((/** @type {any} */ e) => ({ code: e.code, message: e.message }));
        const after = await conn.request('session.ping').catch((/** @type {any} */ e) => e.code);
        return { err, state: conn.state, after };
      });
      assert.deepEqual(got, { err: refusal, state: 'closed', after: 'disconnected' });
      assert.equal(sockets.length, 1);
      await context.close();
    }));

  test('close() fails waiting requests, closes the socket and does not reconnect', () =>
    explain(server, async () => {
      const { page, context, sockets } = await scripted(); // answers nothing but hello
      /** @type {{code: number | undefined, reason: string | undefined}[]} */
      const serverSaw = [];
      await page.evaluate(() => /** @type {any} */ (window).t.conn.connect());
      sockets[0].ws.onClose((code, reason) => serverSaw.push({ code, reason }));
      const got = await page.evaluate(async () => {
        const { conn } = /** @type {any} */ (window).t;
        const waiting = conn.request('test.wait').catch((/** @type {any} */ e) => e.code);
        conn.close();
        const later = await conn.request('session.ping').catch((/** @type {any} */ e) => e.code);
        return { waiting: await waiting, later, state: conn.state, log: /** @type {any} */ (window).t.log };
      });
      assert.deepEqual(got, {
        waiting: 'disconnected',
        later: 'disconnected',
        state: 'closed',
        log: [
          ['state', 'connecting'],
          ['state', 'open'],
          ['hello', 'c-test'],
          ['close', 1000, 'client closed'],
          ['state', 'closed'],
        ],
      });
      await waitUntil(() => serverSaw.length === 1, 'the close frame');
      assert.deepEqual(serverSaw, [{ code: 1000, reason: 'client closed' }]);
      assert.equal(sockets.length, 1);
      await context.close();
    }));
});
