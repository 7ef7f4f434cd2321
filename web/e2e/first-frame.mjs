// A measurement, not a test (docs/benchmarks.md, "First picture and media
// capacity"): join → first frame of the remote camera in Chromium against
// the server at PARLEY_BIN. Alice creates a conference room and publishes
// her (fake) camera; N guests (default 10), one after another, open the
// room link, give a name and click Join. Each guest's page times from the
// click to the first frame its <video> of Alice's camera presents
// (requestVideoFrameCallback), and prints where the time went: each step
// below in ms after the click, then the p50 and p95 of each over the
// guests. Each guest waits PAUSE_MS (default 1000) between typing its
// name and clicking, as a person would; a page that gets its token and
// socket meanwhile has no pass, ws or hello after the click.
//
//   pass      the guest token (POST /api/conference/guest) answered
//   ws        the websocket open; hello its session.hello answered
//   join      room.join sent; joined its ack
//   gum       getUserMedia asked; gumDone it answered (the guest's own camera)
//   offerDown the server's rtc.offer (the down connection) arrived;
//   remote    its setRemoteDescription done; made its createAnswer done;
//   local     its setLocalDescription done;
//   answer    rtc.answer sent
//   offerUp   the guest's rtc.offer request (publishing) sent; upAck its answer
//   checking  the down connection's ICE "checking"; iceUp ICE "connected";
//   dtls      its connectionState "connected" (DTLS done)
//   track     the down connection's video track event
//   rtp       the first video packet (inbound-rtp packetsReceived > 0,
//             getStats polled every 5 ms); decoded framesDecoded > 0
//   shown     the <video> of Alice has its stream and is laid out (not
//             display: none), polled every animation frame
//   frame     the first frame it presented (requestVideoFrameCallback)
//
//   cd web/e2e && PARLEY_BIN=$PWD/../../bin/parley node first-frame.mjs
import { startServerAndBrowser, waitForText } from './harness.mjs';

