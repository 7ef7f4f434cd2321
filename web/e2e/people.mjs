// People for the browser tests: a browser context each, recording what
// would be a fault (an uncaught error, an unexpected dialog), and the
// steps every chat test takes (a customer starts a chat on /demo, an agent
// accepts it in the desk).

import assert from 'node:assert/strict';
import { waitForText } from './harness.mjs';

/**
 * @typedef {object} Person
 * @property {import('playwright-core').Page} page
 * @property {import('playwright-core').BrowserContext} context
 * @property {string[]} dialogs messages of alert/confirm/prompt dialogs the page opened
 * @property {Error[]} errors uncaught errors in the page
 *
 * @typedef {Person & {widget: import('playwright-core').FrameLocator, frame: () => import('playwright-core').Frame}} Customer
 */

/**
 * A fresh browser context and page on the server.
 * @param {import('playwright-core').Browser} browser
 * @param {import('./harness.mjs').Server} server
 * @param {{timeout?: number, viewport?: {width: number, height: number}, permissions?: string[]}} [opts]
 * @returns {Promise<Person>}
 */
export async function newPerson(browser, server, opts = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    permissions: opts.permissions ?? [],
  });
  context.setDefaultTimeout(opts.timeout ?? 10_000);
  const page = await context.newPage();
  /** @type {string[]} */
  const dialogs = [];
  /** @type {Error[]} */
  const errors = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => errors.push(err));
  // E2E_CONSOLE=1 shows what the pages log.
  if (process.env.E2E_CONSOLE) page.on('console', (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
  return { page, context, dialogs, errors };
}

/**
 * Signs the person in as a person would, on the sign-in page the desk
 * sends them to, and waits for the desk, Available.
 * @param {Person} p
 * @param {string} username
 */
export async function signIn(p, username) {
  await p.page.goto('/desk');
  await p.page.waitForURL((url) => url.pathname === '/login');
  await p.page.getByLabel('Username').fill(username);
  await p.page.getByLabel('Password').fill('demo');
  await p.page.getByRole('button', { name: 'Sign in' }).click();
  await p.page.waitForURL((url) => url.pathname === '/desk');
  await available(p);
}

/**
 * Signs the person in through the API (for tests about something other
 * than signing in), then opens the desk, Available.
 * @param {Person} p
 * @param {string} username
 */
export async function openDesk(p, username) {
  const res = await p.context.request.post('/api/login', { data: { username, password: 'demo' } });
  assert.equal(res.status(), 200, `${username} signs in`);
  await p.page.goto('/desk');
  await available(p);
}

/**
 * The person's desk, once connected, with the agent Available.
 * @param {Person} p
 */
export async function available(p) {
  await waitForText(p.page.locator('#conn-state'), 'Connected');
  const status = p.page.locator('#agent-status');
  await status.and(p.page.locator(':enabled')).waitFor();
  if ((await status.inputValue()) !== 'available') await status.selectOption('available');
  await p.page.locator('#status-control[data-status="available"]').waitFor();
}

/**
 * The person, on the demo company's page, opens the chat and starts one.
 * @param {Person} p
 * @param {string} name
 * @param {string} [email]
 * @returns {Promise<Customer>}
 */
export async function startDemoChat(p, name, email) {
  await p.page.goto('/demo');
  const widget = p.page.frameLocator('iframe[title="Chat"]');
  await widget.getByRole('button', { name: 'Open chat' }).click();
  await widget.locator('form#parley-prechat').waitFor();
  await widget.getByLabel('Name').fill(name);
  if (email) await widget.getByLabel('E-mail').fill(email);
  await widget.getByRole('button', { name: 'Start chat' }).click();
  await widget.locator('#parley-transcript').waitFor();
  const frame = () => {
    const f = p.page.frames().find((x) => /\/widget\//.test(x.url()));
    if (!f) throw new Error('the widget frame is missing');
    return f;
  };
  return { ...p, widget, frame };
}

/**
 * The person opens queue key's chat page and starts a chat; it waits.
 * @param {Person} p
 * @param {string} key
 * @param {string} name
 */
export async function startQueueChat(p, key, name) {
  await p.page.goto(`/widget/${key}`);
  await p.page.getByRole('button', { name: 'Open chat' }).click();
  await p.page.locator('form#parley-prechat').waitFor();
  await p.page.getByLabel('Name').fill(name);
  await p.page.getByRole('button', { name: 'Start chat' }).click();
  await p.page.locator('#parley-waiting').waitFor();
  return p;
}

/**
 * The offer card of the customer's chat in an agent's desk.
 * @param {import('playwright-core').Page} desk
 * @param {string} name
 */
export function offerCard(desk, name) {
  return desk.locator('#offers .offer-card').filter({ has: desk.locator('.offer-name', { hasText: name }) });
}

/**
 * Accepts the customer's offer and waits for its chat tab to be active.
 * @param {import('playwright-core').Page} desk
 * @param {string} name
 */
export async function accept(desk, name) {
  const card = offerCard(desk, name);
  await card.getByRole('button', { name: 'Accept' }).click();
  await card.waitFor({ state: 'detached' });
  await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]', { hasText: name }).waitFor();
  await waitForText(desk.locator('#chat-name'), name);
}

/**
 * The customer ended the chat: the agent wraps it up with a status, which
 * frees the place it held (docs/protocol.md, chat.close).
 * @param {import('playwright-core').Page} desk
 * @param {string} name the customer's
 * @param {string} [status]
 */
export async function wrapUp(desk, name, status = 'Resolved') {
  await desk.locator('#chat-tabs .chat-tab', { hasText: name }).click();
  await desk.getByRole('button', { name: 'Wrap up…' }).click();
  const dialog = desk.getByRole('dialog');
  await dialog.getByLabel(status).check();
  await dialog.getByRole('button', { name: 'Wrap up' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await desk.locator('#transcript .events .system', { hasText: `wrapped up the chat — ${status}` }).waitFor();
}

/**
 * Closes the contexts, then fails on uncaught errors or dialogs in them.
 * @param {...Person} people
 */
export async function done(...people) {
  await Promise.all(people.map((p) => p.context.close()));
  for (const p of people) {
    assert.deepEqual(p.errors.map(String), [], 'no page threw');
    assert.deepEqual(p.dialogs, [], 'no page opened a dialog');
  }
}

/**
 * The admin creates a queue, or changes one, through the admin API
 * (docs/protocol.md, "Administration"): settings merged over the queue's
 * current ones, members as usernames.
 * @param {import('./harness.mjs').Server} server
 * @param {string} key
 * @param {Record<string, unknown>} settings
 * @returns {Promise<{id: number, key: string, name: string}>} the queue as saved
 */
export async function saveQueue(server, key, settings) {
  const login = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'ada', password: 'demo' }),
  });
  assert.equal(login.status, 200, 'ada signs in');
  const { token } = await login.json();
  const auth = { Authorization: `Bearer ${token}` };
  const list = await (await fetch(`${server.url}/api/admin/queues`, { headers: auth })).json();
  const old = list.queues.find((/** @type {{key: string}} */ q) => q.key === key) ?? {};
  const res = await fetch(`${server.url}/api/admin/queues/${key}`, {
    method: 'PUT',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...old, ...settings }),
  });
  const saved = await res.json();
  assert.equal(res.status, 200, JSON.stringify(saved));
  return saved;
}

