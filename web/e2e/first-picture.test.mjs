// A guest's first picture of the others does not wait for its own camera
// (docs/benchmarks.md, "First picture and media capacity"): in Chromium,
// against the real server, Alice publishes her fake camera in a conference
// room; a guest joins by the link while its own camera is held back (its
// getUserMedia does not answer until the test lets it). The room shows
// and Alice's video plays meanwhile; the guest's camera was asked for only
// after its answer to the server's down offer; once the camera answers, it
// is published.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';

const TIMEOUT = 30_000;

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

test('a guest sees the room and the others before its own camera answers, and publishes it once it does', () =>
  explain(server, async () => {
    const alice = await browser.newContext({ baseURL: server.url, permissions: ['camera', 'microphone'] });
    const res = await alice.request.post('/api/login', { data: { username: 'alice', password: 'demo' } });
    assert.equal(res.status(), 200, 'alice signs in');
    const ap = await alice.newPage();
    await ap.goto('/external/conference');
    await ap.getByLabel('Room name').fill('Held camera');
    await ap.getByRole('button', { name: 'Create room' }).click();
    const shown = ap.locator('#room-number');
    await shown.and(ap.locator(':visible')).waitFor({ timeout: TIMEOUT });
    const number = (await shown.innerText()).replace(/\D/g, '');
    await waitUntil(() => ap.evaluate(() => {
      const rooms = /** @type {any} */ (globalThis).__parleyRooms;
      return rooms && [...rooms].some((s) => s.cameraOn);
    }), "Alice's camera published", TIMEOUT);

    const g = await browser.newContext({ baseURL: server.url, permissions: ['camera', 'microphone'] });
    await g.addInitScript(() => {
      const w = /** @type {any} */ (globalThis);
      w.__held = { asked: 0, answeredDownFirst: null };
      let release = () => {};
      const gate = new Promise((resolve) => (release = () => resolve(undefined)));
      w.__releaseCamera = () => release();
      // Whether the browser had answered an offer of the server's when its
      // camera was asked for.
      let answered = false;
      const PC = w.RTCPeerConnection;
      w.RTCPeerConnection = class extends PC {
        /** @param {any} d */
        async setLocalDescription(d) {
          await super.setLocalDescription(d);
          if (this.localDescription?.type === 'answer') answered = true;
        }
      };
      const md = navigator.mediaDevices;
      const gum = md.getUserMedia.bind(md);
      md.getUserMedia = async (/** @type {any} */ c) => {
        w.__held.asked++;
        if (w.__held.answeredDownFirst === null) w.__held.answeredDownFirst = answered;
        await gate;
        return gum(c);
      };
    });
    const p = await g.newPage();
    await p.goto(`/external/conference/#${number}`);
    await waitForText(p.locator('#guest-room-name'), 'Held camera');
    await p.locator('#guest').getByLabel('Your name').fill('Guest');
    await p.locator('#guest').getByRole('button', { name: 'Join', exact: true }).click();

    // The camera is held: the room shows, and Alice's video plays.
    await p.locator('#room').and(p.locator(':visible')).waitFor({ timeout: TIMEOUT });
    await waitUntil(() => p.evaluate(async () => {
      const rooms = /** @type {any} */ (globalThis).__parleyRooms;
      if (!rooms) return false;
      for (const s of rooms) for (const r of await s.receiveStats()) if (r.kind === 'video' && r.framesDecoded > 0) return true;
      return false;
    }), "Alice's video decoded by the guest", TIMEOUT);
    const held = await p.evaluate(() => /** @type {any} */ (globalThis).__held);
    assert.ok(held.asked >= 1, 'the guest asked for its camera');
    assert.equal(held.answeredDownFirst, true, 'the camera was asked for only after the down offer was answered');
    const on = await p.evaluate(() => [.../** @type {any} */ (globalThis).__parleyRooms].some((s) => s.cameraOn));
    assert.equal(on, false, 'nothing published while the camera is held');

    // The camera answers: it is published, and Alice receives it.
    await p.evaluate(() => /** @type {any} */ (globalThis).__releaseCamera());
    await waitUntil(() => ap.evaluate(async () => {
      for (const s of /** @type {any} */ (globalThis).__parleyRooms) {
        for (const r of await s.receiveStats()) if (r.kind === 'video' && r.framesDecoded > 0) return true;
      }
      return false;
    }), "the guest's camera decoded by Alice", TIMEOUT);
    await Promise.all([g.close(), alice.close()]);
  }));
