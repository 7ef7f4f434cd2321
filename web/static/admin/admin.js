// @ts-check
// The admin console (/admin): accounts, queues and the e-mail outbox,
// over the admin REST API. This file starts the page: who is signed in,
// the tabs; each section lives in its own module (a Section, types.js),
// loaded the first time its tab is shown.

import { PageSession } from '../lib/session.js';
import { byId, el } from '../lib/dom.js';
import { errorText } from '../lib/util.js';

/** @type {{name: string, label: string, load: () => Promise<import('./types.js').Section>}[]} */
const SECTIONS = [
  { name: 'accounts', label: 'Accounts', load: () => import('./accounts.js') },
  { name: 'queues', label: 'Queues', load: () => import('./queues.js') },
  { name: 'email', label: 'E-mail', load: () => import('./outbox.js') },
];

const noticesRoot = byId('notices');
const nav = /** @type {HTMLElement} */ (document.querySelector('.adm-tabs'));
const main = byId('sections');
const session = new PageSession(null, '/admin');

/** @type {Map<string, {button: HTMLButtonElement, view: HTMLElement, section?: import('./types.js').Section}>} */
const tabs = new Map();

/** @type {import('./types.js').Ctx} */
const ctx = {
  me: { id: 0, username: '', name: '', role: '' },
  notices: (text) => {
    const dismiss = el('button', { class: 'notice-dismiss', type: 'button', 'aria-label': 'Dismiss' }, '×');
    const node = el('div', { class: 'toast notice-item', role: 'alert' }, el('p', { class: 'notice-text' }, text), dismiss);
    dismiss.addEventListener('click', () => node.remove());
    noticesRoot.append(node);
  },
  show: (name) => void show(name),
};

for (const s of SECTIONS) {
  const button = /** @type {HTMLButtonElement} */ (
    el('button', { class: 'adm-tab', type: 'button', id: `tab-${s.name}`, 'aria-pressed': 'false' }, s.label)
  );
  const view = el('section', { class: 'adm-section', id: `section-${s.name}`, 'aria-label': s.label, hidden: '' });
  button.addEventListener('click', () => {
    history.replaceState(null, '', `#${s.name}`);
    void show(s.name);
  });
  nav.append(button);
  main.append(view);
  tabs.set(s.name, { button, view });
}

/**
 * Shows section name, building it the first time.
 * @param {string} name
 */
async function show(name) {
  const tab = tabs.get(name);
  if (!tab) return;
  for (const [n, t] of tabs) {
    t.button.setAttribute('aria-pressed', String(n === name));
    t.view.hidden = n !== name;
  }
  if (tab.section) {
    tab.section.shown?.();
    return;
  }
  const def = SECTIONS.find((s) => s.name === name);
  if (!def) return;
  try {
    tab.section = await def.load();
    await tab.section.mount(ctx, tab.view);
  } catch (err) {
    ctx.notices(`Could not open ${def.label}: ${errorText(err)}`);
  }
}

session.signOutWith(/** @type {HTMLButtonElement} */ (byId('sign-out')), (message) => ctx.notices(message));

start();

async function start() {
  const me = await session.check();
  if (!me) return;
  if (me.role && me.role !== 'admin') {
    session.leaving = true;
    main.replaceChildren(
      el('p', { class: 'adm-refused', role: 'alert' }, 'The admin console is for admins. '),
      el('a', { href: '/desk' }, 'Go to the desk'),
    );
    return;
  }
  const m = /** @type {any} */ (me);
  ctx.me = { id: m.id || 0, username: m.username || '', name: m.name || '', role: m.role || '' };
  byId('whoami').replaceChildren(el('span', { class: 'whoami-name' }, ctx.me.name), el('span', { class: 'role' }, ctx.me.role));
  const wanted = location.hash.slice(1);
  void show(tabs.has(wanted) ? wanted : 'accounts');
}
