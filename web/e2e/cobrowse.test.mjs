// Escalating a chat to video ("co-browsing") from both ends, in Chromium
// with fake camera, microphone and screen, against the real server and its
// SFU: the agent in the desk, the customer in the widget on /demo, each in
// a browser context of their own. Media is checked where it is decoded:
// the RTCInboundRtpStreamStats of each received track (framesDecoded must
// keep rising), read through window.__parleyRooms (room.js).

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

/**
 * @typedef {import('./people.mjs').Person} Person
 * @typedef {import('./people.mjs').Customer} Customer
 */

/** A fresh browser context and page, allowed the camera and microphone. */
const person = () =>
  newPerson(browser, server, { timeout: TIMEOUT, viewport: { width: 1400, height: 900 }, permissions: ['camera', 'microphone'] });

/** @param {string} username */
async function agentDesk(username) {
  const p = await person();
  await openDesk(p, username);
  return p;
}

/**
 * A customer on the demo page starts a chat in the widget.
 * @param {string} name
 * @returns {Promise<Customer>}
 */
async function customerChat(name) {
  return startDemoChat(await person(), name);
}

/**
 * framesDecoded of the videos a page receives from a source, summed
 * (room.js receiveStats over the page's joined rooms).
 * @param {import('playwright-core').Page | import('playwright-core').Frame} where
 * @param {string} source camera or screen
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
 * Waits until the received video of a source is decoded, and keeps being:
 * framesDecoded above zero, then thirty frames more.
 * @param {import('playwright-core').Page | import('playwright-core').Frame} where
 * @param {string} source
 * @param {string} who for the failure message
 */
async function videoFlows(where, source, who) {
  const first = await waitUntil(async () => (await framesDecoded(where, source)) || 0, `${who} to decode ${source} video`, MEDIA_TIMEOUT);
  await waitUntil(async () => (await framesDecoded(where, source)) > first + 30, `${who}'s ${source} video to keep decoding (from ${first} frames)`, MEDIA_TIMEOUT);
}

