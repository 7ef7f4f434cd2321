// The customer's chat widget on the demo company page (/demo), in Chromium,
// against the real server: the loader's iframe, the pre-chat form, waiting
// in the queue, and delivery across a reload, a server restart and a lost
// connection: every message exactly once, in order. (An agent appears only
// as the other end; the agent's side is tested with the desk.)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';

const TIMEOUT = 10_000;
const QUEUED = "You're in the queue";

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

/**
 * @typedef {object} Visit
 * @property {import('playwright-core').Page} page the demo company's page
 * @property {import('playwright-core').FrameLocator} widget the chat's iframe
 * @property {import('playwright-core').BrowserContext} context
 */

/**
 * Runs a test as a new visitor (a fresh browser context) on /demo, failing
 * it on any uncaught error in the page or the frame, and printing the
 * server's output on failure. prepare runs on the context before the page
 * opens (to script its websocket).
 * @param {(v: Visit) => Promise<void>} fn
 * @param {(context: import('playwright-core').BrowserContext) => Promise<void>} [prepare]
 */
function asVisitor(fn, prepare) {
  return () =>
    explain(server, async () => {
      const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(TIMEOUT);
      await prepare?.(context);
      const page = await context.newPage();
      /** @type {Error[]} */
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(err));
      try {
        await page.goto('/demo');
        await fn({ page, widget: page.frameLocator('iframe[title="Chat"]'), context });
        assert.deepEqual(pageErrors.map(String), [], 'the page threw');
      } finally {
        await context.close();
      }
    });
}

/**
 * Opens the chat and starts a conversation as name.
 * @param {import('playwright-core').FrameLocator} widget
 * @param {string} name
 */
async function startChat(widget, name) {
  await widget.getByRole('button', { name: 'Open chat' }).click();
  await widget.getByLabel('Name').fill(name);
  await widget.getByRole('button', { name: 'Start chat' }).click();
  await widget.getByText(QUEUED).waitFor();
}

/**
 * Writes a message and presses Enter.
 * @param {import('playwright-core').FrameLocator} widget
 * @param {string} text
 */
