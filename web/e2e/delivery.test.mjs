// The delivery module (web/static/lib/delivery.js) in Chromium, as the
// server serves it: events in seq order exactly once, with and without
// holding gaps, and the outbox that resends by client_id, keeps what is
// not acknowledged across a reload, and gives back what failed. The widget
// and desk tests check it against the real server.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServerAndBrowser } from './harness.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('playwright-core').Page} */
let page;

before(async () => {
  [server, browser] = await startServerAndBrowser();
  const context = await browser.newContext({ baseURL: server.url });
  page = await context.newPage();
  await page.goto('/login');
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

describe('delivery', () => {
  test('events are shown in seq order, each once', async () => {
    const cases = [
      { name: 'in order', holdGaps: false, seqs: [1, 2, 3], shown: [1, 2, 3], gaps: [] },
      { name: 'seen again (answer and live both)', holdGaps: false, seqs: [1, 2, 2, 1, 3, 3], shown: [1, 2, 3], gaps: [] },
      { name: 'past a gap, not held: shown at once', holdGaps: false, seqs: [1, 3, 2, 4], shown: [1, 3, 4], gaps: [] },
      { name: 'past a gap, held until it fills', holdGaps: true, seqs: [1, 3, 4, 2, 5], shown: [1, 2, 3, 4, 5], gaps: [3, 4] },
      { name: 'held and then seen again', holdGaps: true, seqs: [1, 3, 3, 2, 3, 4], shown: [1, 2, 3, 4], gaps: [3, 3] },
      { name: 'a resume answer from 0 after live events', holdGaps: true, seqs: [2, 3, 1, 2, 3], shown: [1, 2, 3], gaps: [2, 3] },
    ];
    const got = await page.evaluate(async (cases) => {
      const { Delivery } = await import('/static/lib/delivery.js');
      const { storageOf } = await import('/static/lib/util.js');
      return cases.map((c) => {
        const d = new Delivery({ store: storageOf('sessionStorage'), key: `t.events.${c.name}`, parse: (x) => x, holdGaps: c.holdGaps });
        /** @type {number[]} */
        const shown = [];
        /** @type {number[]} */
        const gaps = [];
        for (const seq of c.seqs) {
          const ev = { conversation_id: 1, seq, kind: 'message', author: { kind: 'agent', name: 'A' }, time: '' };
          if (!d.apply(ev)) {
            if (seq > d.highest) gaps.push(seq);
            continue;
          }
          shown.push(ev.seq);
          for (let next = d.next(); next; next = d.next()) shown.push(next.seq);
        }
        const highest = d.highest;
        d.reset();
        return { shown, gaps, highest, afterReset: d.highest };
      });
    }, cases);
    cases.forEach((c, i) => {
      assert.deepEqual(got[i].shown, c.shown, `${c.name}: shown`);
      assert.deepEqual(got[i].gaps, c.gaps, `${c.name}: held past a gap`);
      assert.equal(got[i].highest, Math.max(...c.shown), `${c.name}: highest`);
      assert.equal(got[i].afterReset, 0, `${c.name}: reset`);
    });
  });

  test('a send that fails is kept, retried or given back, by its code', async () => {
    const cases = [
      { code: 'disconnected', retryInternal: false, want: 'kept' },
      { code: 'timeout', retryInternal: false, want: 'retried' },
      { code: 'unavailable', retryInternal: false, want: 'retried' },
      { code: 'rate_limited', retryInternal: false, want: 'retried' },
      { code: 'internal', retryInternal: false, want: 'failed' },
      { code: 'internal', retryInternal: true, want: 'retried' },
      { code: 'conflict', retryInternal: true, want: 'failed' },
      { code: 'bad_request', retryInternal: false, want: 'failed' },
    ];
    const got = await page.evaluate(async (cases) => {
      const { Delivery, RETRY_CODES } = await import('/static/lib/delivery.js');
      const { ProtocolError } = await import('/static/lib/parley.js');
      const { storageOf } = await import('/static/lib/util.js');
      const store = storageOf('sessionStorage');
      return Promise.all(
        cases.map(
          (c, i) =>
            new Promise((resolve) => {
              const key = `t.codes.${i}`;
              const d = new Delivery({
                store,
                key,
                parse: (x) => x,
                retryCodes: c.retryInternal ? [...RETRY_CODES, 'internal'] : undefined,
              });
              d.add({ client_id: `m-${i}`, text: 'hello' });
              const outcome = (/** @type {string} */ what) =>
                resolve({ what, items: d.items.length, stored: store.get(key) !== null, sending: d.sending.size });
              d.resend({
                send: () => Promise.reject(new ProtocolError(c.code, 'no')),
                sent: () => outcome('sent'),
                failed: (_item, err) => outcome(`failed:${err.code}`),
                retry: () => outcome('retried'),
              });
              if (c.code === 'disconnected') setTimeout(() => outcome('kept'), 2500);
            }),
        ),
      );
    }, cases);
    cases.forEach((c, i) => {
      const g = got[i];
      const label = `${c.code}${c.retryInternal ? ' (internal retried)' : ''}`;
      if (c.want === 'failed') {
        assert.equal(g.what, `failed:${c.code}`, label);
        assert.equal(g.items, 0, `${label}: taken out`);
        assert.equal(g.stored, false, `${label}: not kept`);
      } else {
        assert.equal(g.what, c.want, label);
        assert.equal(g.items, 1, `${label}: still in the outbox`);
        assert.equal(g.stored, true, `${label}: still kept`);
      }
      assert.equal(g.sending, 0, `${label}: not on its way any more`);
    });
  });

  test('the outbox sends in order once, again after a reconnect, acknowledges by client_id and survives a reload', async () => {
    const got = await page.evaluate(async () => {
      const { Delivery } = await import('/static/lib/delivery.js');
      const { storageOf } = await import('/static/lib/util.js');
      const store = storageOf('sessionStorage');
      const key = 't.outbox';
      /** @param {any} x */
      const parse = (x) => (typeof x.conversation_id === 'number' ? x : null);
      const d = new Delivery({ store, key, parse });
      d.add({ client_id: 'a', conversation_id: 1, text: 'one' });
      d.add({ client_id: 'b', conversation_id: 1, text: 'two' });
      d.add({ client_id: 'c', conversation_id: 2, text: 'other chat' });
      /** @type {string[]} */
      const sends = [];
      /** @type {Map<string, (ack: {seq: number, time: string}) => void>} */
      const answers = new Map();
      const o = {
        send: (/** @type {any} */ item) => {
          sends.push(item.client_id);
          return new Promise((resolve) => answers.set(item.client_id, resolve));
        },
        /** @type {string[]} */ sentLog: [],
        sent: (/** @type {any} */ item, /** @type {any} */ ack) => o.sentLog.push(`${item.client_id}@${ack.seq}`),
        failed: () => {},
        retry: () => {},
      };
      const only1 = (/** @type {any} */ x) => x.conversation_id === 1;
      d.resend(o, only1);
      d.resend(o, only1); // on their way: not sent twice
      const first = [...sends];
      d.offline(); // the connection dropped: all goes again
      d.resend(o, only1);
      const again = [...sends];
      // Stored, as a reload finds it (and an entry that is not a message is dropped).
      store.set(key, JSON.stringify([...JSON.parse(store.get(key) ?? '[]'), { client_id: 'x' }, { text: 'no id' }, 7]));
      const reloaded = new Delivery({ store, key, parse }).items.map((x) => x.client_id);
      answers.get('a')?.({ seq: 4, time: '' });
      await new Promise((r) => setTimeout(r, 0));
      d.ack('b'); // its event came first
      const left = d.items.map((x) => x.client_id);
      const failed = d.failAll(only1).map((x) => x.client_id);
      d.keepOnly(only1);
      const kept = d.items.length;
      return { first, again, reloaded, sentLog: o.sentLog, left, failed, kept, stored: store.get(key) };
    });
    assert.deepEqual(got.first, ['a', 'b'], 'oldest first, only the chat asked for, once');
    assert.deepEqual(got.again, ['a', 'b', 'a', 'b'], 'all of it again after a reconnect');
    assert.deepEqual(got.reloaded, ['a', 'b', 'c'], 'kept across a reload, what is not a message dropped');
    assert.deepEqual(got.sentLog, ['a@4'], 'the answer acknowledges it');
    assert.deepEqual(got.left, ['c'], 'acknowledged by client_id');
    assert.deepEqual(got.failed, [], 'nothing of chat 1 is left to fail');
    assert.equal(got.kept, 0, 'keepOnly drops the other chats');
    assert.equal(got.stored, null, 'an empty outbox is not kept');
  });

  test('the end of a chat gives back what it still holds, as failed', async () => {
    const got = await page.evaluate(async () => {
      const { Delivery } = await import('/static/lib/delivery.js');
      const { storageOf } = await import('/static/lib/util.js');
      const store = storageOf('sessionStorage');
      const d = new Delivery({ store, key: 't.fail', parse: (x) => x });
      d.add({ client_id: 'a', text: 'one' });
      d.add({ client_id: 'b', text: 'two' });
      const failed = d.failAll().map((x) => x.client_id);
      return { failed, items: d.items.length, stored: store.get('t.fail') };
    });
    assert.deepEqual(got.failed, ['a', 'b']);
    assert.equal(got.items, 0);
    assert.equal(got.stored, null);
  });
});
