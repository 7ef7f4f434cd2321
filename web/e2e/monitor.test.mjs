// Screen monitoring and watching a chat's video room, in Chromium with a
// fake screen ("Entire screen" chosen by itself) against the real server
// and its SFU: the supervisor in /supervisor, the agent in the desk, the
// customer in the widget, each in a browser context of their own. Media is
// checked where it is decoded (room.js receiveStats: framesDecoded keeps
// rising) and where it is shown (the <video>'s videoWidth).
//
// The supervisor asks from the agent's summary on the floor (Screen) and
// watches a chat's room from the chat pane (Watch video), as a person would.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, openDesk, startDemoChat } from './people.mjs';

const TIMEOUT = 15_000;
const MEDIA_TIMEOUT = 30_000;

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

/** @typedef {import('./people.mjs').Person} Person */

const person = () =>
  newPerson(browser, server, { timeout: TIMEOUT, viewport: { width: 1400, height: 900 }, permissions: ['camera', 'microphone'] });

/**
 * A supervisor on /supervisor, connected.
 * @param {string} username
 */
async function supervisor(username) {
  const p = await person();
  const res = await p.context.request.post('/api/login', { data: { username, password: 'demo' } });
  assert.equal(res.status(), 200, `${username} signs in`);
  await p.page.goto('/supervisor');
  await waitForText(p.page.locator('#conn-state'), 'Connected');
  return p;
}

/**
 * The supervisor chooses the agent on the floor and asks for the screen.
 * @param {Person} sam
 * @param {number} id
 * @param {string} name
 */
async function askScreen(sam, id, name) {
  await sam.page.locator(`#agents-table tr[data-agent-id="${id}"]`).getByRole('button', { name }).click();
  await sam.page.locator('#agent-pane').getByRole('button', { name: 'Screen' }).click();
}

/** @param {Person} p @param {string} username */
async function userId(p, username) {
  const res = await p.context.request.get('/api/me');
  const me = await res.json();
  assert.equal(me.username, username);
  return /** @type {number} */ (me.id);
}

/**
 * framesDecoded of the videos a page receives from a source, summed.
 * @param {import('playwright-core').Page | import('playwright-core').Frame} where
 * @param {string} source
 */
function framesDecoded(where, source) {
  return where.evaluate(async (source) => {
    const rooms = /** @type {any} */ (window).__parleyRooms;
    if (!rooms) return 0;
    let n = 0;
    for (const room of rooms) {
      for (const s of await room.receiveStats()) if (s.kind === 'video' && s.source === source) n += s.framesDecoded;
    }
    return n;
  }, source);
}

/**
 * The received video of a source decodes, and keeps decoding.
 * @param {import('playwright-core').Page} page
 * @param {string} source
 * @param {string} who
 */
async function videoFlows(page, source, who) {
  const first = await waitUntil(async () => (await framesDecoded(page, source)) || 0, `${who} to decode ${source} video`, MEDIA_TIMEOUT);
  await waitUntil(async () => (await framesDecoded(page, source)) > first + 30, `${who}'s ${source} video to keep decoding`, MEDIA_TIMEOUT);
}

/**
 * A <video> under the locator plays: it has a size and its time advances.
 * @param {import('playwright-core').Locator} video
 * @param {string} what
 */
async function plays(video, what) {
  await video.waitFor();
  await waitUntil(() => video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).videoWidth > 0), `${what} to have a size`, MEDIA_TIMEOUT);
  const t0 = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).currentTime);
  await waitUntil(() => video.evaluate((v, t0) => /** @type {HTMLVideoElement} */ (v).currentTime > t0 + 0.5, t0), `${what} to keep playing`, MEDIA_TIMEOUT);
}

/** @param {import('playwright-core').Page} page */
const notices = (page) => page.locator('#notices .notice-text').allInnerTexts();

