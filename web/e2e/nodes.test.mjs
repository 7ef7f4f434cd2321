// Parley as three nodes on one database and one NATS server (a real one,
// web/e2e/natsd), each a process of its own, in Chromium as people use it:
// the customer's widget served by one node, the agent's desk by another,
// their video room on the third node's SFU; chat and video both ways.
// Then the room's node is killed (SIGKILL): both pages join the room again
// on the other media node (D) by themselves and the video comes back. Then
// the desk behind a load balancer (balancer.mjs) while its node drains
// (SIGTERM): the desk lands on another node and nothing is lost.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBalancer } from './balancer.mjs';
import { explain, freePort, launchBrowser, startNodes, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, openDesk, startDemoChat } from './people.mjs';

const TIMEOUT = 15_000;
const MEDIA_TIMEOUT = 30_000;

/** @type {import('./harness.mjs').Deployment} */
let nodes;
/** @type {import('playwright-core').Browser} */
let browser;

/** The media ports (ICE over UDP and over TCP) of nodes C and D, chosen here to know them. */
const cMedia = { udp: 0, tcp: 0 };
const dMedia = { udp: 0, tcp: 0 };

/** The media node still alive after the room's node was killed: the drain test's second node. */
let survivor = -1;

before(async () => {
  [cMedia.udp, cMedia.tcp, dMedia.udp, dMedia.tcp] = await Promise.all(
    [freePort('udp'), freePort('tcp'), freePort('udp'), freePort('tcp')]);
  // Nodes A and B run no SFU: a room can only live on C or D (C first:
  // with as many rooms each, the lower id).
  const media = [cMedia, dMedia];
  // At the debug level the logs a failure prints tell where each chat
  // was offered and who the router saw connected.
  const settings = (/** @type {number} */ i) => ({
    PARLEY_LOG_LEVEL: 'debug',
    ...(i < 2
      ? { PARLEY_MEDIA: 'false' }
      : { PARLEY_MEDIA_UDP_PORT: String(media[i - 2].udp), PARLEY_MEDIA_TCP_PORT: String(media[i - 2].tcp) }),
  });
  // Both settle before a failure is reported, so that after() stops
  // whichever started.
  const [n, br] = await Promise.allSettled([startNodes(4, settings), launchBrowser()]);
  if (n.status === 'fulfilled') nodes = n.value;
  if (br.status === 'fulfilled') browser = br.value;
  if (n.status === 'rejected') throw n.reason;
  if (br.status === 'rejected') throw br.reason;
  // A port taken meanwhile by another process was chosen again at start.
  for (const [i, m] of /** @type {const} */ ([[2, cMedia], [3, dMedia]])) {
    m.udp = Number(nodes.nodes[i].env.PARLEY_MEDIA_UDP_PORT);
    m.tcp = Number(nodes.nodes[i].env.PARLEY_MEDIA_TCP_PORT);
  }
});

after(async () => {
  await Promise.all([browser?.close(), nodes?.stop()]);
});

/**
 * A fresh browser context and page on the server at url, allowed the
 * camera and microphone.
 * @param {string} url
 */
const personOn = (url) =>
  newPerson(browser, { url, database: nodes.database, logs: nodes.logs, restart: noop, stop: noop, terminate: noop, kill: noop },
    { timeout: TIMEOUT, viewport: { width: 1400, height: 900 }, permissions: ['camera', 'microphone'] });

async function noop() {}

/**
 * framesDecoded of the camera videos a page receives (room.js
 * receiveStats over the page's joined rooms).
 * @param {import('playwright-core').Page | import('playwright-core').Frame} where
 */
function framesDecoded(where) {
  return where.evaluate(async () => {
    const rooms = /** @type {any} */ (window).__parleyRooms;
    if (!rooms) return 0;
    let n = 0;
    for (const room of rooms) {
      for (const s of await room.receiveStats()) if (s.kind === 'video' && s.source === 'camera') n += s.framesDecoded;
    }
    return n;
  });
}

/**
 * The received camera video is decoded and keeps being: thirty frames more.
 * @param {import('playwright-core').Page | import('playwright-core').Frame} where
 * @param {string} who
 */
async function videoFlows(where, who) {
  const first = await waitUntil(async () => (await framesDecoded(where)) || 0, `${who} to decode the camera video`, MEDIA_TIMEOUT);
  await waitUntil(async () => (await framesDecoded(where)) > first + 30, `${who}'s video to keep decoding (from ${first} frames)`, MEDIA_TIMEOUT);
}

/**
 * Types into a compose box and presses Enter.
 * @param {import('playwright-core').Locator} box
 * @param {string} text
 */
async function typeAndEnter(box, text) {
  await box.fill(text);
  await box.press('Enter');
}

/** Texts of the messages, in the order shown. */
const widgetMessages = (/** @type {import('playwright-core').FrameLocator} */ widget) =>
  widget.locator('#parley-transcript .msg .bubble').allTextContents();
const deskMessages = (/** @type {import('playwright-core').Page} */ desk) =>
  desk.locator('#transcript .msg .msg-text').allTextContents();