/**
 * An agent writes into the chat shown, publicly or as a private note,
 * and waits until the message is stored.
 * @param {import('playwright-core').Page} desk
 * @param {string} text
 * @param {{private?: boolean}} [opts]
 */
export async function say(desk, text, opts = {}) {
  const eye = desk.getByRole('button', { name: 'Private', exact: true });
  const on = async () => (await eye.getAttribute('aria-pressed')) === 'true';
  if (Boolean(opts.private) !== (await on())) await eye.click();
  await desk.locator('#compose').fill(text);
  await desk.locator('#compose').press('Enter');
  await desk.locator('#transcript .msg:not(.pending)', { hasText: text }).waitFor();
  if (opts.private) await eye.click();
}

/**
 * Opens the Invite or Transfer picker of the chat shown, chooses the
 * target whose label matches, and sends; waits for the dialog to close.
 * @param {import('playwright-core').Page} desk
 * @param {'Invite' | 'Transfer'} action
 * @param {string | RegExp} target e.g. "Bob Agent" or /Any available agent of Support/
 */
async function pick(desk, action, target) {
  await desk.locator('.chat-actions').getByRole('button', { name: action, exact: true }).click();
  const dialog = desk.getByRole('dialog');
  await dialog.getByRole('radio', { name: target }).check();
  await dialog.getByRole('button', { name: action, exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/**
 * The agent invites a colleague (or "any available agent of" a queue) into
 * the chat shown, and waits until the desk says it is inviting them.
 * @param {import('playwright-core').Page} desk
 * @param {string | RegExp} target
 * @param {string} invitee whose name the pending line shows
 */
export async function invite(desk, target, invitee) {
  await pick(desk, 'Invite', target);
  await waitForText(desk.locator('#team-pending .team-pending-text'), `Inviting ${invitee}…`);
}

/**
 * The agent transfers the chat shown to a colleague or a queue.
 * @param {import('playwright-core').Page} desk
 * @param {string | RegExp} target
 */
export async function transfer(desk, target) {
  await pick(desk, 'Transfer', target);
}

/**
 * The agent pauses (for a break) in the desk.
 * @param {Person} p
 */
export async function pause(p) {
  await p.page.locator('#agent-status').selectOption('paused');
  await p.page.locator('#pause-dialog').getByRole('button', { name: 'Pause', exact: true }).click();
  await p.page.locator('#status-control[data-status="paused"]').waitFor();
}

/**
 * A websocket frame as JSON, or null when it is not a JSON text.
 * @param {string | Buffer} m
 * @returns {any}
 */
function parseFrame(m) {
  try {
    return typeof m === 'string' ? JSON.parse(m) : null;
  } catch {
    return null;
  }
}

/**
 * Stands between the page and the server's websocket and holds back the
 * answer to the page's first request of one type until release(): the
 * page waits on it as it would on a slow network. `asked` resolves once
 * the request went out. Call before the page opens its websocket.
 * @param {import('playwright-core').Page} page
 * @param {string} type the request's type, say "room.join"
 */
export async function holdAnswer(page, type) {
  /** @type {string | null} */
  let id = null;
  /** @type {(() => void) | null} */
  let held = null;
  let released = false;
  /** @type {() => void} */
  let sent = () => {};
  /** @type {Promise<void>} */
  const asked = new Promise((resolve) => {
    sent = resolve;
  });
  await page.routeWebSocket(/\/ws(\?.*)?$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const env = parseFrame(m);
      if (id === null && env?.type === type && env.id) {
        id = env.id;
        sent();
      }
      server.send(m);
    });
    server.onMessage((m) => {
      if (!released && id !== null && parseFrame(m)?.re === id) held = () => ws.send(m);
      else ws.send(m);
    });
  });
  return {
    asked,
    release() {
      released = true;
      held?.();
    },
  };
}