describe('screen monitoring', () => {
  test("a supervisor asks, the agent consents and shares, the supervisor sees the agent's screen, and each can stop it", () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const sam = await supervisor('sam');
      const desk = alice.page;
      try {
        const aliceId = await userId(alice, 'alice');
        await askScreen(sam, aliceId, 'Alice Agent');
        const viewer = sam.page.locator('.screen-viewer');
        await waitForText(viewer.getByRole('status'), 'Waiting for Alice Agent to share their screen…');

        // The agent is asked, and shares.
        const ask = desk.getByRole('alertdialog', { name: 'Sam Supervisor asks to see your screen' });
        await ask.waitFor();
        await ask.getByRole('button', { name: 'Share' }).click();
        await ask.waitFor({ state: 'detached' });

        // The supervisor sees the screen, playing.
        await waitForText(viewer.getByRole('status'), 'Alice Agent is sharing their screen with you.');
        await plays(viewer.locator('.room-tile-screen video'), "the agent's screen");
        await videoFlows(sam.page, 'screen', 'the supervisor');

        // The agent sees that they are watched.
        const indicator = desk.locator('#monitor').getByRole('status').filter({ hasText: 'Sam Supervisor is watching your screen' });
        await indicator.waitFor();

        // The supervisor stops: the agent's indicator goes, and the sharing.
        await viewer.getByRole('button', { name: 'Stop' }).click();
        await viewer.waitFor({ state: 'detached' });
        await indicator.waitFor({ state: 'detached' });
        await desk.locator('#notices').getByText('Sam Supervisor stopped watching your screen.').waitFor();
        await waitUntil(() => desk.evaluate(() => /** @type {any} */ (window).__parleyRooms?.size === 0), "the agent's desk to leave the room");

        // Again; this time the agent stops it, and the supervisor is told.
        await askScreen(sam, aliceId, 'Alice Agent');
        await ask.getByRole('button', { name: 'Share' }).click();
        await plays(viewer.locator('.room-tile-screen video'), "the agent's screen");
        await indicator.getByRole('button', { name: 'Stop' }).click();
        await indicator.waitFor({ state: 'detached' });
        await viewer.waitFor({ state: 'detached' });
        await waitUntil(async () => (await notices(sam.page)).includes('Alice Agent stopped sharing their screen.'), 'the supervisor to be told');

        // And declined: nothing is shared.
        await askScreen(sam, aliceId, 'Alice Agent');
        await ask.getByRole('button', { name: 'Decline' }).click();
        await viewer.waitFor({ state: 'detached' });
        await waitUntil(async () => (await notices(sam.page)).includes('Alice Agent declined to share their screen.'), 'the supervisor to hear of the decline');
        assert.equal(await indicator.count(), 0, 'a declined request shows no indicator');
        assert.deepEqual([...alice.errors, ...sam.errors], [], 'no page errors');
      } finally {
        await done(alice, sam);
      }
    }));

  test("a supervisor watches a chat's video call receive-only, and the customer sees nobody new", () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const vera = await startDemoChat(await person(), 'Vera Watched');
      const sam = await supervisor('sam');
      const desk = alice.page;
      try {
        await accept(desk, 'Vera Watched');
        await desk.getByRole('button', { name: 'Create video room' }).click();
        await vera.widget.getByRole('button', { name: 'Open co-browsing' }).click();
        const room = vera.widget.locator('#parley-room .room');
        const others = room.locator('.room-tile-camera:not([data-local])');
        await waitForText(others.locator('.room-name'), 'Alice Agent');
        const conversationId = await waitUntil(
          () => desk.evaluate(() => [.../** @type {any} */ (window).__parleyRooms ?? []][0]?.room?.conversation_id ?? 0),
          "the agent's room",
        );

        // Sam opens the chat from the floor's list and watches its video.
        await sam.page.locator(`#lists .sup-chip[data-conversation-id="${conversationId}"]`).click();
        await sam.page.locator('#chat-pane').getByRole('button', { name: 'Watch video' }).click();
        const watch = sam.page.locator('#chat-pane .spy-video');
        await waitForText(watch.getByRole('status').first(), 'Watching the chat’s video room. The customer is not told.');
        await videoFlows(sam.page, 'camera', 'the supervisor');
        await plays(watch.locator('.room-tile-camera:not([data-local]) video').first(), 'the call');
        assert.equal(await watch.locator('.room-tile-camera:not([data-local])').count(), 2, 'the supervisor sees the agent and the customer');

        // The customer sees only the agent: no tile, no participant, no line.
        assert.equal(await others.count(), 1, "the customer's call shows only the agent");
        assert.equal(
          await vera.frame().evaluate(() => [.../** @type {any} */ (window).__parleyRooms][0].participants.length),
          2,
          "the customer's room knows of the customer and the agent only",
        );
        assert.equal(await vera.widget.getByText('Sam Supervisor').count(), 0, 'the supervisor is named nowhere in the widget');

        await watch.getByRole('button', { name: 'Stop watching' }).click();
        await waitForText(watch.getByRole('status').first(), 'Stopped watching.');
        await waitUntil(() => sam.page.evaluate(() => /** @type {any} */ (window).__parleyRooms?.size === 0), 'the supervisor to leave the room');
        assert.equal(await others.count(), 1, 'the call goes on for the customer');
      } finally {
        await done(alice, vera, sam);
      }
    }));
});