/**
 * The numbers of the events the desk shows, in order.
 * @param {import('playwright-core').Page} desk
 */
const deskSeqs = (desk) =>
  desk.locator('#transcript .events [data-seq]').evaluateAll((els) => els.map((n) => Number(n.getAttribute('data-seq'))));

describe('three nodes', () => {
  test('the widget on node A, the desk on node B, a video room on node C: chat and video both ways', () =>
    explain(nodes, async () => {
      const [a, b] = nodes.nodes;
      const alice = await personOn(b.url);
      await openDesk(alice, 'alice');
      const vera = await startDemoChat(await personOn(a.url), 'Vera Nodes');
      const desk = alice.page;
      try {
        await accept(desk, 'Vera Nodes');
        await vera.widget.getByText('Alice Agent joined the chat').waitFor();

        // Chat both ways, across the nodes.
        const compose = desk.getByPlaceholder('Write a reply…');
        const input = vera.widget.getByLabel('Message', { exact: true });
        for (let i = 1; i <= 3; i++) {
          await typeAndEnter(compose, `Agent on B ${i}`);
          await typeAndEnter(input, `Customer on A ${i}`);
        }
        await desk.locator('#transcript .msg-customer .msg-text', { hasText: 'Customer on A 3' }).waitFor();
        await vera.widget.locator('#parley-transcript .msg-agent .bubble').getByText('Agent on B 3', { exact: true }).waitFor();
        await desk.locator('#transcript .msg.pending').first().waitFor({ state: 'detached' });
        await vera.widget.locator('#parley-transcript .msg.pending').first().waitFor({ state: 'detached' });
        assert.deepEqual(await deskMessages(desk), await widgetMessages(vera.widget), 'the same messages in the same order on both sides');
        assert.equal((await deskMessages(desk)).length, 7, 'the greeting and six messages');

        // The agent opens a video room; the customer joins from the widget.
        await desk.getByRole('button', { name: 'Create video room' }).click();
        const dock = desk.locator('#room-dock');
        await dock.locator('.room-tile[data-local][data-video="on"]').waitFor();
        await vera.widget.getByText('Alice Agent opened a video room.').waitFor();
        await vera.widget.getByRole('button', { name: 'Open co-browsing' }).click();
        const room = vera.widget.locator('#parley-room .room');
        await room.locator('.room-tile[data-local][data-video="on"]').waitFor();
        await desk.locator('#transcript .system', { hasText: 'Vera Nodes joined the video room' }).waitFor();

        // Each sees the other, decoded, and the media came from node C.
        await waitForText(dock.locator('.room-tile-camera:not([data-local]) .room-name'), 'Vera Nodes', MEDIA_TIMEOUT);
        await waitForText(room.locator('.room-tile-camera:not([data-local]) .room-name'), 'Alice Agent', MEDIA_TIMEOUT);
        await Promise.all([videoFlows(desk, 'the agent'), videoFlows(vera.frame(), 'the customer')]);
        const cPorts = [cMedia.udp, cMedia.tcp];
        for (const [who, where] of /** @type {const} */ ([['the agent', desk], ['the customer', vera.frame()]])) {
          const remote = await remotePorts(where);
          assert.ok(remote.length > 0 && remote.every((p) => cPorts.includes(p)),
            `${who}'s media goes to node C's SFU (ports ${cPorts}), not ${remote}`);
        }

        // Chat still flows beside the video.
        await typeAndEnter(input, 'Customer during video');
        await desk.locator('#transcript .msg-customer .msg-text', { hasText: 'Customer during video' }).waitFor();
      } finally {
        await done(alice, vera);
      }
    }));

  test("the room's node is killed: both pages join the room again on the other media node, and the video comes back", () =>
    explain(nodes, async () => {
      const [a, b] = nodes.nodes;
      const alice = await personOn(b.url);
      await openDesk(alice, 'alice');
      const vera = await startDemoChat(await personOn(a.url), 'Vera Moved');
      const desk = alice.page;
      try {
        await accept(desk, 'Vera Moved');
        await vera.widget.getByText('Alice Agent joined the chat').waitFor();
        await desk.getByRole('button', { name: 'Create video room' }).click();
        const dock = desk.locator('#room-dock');
        await dock.locator('.room-tile[data-local][data-video="on"]').waitFor();
        await vera.widget.getByRole('button', { name: 'Open co-browsing' }).click();
        const room = vera.widget.locator('#parley-room .room');
        await room.locator('.room-tile[data-local][data-video="on"]').waitFor();
        await Promise.all([videoFlows(desk, 'the agent'), videoFlows(vera.frame(), 'the customer')]);

        // Which media node holds the room (C, unless the first test's room
        // still counts there), and kill it as a crash would.
        const ports = [[cMedia.udp, cMedia.tcp], [dMedia.udp, dMedia.tcp]];
        const on = (/** @type {number[]} */ remote, /** @type {number} */ i) =>
          remote.length > 0 && remote.every((p) => ports[i].includes(p));
        const before = await remotePorts(desk);
        const host = on(before, 0) ? 0 : on(before, 1) ? 1 : -1;
        assert.ok(host >= 0, `the room's media on node C or D, not at ports ${before}`);
        survivor = 1 - host;
        await nodes.nodes[2 + host].kill();

        // Both pages are told (within 10 s, by their own nodes), join the
        // same room again on the node that is left, and see each other.
        for (const [who, where] of /** @type {const} */ ([['the agent', desk], ['the customer', vera.frame()]])) {
          await waitUntil(async () => on(await remotePorts(where), survivor),
            `${who}'s media to move to the other media node (ports ${ports[survivor]})`, MEDIA_TIMEOUT);
        }
        await waitForText(dock.locator('.room-tile-camera:not([data-local]) .room-name'), 'Vera Moved', MEDIA_TIMEOUT);
        await waitForText(room.locator('.room-tile-camera:not([data-local]) .room-name'), 'Alice Agent', MEDIA_TIMEOUT);
        await Promise.all([videoFlows(desk, 'the agent'), videoFlows(vera.frame(), 'the customer')]);

        // The chat never depended on the room's node.
        await typeAndEnter(vera.widget.getByLabel('Message', { exact: true }), 'Still here after the move');
        await desk.locator('#transcript .msg-customer .msg-text', { hasText: 'Still here after the move' }).waitFor();
      } finally {
        await done(alice, vera);
      }
    }));

  test('the desk behind a load balancer: its node drains (SIGTERM), the desk goes on on another node, nothing lost', () =>
    explain(nodes, async () => {
      const [a, b] = nodes.nodes;
      // B and whichever media node is still alive.
      const c = nodes.nodes[2 + Math.max(survivor, 0)];
      const lb = await startBalancer([b.url, c.url]);
      const alice = await personOn(lb.url);
      const vera = await startDemoChat(await personOn(a.url), 'Dora Drain');
      const desk = alice.page;
      try {
        await openDesk(alice, 'bob');
        await accept(desk, 'Dora Drain');
        await vera.widget.getByText('Bob Agent joined the chat').waitFor();
        const compose = desk.getByPlaceholder('Write a reply…');
        const input = vera.widget.getByLabel('Message', { exact: true });
        await typeAndEnter(compose, 'Before the drain');
        await vera.widget.locator('#parley-transcript .msg-agent .bubble').getByText('Before the drain', { exact: true }).waitFor();

        // The node holding the desk's websocket leaves the balancer and drains.
        const [from, to] = await waitUntil(() => {
          if (lb.websockets(b.url) > 0 && lb.websockets(c.url) === 0) return [b, c];
          if (lb.websockets(c.url) > 0 && lb.websockets(b.url) === 0) return [c, b];
          return null;
        }, "the desk's websocket on one node");
        lb.remove(from.url);
        const drained = from.terminate();
        // The customer writes while the desk moves.
        await typeAndEnter(input, 'During the drain 1');
        await typeAndEnter(input, 'During the drain 2');
        await drained;

        await waitUntil(() => lb.websockets(to.url) > 0, 'the desk connected to the other node', TIMEOUT);
        await waitForText(desk.locator('#conn-state'), 'Connected');
        await typeAndEnter(compose, 'After the drain');
        await typeAndEnter(input, 'After the drain, customer');
        await desk.locator('#transcript .msg-customer .msg-text', { hasText: 'After the drain, customer' }).waitFor();
        await vera.widget.locator('#parley-transcript .msg-agent .bubble').getByText('After the drain', { exact: true }).waitFor();
        await desk.locator('#transcript .msg.pending').first().waitFor({ state: 'detached' });

        const shown = await deskMessages(desk);
        for (const text of ['Before the drain', 'During the drain 1', 'During the drain 2', 'After the drain', 'After the drain, customer']) {
          assert.equal(shown.filter((t) => t === text).length, 1, `${JSON.stringify(text)} once in the desk`);
        }
        assert.deepEqual(shown, await widgetMessages(vera.widget), 'the same messages in the same order on both sides');
        const seqs = await deskSeqs(desk);
        assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event once, in seq order, without gaps');
      } finally {
        await done(alice, vera);
        await lb.stop();
      }
    }));
});


/**
 * The remote ports of the selected ICE candidate pairs of the page's
 * rooms' connections (the server's side of the media).
 * @param {import('playwright-core').Page | import('playwright-core').Frame} where
 * @returns {Promise<number[]>}
 */
function remotePorts(where) {
  return where.evaluate(async () => {
    const rooms = /** @type {any} */ (window).__parleyRooms;
    /** @type {number[]} */
    const out = [];
    for (const room of rooms ?? []) {
      for (const pc of [room.up, room.down]) {
        if (!pc) continue;
        const stats = await pc.getStats();
        /** @type {Map<string, any>} */
        const byId = new Map();
        stats.forEach((/** @type {any} */ s) => byId.set(s.id, s));
        stats.forEach((/** @type {any} */ s) => {
          if (s.type === 'transport' && s.selectedCandidatePairId) {
            const pair = byId.get(s.selectedCandidatePairId);
            const remote = pair && byId.get(pair.remoteCandidateId);
            if (remote) out.push(remote.port);
          }
        });
      }
    }
    return out;
  });
}