/**
 * Stands between the page and the server's websocket so that a test can
 * hold back, for a while, what would refresh the desk's transfer picker
 * (chat.transfer_targets answers and staff.presence events): the list it
 * shows then is stale, as it is for a person whose click races a change.
 * Call before the page opens the desk.
 * @param {import('playwright-core').Page} page
 */
export async function holdTargets(page) {
  let holding = false;
  /** @type {Set<string>} ids of the page's chat.transfer_targets requests */
  const asked = new Set();
  /** @type {(() => void)[]} */
  const held = [];
  await page.routeWebSocket(/\/ws(\?.*)?$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const env = parseFrame(m);
      if (env?.type === 'chat.transfer_targets' && env.id) asked.add(env.id);
      server.send(m);
    });
    server.onMessage((m) => {
      const env = parseFrame(m);
      if (holding && (env?.type === 'staff.presence' || (env?.re && asked.has(env.re)))) held.push(() => ws.send(m));
      else ws.send(m);
    });
  });
  return {
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const send of held.splice(0)) send();
    },
  };
}

/**
 * Alice has a chat, Bob is on duty: a customer starts a chat and writes,
 * Alice takes it (and, with `note`, leaves a private note on it); then Bob
 * opens his desk, after, so that the chat was not offered to him.
 * @param {() => Promise<Person>} person makes a browser person
 * @param {string} name the customer's
 * @param {{alice?: Person, note?: boolean}} [opts] alice: her browser, when the test prepared it
 */
export async function aliceHasAChat(person, name, opts = {}) {
  const alice = opts.alice ?? (await person());
  await openDesk(alice, 'alice');
  const customer = await startDemoChat(await person(), name);
  await customer.widget.locator('#parley-input').fill(`Hello, I am ${name}`);
  await customer.widget.locator('#parley-input').press('Enter');
  await offerCard(alice.page, name).waitFor();
  await accept(alice.page, name);
  await customer.widget.getByText('Alice Agent joined the chat').waitFor();
  await alice.page.locator('#transcript .msg-customer', { hasText: `Hello, I am ${name}` }).waitFor();
  if (opts.note) await say(alice.page, `Note on ${name}: a returning customer.`, { private: true });
  const bob = await person();
  await openDesk(bob, 'bob');
  return { alice, bob, customer };
}
