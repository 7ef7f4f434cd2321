// The conference page's stage as a person sees it, in Chromium with fake
// camera and microphone against the real server: with three and four
// people the tiles fill the room at 16:9; "Speaker view" and a shared
// screen take the large stage with the others in a strip under it; and
// each other participant's sound is held until the person clicks
// "Unmute <name>" on their tile.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';

const TIMEOUT = 15_000;
const MEDIA_TIMEOUT = 45_000;

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
 * @typedef {object} Person
 * @property {import('playwright-core').Page} page
 * @property {import('playwright-core').BrowserContext} context
 * @property {Error[]} errors
 * @property {string} name
 *
 * @typedef {{x: number, y: number, width: number, height: number}} Box
 */

/**
 * A browser context of its own, a laptop-sized window, camera and microphone allowed.
 * @param {string} name
 * @returns {Promise<Person>}
 */
async function person(name) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: { width: 1280, height: 800 },
    permissions: ['camera', 'microphone'],
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  /** @type {Error[]} */
  const errors = [];
  page.on('pageerror', (err) => errors.push(err));
  return { page, context, errors, name };
}

/**
 * A guest opens the room's link and joins by name.
 * @param {string} name
 * @param {string} number
 */
async function guest(name, number) {
  const g = await person(name);
  await g.page.goto(`/external/conference/#${number}`);
  await g.page.locator('#guest').getByLabel('Your name').fill(name);
  await g.page.locator('#guest').getByRole('button', { name: 'Join', exact: true }).click();
  return g;
}

/**
 * Waits until the page shows this many camera tiles with video playing.
 * @param {Person} p
 * @param {number} n
 */
async function cameras(p, n) {
  await waitUntil(
    async () => (await p.page.locator('#room-slot .room-tile-camera[data-video="on"]').count()) === n,
    `${p.name} to see ${n} cameras`,
    MEDIA_TIMEOUT,
  );
}

/**
 * The room view's box and its camera tiles' boxes, once the layout settled.
 * @param {Person} p
 * @returns {Promise<{room: Box, grid: Box, stage: Box | null, tiles: Box[]}>}
 */