async function send(widget, text) {
  const box = widget.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/**
 * Ends the chat from the widget's header, through its confirm bar, and
 * waits for the end. (Each test ends its chat: the agents' capacity counts
 * the chats still waiting for them.)
 * @param {import('playwright-core').FrameLocator} widget
 */
async function endChat(widget) {
  await widget.locator('#parley-end').click();
  const bar = widget.locator('#parley-confirm');
  await bar.getByText('End this chat?').waitFor();
  await bar.getByRole('button', { name: 'End chat' }).click();
  await widget.locator('#parley-transcript .system').getByText('You ended the chat.', { exact: true }).waitFor();
  await widget.getByRole('button', { name: 'Start a new chat' }).waitFor();
  assert.ok(await widget.locator('#parley-compose').isHidden(), 'no more writing into an ended chat');
}

/**
 * What the transcript shows, in order: [text, seq] of each message; and
 * the system lines.
 * @param {import('playwright-core').FrameLocator} widget
 */
async function transcript(widget) {
  const log = widget.locator('#parley-transcript');
  const messages = await log.locator('.msg').evaluateAll((nodes) =>
    nodes.map((n) => [n.querySelector('.bubble')?.textContent ?? '', Number(n.getAttribute('data-seq'))]),
  );
  const system = await log.locator('.system').allTextContents();
  return { messages, system };
}

describe('widget', () => {
  test('the pre-chat form says a name is needed, and starts no chat without one', asVisitor(async ({ page, widget }) => {
    const frame = page.locator('iframe[title="Chat"]');
    const open = widget.getByRole('button', { name: 'Open chat' });
    await open.waitFor();
    assert.deepEqual(await size(frame), [88, 88], 'the closed frame fits the round button');

    await open.click();
    const form = widget.locator('form#parley-prechat');
    await form.waitFor();
    await waitUntil(async () => (await size(frame))[0] === 400, 'the frame to grow to the open window');
    assert.deepEqual(await size(frame), [400, 640]);

    await widget.getByRole('button', { name: 'Start chat' }).click();

    const name = widget.getByLabel('Name');
    const error = form.locator('.field-error[role="alert"]');
    await waitForText(error, 'Please enter your name.');
    assert.equal(await error.count(), 1, 'only the name is wrong (e-mail and phone are optional)');
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.equal(await name.getAttribute('aria-describedby'), await error.getAttribute('id'), 'the error belongs to the field');
    assert.ok(await name.evaluate((n) => n === document.activeElement), 'the name field has the focus');
    assert.ok(await form.isVisible(), 'the form stays');
    assert.ok(await widget.locator('#parley-chat').isHidden(), 'no chat was started');

    await name.fill('Vera Visitor');
    await error.waitFor({ state: 'detached' });
  }));

  test('a customer who starts a chat sees they are in the queue, and the time waited counting up', asVisitor(async ({ widget }) => {
    await startChat(widget, 'Quinn Queue');

    const wait = widget.locator('#parley-wait');
    const first = /^Waiting 0:0([0-5])$/.exec((await wait.textContent()) ?? '');
    assert.ok(first, `the wait starts near zero, got ${await wait.textContent()}`);
    const later = Number(first[1]) + 2;
    await wait.filter({ hasText: new RegExp(`^Waiting 0:(0[${later}-9]|[1-5]\\d)$`) }).waitFor();

    assert.deepEqual(await transcript(widget), { messages: [], system: [`Chat started · ${await startedAt(widget)}`] });
    assert.ok(await widget.getByRole('button', { name: 'End chat' }).isVisible());
    assert.ok(await widget.getByLabel('Message', { exact: true }).isVisible(), 'the customer can write while waiting');

    await endChat(widget);
    assert.ok(await widget.getByText(QUEUED).isHidden(), 'no longer waiting');
    await widget.getByRole('button', { name: 'Start a new chat' }).click();
    await widget.locator('form#parley-prechat').waitFor();
  }));

  test('after a reload the same conversation comes back with each message exactly once', () => {
    // For "third" the proxy loses the server's answer and its live event (it
    // is stored; the widget does not know), for "fourth" the request itself.
    // Both wait in the outbox when the page reloads.
    const proxy = new WsProxy();
    proxy.loseAnswer.add('third');
    proxy.loseSend.add('fourth');

    return asVisitor(async ({ page, widget }) => {
      await startChat(widget, 'Rhea Reload');
      await send(widget, 'first');
      await send(widget, 'second');
      await widget.locator('.msg-own:not(.pending)').nth(1).waitFor();
      await send(widget, 'third');
      await send(widget, 'fourth');
      await waitUntil(() => proxy.lost === 3, 'the proxy to lose the answer to "third" and "fourth"');
      const pending = widget.locator('.msg.pending');
      await pending.nth(1).waitFor();
      assert.deepEqual(await pending.locator('.bubble').allTextContents(), ['third', 'fourth']);
      await waitForText(pending.first().locator('.msg-state'), 'Sending…');
      const before = await transcript(widget);
      const started = await startedAt(widget);

      await page.reload();

      // The window reopens by itself; the conversation is resumed, the
      // outbox goes out again, and nothing shows twice.
      await widget.locator('.msg-own:not(.pending)').nth(3).waitFor();
      await pending.first().waitFor({ state: 'detached' });
      const after = await transcript(widget);
      assert.deepEqual(after.messages.map(([text]) => text), ['first', 'second', 'third', 'fourth']);
      assert.deepEqual(after.messages.slice(0, 2), before.messages.slice(0, 2), 'the same messages, same seqs');
      const seqs = after.messages.map(([, seq]) => seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
      assert.equal(new Set(seqs).size, 4, 'each with its own seq');
      assert.deepEqual(after.system, [`Chat started · ${started}`], 'the same conversation, started once');
      assert.ok(await widget.getByText(QUEUED).isVisible(), 'still waiting in the queue');
      assert.equal(proxy.sent.get('third'), 1, '"third" was stored before the reload, so it was not sent again');
      assert.equal(proxy.sent.get('fourth'), 2, '"fourth" was sent again after the reload');

      // The server stored each once, too.
      const stored = await customerTranscript(widget);
      assert.deepEqual(stored.filter((e) => e.kind === 'message').map((e) => e.text), ['first', 'second', 'third', 'fourth']);

      // And a second reload shows the same again.
      await page.reload();
      await widget.locator('.msg').nth(3).waitFor();
      assert.deepEqual(await transcript(widget), after);
      await endChat(widget);
    }, (context) => proxy.install(context))();
  });

  test('when the server restarts the widget says Reconnecting…, then resumes with nothing twice', asVisitor(async ({ widget }) => {
    await startChat(widget, 'Remy Restart');
    await send(widget, 'before');
    await widget.locator('.msg-own:not(.pending)').waitFor();
    const started = await startedAt(widget);

    const restarted = server.restart();
    await waitForText(widget.locator('#parley-conn'), 'Reconnecting…', 15_000);
    await send(widget, 'meanwhile');
    await restarted;

    await widget.locator('#parley-conn').waitFor({ state: 'hidden', timeout: 20_000 });
    await widget.locator('.msg-own:not(.pending)').nth(1).waitFor();
    await send(widget, 'after');
    await widget.locator('.msg-own:not(.pending)').nth(2).waitFor();

    const shown = await transcript(widget);
    assert.deepEqual(shown.messages.map(([text]) => text), ['before', 'meanwhile', 'after']);
    assert.deepEqual(shown.system, [`Chat started · ${started}`]);
    const stored = await customerTranscript(widget);
    assert.deepEqual(stored.filter((e) => e.kind === 'message').map((e) => e.text), ['before', 'meanwhile', 'after']);
    await endChat(widget);
  }));

  test('what the agent wrote while the widget was away arrives once each, in order', () => {
    const proxy = new WsProxy();
    return asVisitor(async ({ widget }) => {
      await startChat(widget, 'Ada Away');
      const agent = await signedInAgent('alice');
      try {
        const { entries } = await agent.request('queue.waiting');
        const conv = entries.find((/** @type {any} */ e) => e.customer.name === 'Ada Away');
        assert.ok(conv, 'the chat waits in the queue');
        await agent.request('chat.accept', { conversation_id: conv.id });
        await widget.getByText('Alice Agent joined the chat').waitFor();
        await widget.getByText(QUEUED).waitFor({ state: 'hidden' });
        const greeting = (await transcript(widget)).messages.map(([text]) => text);

        proxy.cut();
        await waitForText(widget.locator('#parley-conn'), 'Reconnecting…');
        for (const text of ['one', 'two', 'three']) {
          await agent.request('chat.send', { conversation_id: conv.id, client_id: `a-${text}`, text });
        }
        // Back: the resume's answer holds one, two, three; "three" also
        // arrives live before it (as the protocol allows), and all again after.
        proxy.blocked = false;
        await widget.locator('#parley-conn').waitFor({ state: 'hidden' });
        await widget.locator('.msg-agent').getByText('three', { exact: true }).waitFor();
        const shown = await transcript(widget);
        assert.deepEqual(shown.messages.map(([text]) => text), [...greeting, 'one', 'two', 'three']);
        assert.deepEqual(shown.system.slice(1), ['Alice Agent joined the chat']);
        await endChat(widget);
      } finally {
        await agent.close();
      }
    }, (context) => proxy.install(context))();
  });
});

/**
 * The iframe's size on the page, rounded.
 * @param {import('playwright-core').Locator} frame
 */
async function size(frame) {
  const box = await frame.boundingBox();
  return box ? [Math.round(box.width), Math.round(box.height)] : [0, 0];
}

/**
 * When the conversation started, as the widget shows it (local time of the
 * queued event).
 * @param {import('playwright-core').FrameLocator} widget
 */
async function startedAt(widget) {
  const line = widget.locator('#parley-transcript .system').first();
  await line.waitFor();
  const m = /^Chat started · (.+)$/.exec((await line.textContent()) ?? '');
  assert.ok(m, `the first line says when the chat started, got ${await line.textContent()}`);
  return m[1];
}

/**
 * The conversation as the server has it stored, read with the widget's
 * own visitor token (GET /api/conversations/{id}/transcript).
 * @param {import('playwright-core').FrameLocator} widget
 * @returns {Promise<{kind: string, text?: string}[]>}
 */
async function customerTranscript(widget) {
  const [token, id] = await widget.locator('body').evaluate(() => [
    localStorage.getItem('parley.visitor.demo'),
    sessionStorage.getItem('parley.conversation.demo'),
  ]);
  assert.ok(token && id, 'the widget keeps its visitor token and conversation');
  const res = await fetch(`${server.url}/api/conversations/${id}/transcript`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `the transcript answered ${res.status}`);
  return (await res.json()).events;
}

/**
 * A proxy between the widget and the server's websocket. It can lose a
 * message's request, or its answer and live event; it plays what the
 * protocol allows around chat.resume (the last event of the answer also
 * arrives live before the answer, and all of them again after it); and it
 * can cut the connection and refuse new ones until unblocked.
 */
class WsProxy {
  constructor() {
    /** @type {Map<string, number>} chat.send frames seen, by text */
    this.sent = new Map();
    /** @type {Set<string>} texts whose first chat.send is lost */
    this.loseSend = new Set();
    /** @type {Set<string>} texts whose answer and live event are lost */
    this.loseAnswer = new Set();
    /** frames lost so far */
    this.lost = 0;
    /** new connections are refused */
    this.blocked = false;
    /** @type {Set<() => void>} closes each open connection */
    this.open = new Set();
  }

  /** @param {import('playwright-core').BrowserContext} context */
  install(context) {
    return context.routeWebSocket(/\/ws(\?|$)/, (ws) => this.route(ws));
  }

  /** Drops every connection and refuses new ones until blocked is false. */
  cut() {
    this.blocked = true;
    for (const close of [...this.open]) close();
  }

  /** @param {import('playwright-core').WebSocketRoute} ws */
  route(ws) {
    if (this.blocked) {
      ws.close({ code: 4000, reason: 'proxy: blocked' }).catch(() => {});
      return;
    }
    const upstream = ws.connectToServer();
    const close = () => {
      this.open.delete(close);
      upstream.close().catch(() => {});
      ws.close({ code: 4000, reason: 'proxy: cut' }).catch(() => {});
    };
    this.open.add(close);
    /** @type {Set<string>} */
    const resumes = new Set(); // request ids
    /** @type {Set<string>} */
    const lostAnswers = new Set(); // request ids
    /** @type {Set<string>} */
    const lostEvents = new Set(); // client_ids
    ws.onMessage((message) => {
      const env = JSON.parse(String(message));
      if (env.type === 'chat.resume') resumes.add(env.id);
      if (env.type === 'chat.send') {
        const text = env.data.text;
        this.sent.set(text, (this.sent.get(text) ?? 0) + 1);
        if (this.loseSend.delete(text)) {
          this.lost++;
          return;
        }
        if (this.loseAnswer.delete(text)) {
          lostAnswers.add(env.id);
          lostEvents.add(env.data.client_id);
        }
      }
      upstream.send(message);
    });
    upstream.onMessage((message) => {
      const env = JSON.parse(String(message));
      if ((env.type === 'ack' && lostAnswers.delete(env.re)) || (env.type === 'chat.event' && lostEvents.delete(env.data?.client_id))) {
        this.lost++;
        return;
      }
      if (env.type === 'ack' && resumes.delete(env.re)) {
        const live = env.data.events.map((/** @type {any} */ ev) => JSON.stringify({ type: 'chat.event', data: ev }));
        if (live.length) ws.send(live[live.length - 1]);
        ws.send(message);
        for (const frame of live) ws.send(frame);
        return;
      }
      ws.send(message);
    });
    ws.onClose(() => close());
    upstream.onClose(() => close());
  }
}

/**
 * A demo agent signed in, speaking the protocol through parley.js in a
 * page of its own.
 * @param {string} username
 */
async function signedInAgent(username) {
  const context = await browser.newContext({ baseURL: server.url });
  context.setDefaultTimeout(TIMEOUT);
  const res = await context.request.post('/api/login', { data: { username, password: 'demo' } });
  assert.equal(res.status(), 200, `sign-in answered ${res.status()}`);
  const page = await context.newPage();
  await page.goto('/robots.txt');
  await page.evaluate(async () => {
    const { Connection } = await import('/static/lib/parley.js');
    const c = new Connection({ client: 'widget-test-agent' });
    await c.connect();
    /** @type {any} */ (window).agent = c;
  });
  return {
    /**
     * @param {string} type
     * @param {object} [data]
     * @returns {Promise<any>}
     */
    request: (type, data) => page.evaluate(([t, d]) => /** @type {any} */ (window).agent.request(t, d), /** @type {const} */ ([type, data])),
    close: () => context.close(),
  };
}