describe('co-browsing', () => {
  test('an agent escalates a chat to video, both see each other, the customer shares the screen, the agent hears them once unmuted, and leaving stops the tracks', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const vera = await customerChat('Vera Video');
      const desk = alice.page;
      try {
        await accept(desk, 'Vera Video');
        await vera.widget.getByText('Alice Agent joined the chat').waitFor();

        // The agent opens the room: it shows in the dock, with the agent's camera.
        assert.equal(await vera.widget.getByRole('button', { name: 'Open co-browsing' }).count(), 0, 'nothing to open before the agent opens a room');
        await desk.getByRole('button', { name: 'Create video room' }).click();
        const dock = desk.locator('#room-dock');
        await dock.locator('.room-tile[data-local][data-video="on"]').waitFor();
        await desk.locator('#transcript .system', { hasText: 'Alice Agent opened a video room' }).waitFor();
        await desk.locator('#transcript .system', { hasText: 'Alice Agent joined the video room' }).waitFor();
        assert.ok(await desk.getByRole('button', { name: 'Create video room' }).isHidden(), 'no second room from the same chat');

        // The customer sees the invitation in the chat, and joins.
        await vera.widget.getByText('Alice Agent opened a video room.').waitFor();
        await vera.widget.getByRole('button', { name: 'Open co-browsing' }).click();
        const room = vera.widget.locator('#parley-room .room');
        await room.locator('.room-tile[data-local][data-video="on"]').waitFor();
        await vera.widget.getByText('You joined the video room.').waitFor();
        await desk.locator('#transcript .system', { hasText: 'Vera Video joined the video room' }).waitFor();

        // Each receives the other's camera, named.
        const veraTile = dock.locator('.room-tile-camera:not([data-local])');
        await waitForText(veraTile.locator('.room-name'), 'Vera Video');
        const aliceTile = room.locator('.room-tile-camera:not([data-local])');
        await waitForText(aliceTile.locator('.room-name'), 'Alice Agent');
        await Promise.all([videoFlows(desk, 'camera', 'the agent'), videoFlows(vera.frame(), 'camera', 'the customer')]);
        await aliceTile.and(vera.widget.locator('[data-video="on"]')).waitFor();
        await veraTile.and(desk.locator('[data-video="on"]')).waitFor();

        // The agent's sound is held back until the customer asks for it.
        const sounds = vera.widget.locator('#parley-room audio.room-sound');
        await sounds.first().waitFor({ state: 'attached' });
        assert.deepEqual(await sounds.evaluateAll((els) => els.map((a) => /** @type {HTMLAudioElement} */ (a).muted)), [true], "the agent's sound starts muted");
        await vera.widget.getByRole('button', { name: 'Unmute agent' }).click();
        await vera.widget.getByRole('button', { name: 'Unmute agent' }).waitFor({ state: 'hidden' });
        await waitUntil(
          async () => (await sounds.evaluateAll((els) => els.map((a) => { const x = /** @type {HTMLAudioElement} */ (a); return !x.muted && !x.paused; }))).every(Boolean),
          "the agent's sound to play unmuted",
        );
        // The desk plays the customer's sound without asking (the agent clicked to join).
        const deskSounds = desk.locator('#room-dock audio.room-sound');
        await deskSounds.first().waitFor({ state: 'attached' });
        assert.ok(await desk.getByRole('button', { name: 'Unmute participant' }).isHidden(), 'the agent is not asked to unmute');

        // Mute: the other side sees it.
        await desk.locator('#room-dock').getByRole('button', { name: 'Mute microphone' }).click();
        await aliceTile.locator('.room-muted').waitFor();
        await desk.locator('#room-dock').getByRole('button', { name: 'Unmute microphone' }).click();
        await aliceTile.locator('.room-muted').waitFor({ state: 'hidden' });

        // The customer shares the screen: the agent gets a large tile, decoded.
        await room.getByRole('button', { name: 'Share screen' }).click();
        await room.getByRole('button', { name: 'Stop sharing' }).waitFor();
        const screenTile = dock.locator('.room-stage .room-tile-screen');
        await waitForText(screenTile.locator('.room-name'), 'Vera Video · screen', MEDIA_TIMEOUT);
        await videoFlows(desk, 'screen', 'the agent');
        await screenTile.and(desk.locator('[data-video="on"]')).waitFor();
        await desk.locator('#transcript .system', { hasText: 'Vera Video started sharing the screen' }).waitFor();
        await vera.widget.getByText('You started sharing your screen.').waitFor();

        await room.getByRole('button', { name: 'Stop sharing' }).click();
        await screenTile.waitFor({ state: 'detached', timeout: MEDIA_TIMEOUT });
        await desk.locator('#transcript .system', { hasText: 'Vera Video stopped sharing the screen' }).waitFor();

        // The customer leaves: every local track ends, the agent sees them go.
        await vera.frame().evaluate(() => {
          const w = /** @type {any} */ (window);
          w.__tracks = [...w.__parleyRooms][0].localTracks();
        });
        assert.equal(await vera.frame().evaluate(() => /** @type {any} */ (window).__tracks.length), 2, 'camera and microphone were sent');
        await room.getByRole('button', { name: 'Leave' }).click();
        await vera.widget.locator('#parley-room').waitFor({ state: 'hidden' });
        assert.deepEqual(
          await vera.frame().evaluate(() => /** @type {any} */ (window).__tracks.map((/** @type {MediaStreamTrack} */ t) => t.readyState)),
          ['ended', 'ended'],
          'leaving stops the camera and the microphone',
        );
        assert.equal(await vera.frame().evaluate(() => /** @type {any} */ (window).__parleyRooms.size), 0, 'no room left joined');
        await veraTile.waitFor({ state: 'detached' });
        await desk.locator('#transcript .system', { hasText: 'Vera Video left the video room' }).waitFor();
        await vera.widget.getByText('You left the video room.').waitFor();
        // The room is still open (the agent is in it): the customer may come back.
        await vera.widget.getByRole('button', { name: 'Open co-browsing' }).waitFor();

        // The agent ends it for everyone.
        await desk.getByRole('button', { name: 'End for everyone' }).click();
        await dock.waitFor({ state: 'hidden' });
        await desk.locator('#transcript .system', { hasText: 'The video room ended' }).waitFor();
        await vera.widget.getByText('The video room ended.').waitFor();
        await vera.widget.getByRole('button', { name: 'Open co-browsing' }).waitFor({ state: 'hidden' });
        await desk.getByRole('button', { name: 'Create video room' }).waitFor();
      } finally {
        await done(alice, vera);
      }
    }));

  test('a customer starts a video call from the chat window and the agent joins it', () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const cleo = await customerChat('Cleo Caller');
      const desk = alice.page;
      try {
        await accept(desk, 'Cleo Caller');
        await cleo.widget.getByRole('button', { name: 'Video call' }).click();
        const room = cleo.widget.locator('#parley-room .room');
        await room.locator('.room-tile[data-local][data-video="on"]').waitFor();
        await desk.locator('#notices').getByText('Cleo Caller started a video call', { exact: false }).waitFor();
        await desk.getByRole('button', { name: 'Join video room' }).click();
        await waitForText(desk.locator('#room-dock .room-tile-camera:not([data-local]) .room-name'), 'Cleo Caller');
        await Promise.all([videoFlows(desk, 'camera', 'the agent'), videoFlows(cleo.frame(), 'camera', 'the customer')]);
        await room.getByRole('button', { name: 'Leave' }).click();
        await desk.locator('#room-dock .room-tile-camera:not([data-local])').waitFor({ state: 'detached' });
        await desk.locator('#room-dock').getByRole('button', { name: 'Leave' }).click();
        await desk.locator('#room-dock').waitFor({ state: 'hidden' });
        await desk.getByRole('button', { name: 'Join video room' }).waitFor(); // still open, for a while
      } finally {
        await done(alice, cleo);
      }
    }));

  test("a visitor cannot join another customer's room", () =>
    explain(server, async () => {
      const alice = await agentDesk('alice');
      const vera = await customerChat('Vera Owner');
      const desk = alice.page;
      try {
        await accept(desk, 'Vera Owner');
        await desk.getByRole('button', { name: 'Create video room' }).click();
        const roomId = await waitUntil(
          () => desk.evaluate(() => [.../** @type {any} */ (window).__parleyRooms ?? []][0]?.roomId ?? ''),
          'the agent to be in the room',
        );

        // A stranger, with a visitor token of the same queue and a chat of
        // their own, asks to join it with the widget's own room client.
        const stranger = await customerChat('Stan Stranger');
        try {
          const answer = await stranger.frame().evaluate(async (roomId) => {
            const { Connection } = await import('/static/lib/parley.js');
            const { RoomSession } = await import('/static/room/room.js');
            const token = localStorage.getItem('parley.visitor.demo') ?? '';
            const conn = new Connection({ token, client: 'e2e/stranger' });
            await conn.connect();
            const room = new RoomSession(conn);
            try {
              await room.join(roomId, { camera: true, microphone: true });
              return { joined: true, code: '', message: '', tracks: room.localTracks().length };
            } catch (err) {
              const e = /** @type {any} */ (err);
              return { joined: false, code: e.code, message: e.message, tracks: room.localTracks().length };
            } finally {
              conn.close();
            }
          }, roomId);
          assert.equal(answer.joined, false, 'the stranger is not let in');
          assert.equal(answer.code, 'forbidden');
          assert.match(answer.message, /\S/, 'the refusal says why');
          assert.equal(answer.tracks, 0, 'no camera was opened for a refused join');
          assert.equal(await stranger.widget.getByRole('button', { name: 'Open co-browsing' }).count(), 0, "the stranger's widget offers no room");
          assert.equal(await desk.locator('#room-dock .room-tile:not([data-local])').count(), 0, 'nobody joined the agent');
        } finally {
          await done(stranger);
        }
      } finally {
        await done(alice, vera);
      }
    }));
});