async function measure(p) {
  // Two frames: the view sizes its grid in the frame after a change.
  await p.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return p.page.evaluate(() => {
    /** @param {Element} e */
    const box = (e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const room = /** @type {Element} */ (document.querySelector('#room-slot .room'));
    const grid = /** @type {Element} */ (room.querySelector('.room-grid'));
    const stage = room.querySelector('.room-stage');
    return {
      room: box(room),
      grid: box(grid),
      stage: stage && stage.childElementCount ? box(stage) : null,
      tiles: [...grid.querySelectorAll('.room-tile')].map(box),
    };
  });
}

/** @param {Box} b */
const area = (b) => b.width * b.height;

/**
 * Each tile is at least share of the room's area, 16:9, inside the room.
 * @param {Awaited<ReturnType<typeof measure>>} m
 * @param {number} share
 * @param {string} what
 */
function fills(m, share, what) {
  const report = `${what}: room ${JSON.stringify(m.room)}, tiles ${JSON.stringify(m.tiles)}`;
  for (const t of m.tiles) {
    assert.ok(area(t) >= share * area(m.room), `each tile is at least ${share} of the room; ${report}`);
    assert.ok(Math.abs(t.width / t.height - 16 / 9) < 0.02, `16:9 kept; ${report}`);
    assert.ok(t.x >= m.room.x && t.y >= m.room.y && t.x + t.width <= m.room.x + m.room.width + 0.5 && t.y + t.height <= m.room.y + m.room.height + 0.5,
      `inside the room; ${report}`);
  }
}

describe('conference stage', () => {
  test('three and four people fill the stage; Speaker view and a shared screen take it with the others in a strip; each voice waits for "Unmute <name>"', () =>
    explain(server, async () => {
      const alice = await person('Alice Agent');
      /** @type {Person[]} */
      const people = [alice];
      try {
        const res = await alice.context.request.post('/api/login', { data: { username: 'alice', password: 'demo' } });
        assert.equal(res.status(), 200);
        await alice.page.goto('/external/conference');
        await alice.page.getByLabel('Room name').fill('Stage');
        await alice.page.getByRole('button', { name: 'Create room' }).click();
        const shown = alice.page.locator('#room-number');
        await shown.and(alice.page.locator(':visible')).waitFor({ timeout: MEDIA_TIMEOUT });
        const number = (await shown.innerText()).replace(/\D/g, '');

        people.push(await guest('Gita Guest', number));
        people.push(await guest('Hugo Guest', number));
        await cameras(alice, 3);
        // 1280×800: a room of 1256×669 (the bar included), and the tiles at
        // 16:9 in two rows: each about a fifth of it (it was 148×83 px).
        fills(await measure(alice), 0.18, 'three people');

        people.push(await guest('Ines Guest', number));
        await cameras(alice, 4);
        const four = await measure(alice);
        fills(four, 0.18, 'four people');
        assert.ok(four.tiles.reduce((s, t) => s + area(t), 0) >= 0.7 * area(four.room), `the four cover most of the room: ${JSON.stringify(four)}`);
        assert.ok(four.tiles.reduce((s, t) => s + area(t), 0) >= 0.8 * area(four.grid), `the tiles fill the grid: ${JSON.stringify(four)}`);

        // Each other voice is held until its own button is clicked.
        const slot = alice.page.locator('#room-slot');
        for (const name of ['Gita Guest', 'Hugo Guest', 'Ines Guest']) {
          await slot.getByRole('button', { name: `Unmute ${name}` }).waitFor({ timeout: MEDIA_TIMEOUT });
        }
        assert.equal(await slot.locator('.room-bar .room-unmute').isVisible(), false, 'no room-wide unmute');
        /** @returns {Promise<Record<string, boolean>>} muted, by the name on the tile of the sound's participant */
        const sounds = () =>
          alice.page.evaluate(() => {
            /** @type {Record<string, boolean>} */
            const out = {};
            for (const a of /** @type {NodeListOf<HTMLAudioElement>} */ (document.querySelectorAll('#room-slot audio.room-sound'))) {
              const tile = document.querySelector(`#room-slot .room-tile-camera[data-participant="${a.dataset.participant}"] .room-name`);
              out[tile?.textContent ?? '?'] = a.muted || a.paused;
            }
            return out;
          });
        await waitUntil(async () => Object.keys(await sounds()).length === 3, 'three sounds');
        assert.deepEqual(await sounds(), { 'Gita Guest': true, 'Hugo Guest': true, 'Ines Guest': true }, 'all held');
        const gita = slot.locator('.room-tile-camera', { has: alice.page.locator('.room-name', { hasText: 'Gita Guest' }) });
        await gita.getByRole('button', { name: 'Unmute Gita Guest' }).click();
        await waitUntil(async () => (await sounds())['Gita Guest'] === false, "Gita's sound to play");
        assert.deepEqual(await sounds(), { 'Gita Guest': false, 'Hugo Guest': true, 'Ines Guest': true }, 'only Gita plays');
        await gita.getByRole('button', { name: 'Unmute Gita Guest' }).waitFor({ state: 'hidden' });

        // Speaker view: one large tile, the others in a strip under it.
        await slot.getByRole('button', { name: 'Speaker view' }).click();
        await slot.getByRole('button', { name: 'Grid view' }).waitFor();
        await slot.locator('.room-stage .room-tile-camera').waitFor();
        const speaker = await measure(alice);
        assert.ok(speaker.stage && area(speaker.stage) >= 0.45 * area(speaker.room), `a large stage: ${JSON.stringify(speaker)}`);
        assert.equal(speaker.tiles.length, 3, 'three in the strip');
        for (const t of speaker.tiles) assert.ok(speaker.stage && t.y >= speaker.stage.y + speaker.stage.height - 0.5, `the strip is under the stage: ${JSON.stringify(speaker)}`);
        await slot.getByRole('button', { name: 'Grid view' }).click();
        await waitUntil(async () => (await slot.locator('.room-stage .room-tile').count()) === 0, 'the grid again');
        fills(await measure(alice), 0.18, 'back to the grid');

        // A shared screen takes the stage.
        const hugo = people[2];
        await hugo.page.locator('#room-slot').getByRole('button', { name: 'Share screen' }).click();
        const screen = slot.locator('.room-stage .room-tile-screen[data-video="on"]');
        await screen.waitFor({ timeout: MEDIA_TIMEOUT });
        await waitForText(screen.locator('.room-name'), 'Hugo Guest · screen');
        const shared = await measure(alice);
        assert.ok(shared.stage && area(shared.stage) >= 0.45 * area(shared.room), `the screen is large: ${JSON.stringify(shared)}`);
        assert.equal(shared.tiles.length, 4, 'the four cameras in the strip');
        for (const t of shared.tiles) assert.ok(shared.stage && t.y >= shared.stage.y + shared.stage.height - 0.5, `the strip is under the screen: ${JSON.stringify(shared)}`);
      } finally {
        for (const p of people) assert.deepEqual(p.errors.map(String), [], `${p.name}'s page threw`);
        await Promise.all(people.map((p) => p.context.close()));
      }
    }));
});