const N = Number(process.env.N ?? 10);
const PAUSE_MS = Number(process.env.PAUSE_MS ?? 1000);
const STEPS = ['pass', 'ws', 'hello', 'join', 'joined', 'gum', 'gumDone', 'offerDown', 'remote', 'made', 'local', 'answer', 'offerUp', 'upAck', 'checking', 'iceUp', 'dtls', 'track', 'rtp', 'decoded', 'shown', 'frame'];
const [server, browser] = await startServerAndBrowser();
/** @type {Record<string, number>[]} */
const runs = [];
try {
  const alice = await browser.newContext({ baseURL: server.url, permissions: ['camera', 'microphone'] });
  const res = await alice.request.post('/api/login', { data: { username: 'alice', password: 'demo' } });
  if (res.status() !== 200) throw new Error('alice signs in');
  const ap = await alice.newPage();
  await ap.goto('/external/conference');
  await ap.getByLabel('Room name').fill('Probe');
  await ap.getByRole('button', { name: 'Create room' }).click();
  const shown = ap.locator('#room-number');
  await shown.and(ap.locator(':visible')).waitFor({ timeout: 30000 });
  const number = (await shown.innerText()).replace(/\D/g, '');
  for (let i = 0; i < N; i++) {
    const g = await browser.newContext({ baseURL: server.url, permissions: ['camera', 'microphone'] });
    await g.addInitScript(() => {
      const w = /** @type {any} */ (globalThis);
      /** @type {Record<string, number>} */
      const m = (w.__marks = {});
      const mark = (/** @type {string} */ k) => {
        if (w.__t0 !== undefined && m[k] === undefined) m[k] = performance.now() - w.__t0;
      };
      w.__mark = mark;
      document.addEventListener('click', (e) => {
        const b = /** @type {HTMLElement} */ (e.target).closest?.('button');
        if (b && b.textContent?.trim() === 'Join') w.__t0 = performance.now();
      }, true);

      const fetch0 = w.fetch;
      w.fetch = async (/** @type {any[]} */ ...a) => {
        const r = await fetch0(...a);
        if (String(a[0]).includes('/api/conference/guest')) mark('pass');
        return r;
      };

      // The websocket: which request each ack answers, and when each kind
      // of frame first went out or came in.
      const WS = w.WebSocket;
      w.WebSocket = class extends WS {
        constructor(/** @type {any[]} */ ...a) {
          super(...a);
          /** @type {Map<string, string>} */
          const sent = new Map();
          this.addEventListener('open', () => mark('ws'));
          const send = this.send.bind(this);
          this.send = (/** @type {any} */ frame) => {
            try {
              const env = JSON.parse(String(frame));
              if (env.id) sent.set(env.id, env.type);
              if (env.type === 'room.join') mark('join');
              if (env.type === 'rtc.answer') mark('answer');
              if (env.type === 'rtc.offer') mark('offerUp');
            } catch { /* not ours */ }
            send(frame);
          };
          this.addEventListener('message', (/** @type {MessageEvent} */ ev) => {
            let env;
            try { env = JSON.parse(String(ev.data)); } catch { return; }
            const req = env.re ? sent.get(env.re) : undefined;
            if (req === 'session.hello') mark('hello');
            if (req === 'room.join') mark('joined');
            if (req === 'rtc.offer') mark('upAck');
            if (env.type === 'rtc.offer') mark('offerDown');
          });
        }
      };

      const md = navigator.mediaDevices;
      const gum = md.getUserMedia.bind(md);
      md.getUserMedia = async (/** @type {any} */ c) => {
        mark('gum');
        const s = await gum(c);
        mark('gumDone');
        return s;
      };

      const PC = w.RTCPeerConnection;
      w.RTCPeerConnection = class extends PC {
        constructor(/** @type {any[]} */ ...a) {
          super(...a);
          let down = false;
          // The down connection is the one the server offers.
          const srd = this.setRemoteDescription.bind(this);
          this.setRemoteDescription = async (/** @type {any} */ d) => {
            await srd(d);
            if (d?.type === 'offer') mark('remote');
          };
          const ca = this.createAnswer.bind(this);
          this.createAnswer = async (/** @type {any} */ o) => {
            const r = await ca(o);
            mark('made');
            return r;
          };
          const sld = this.setLocalDescription.bind(this);
          this.setLocalDescription = async (/** @type {any} */ d) => {
            await sld(d);
            if (d?.type === 'answer') mark('local');
          };
          this.addEventListener('track', (/** @type {RTCTrackEvent} */ e) => {
            if (e.track.kind !== 'video') return;
            down = true;
            mark('track');
            const poll = async () => {
              if (this.connectionState === 'closed' || (m.rtp !== undefined && m.decoded !== undefined)) return;
              const stats = await this.getStats();
              stats.forEach((s) => {
                if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
                if (s.packetsReceived > 0) mark('rtp');
                if (s.framesDecoded > 0) mark('decoded');
              });
              setTimeout(poll, 5);
            };
            void poll();
          });
          // The down connection is the one that gets tracks: its events
          // count. Its states can change before its first track event, so
          // they are kept per connection and copied once it is known.
          /** @type {Record<string, number>} */
          const own = {};
          const at = (/** @type {string} */ k) => {
            if (w.__t0 !== undefined && own[k] === undefined) own[k] = performance.now() - w.__t0;
            if (down) Object.assign(m, { ...own, ...m });
          };
          this.addEventListener('iceconnectionstatechange', () => {
            if (this.iceConnectionState === 'checking') at('checking');
            if (this.iceConnectionState === 'connected') at('iceUp');
          });
          this.addEventListener('connectionstatechange', () => {
            if (this.connectionState === 'connected') at('dtls');
          });
          this.addEventListener('track', () => at('_'));
        }
      };

      const watch = (/** @type {HTMLVideoElement} */ v) => {
        const alice = () => v.closest('.room-tile-camera')?.querySelector('.room-name')?.textContent === 'Alice Agent';
        const cb = () => {
          if (alice()) { mark('frame'); return; }
          v.requestVideoFrameCallback(cb);
        };
        v.requestVideoFrameCallback(cb);
        const look = () => {
          if (m.shown !== undefined || !v.isConnected && m.frame !== undefined) return;
          if (alice() && v.srcObject && v.getClientRects().length > 0) mark('shown');
          requestAnimationFrame(look);
        };
        requestAnimationFrame(look);
      };
      new MutationObserver((muts) => {
        for (const n of muts.flatMap((x) => [...x.addedNodes])) {
          if (n instanceof HTMLVideoElement) watch(n);
          else if (n instanceof Element) n.querySelectorAll('video').forEach(watch);
        }
      }).observe(document, { childList: true, subtree: true });
    });
    const p = await g.newPage();
    await p.goto(`/external/conference/#${number}`);
    await waitForText(p.locator('#guest-room-name'), 'Probe');
    await p.locator('#guest').getByLabel('Your name').fill(`Guest ${i}`);
    // A person takes a moment between typing their name and clicking Join;
    // the same for every build measured, so a page may use it (or not).
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    await p.locator('#guest').getByRole('button', { name: 'Join', exact: true }).click();
    await p.waitForFunction(() => /** @type {any} */ (globalThis).__marks.frame !== undefined, null, { timeout: 30000 });
    const marks = await p.evaluate(() => /** @type {any} */ (globalThis).__marks);
    delete marks._;
    runs.push(marks);
    const order = Object.entries(marks).sort((a, b) => a[1] - b[1]);
    console.log(`guest ${i}: ${marks.frame.toFixed(0)} ms: ${order.map(([k, t]) => `${k} ${t.toFixed(0)}`).join(', ')}`);
    await g.close();
  }
} finally {
  await Promise.all([browser.close(), server.stop()]);
}
/** @param {number[]} xs @param {number} q */
const pct = (xs, q) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
};
console.log('step (ms after the click): p50 p95');
for (const k of STEPS) {
  const xs = runs.map((r) => r[k]).filter((x) => x !== undefined);
  if (xs.length) console.log(`  ${k.padEnd(10)} ${pct(xs, 0.5).toFixed(0).padStart(5)} ${pct(xs, 0.95).toFixed(0).padStart(5)}  (n=${xs.length})`);
}
const times = runs.map((r) => r.frame);
console.log(`${process.env.PARLEY_BIN}: n=${times.length} p50 ${pct(times, 0.5).toFixed(0)} ms p95 ${pct(times, 0.95).toFixed(0)} ms max ${Math.max(...times).toFixed(0)} ms; all ${times.map((t) => t.toFixed(0)).join(' ')}`);
