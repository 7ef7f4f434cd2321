// @ts-check
// The one client of Parley's wire protocol (docs/protocol.md), used by
// every page. Plain ES module, no build step; checked by tsc --checkJs.

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * @typedef {{code: string, message: string}} WireError
 * @typedef {{type: string, id?: string, re?: string, data?: any, error?: WireError}} Envelope
 * @typedef {{kind: string, id: string, name: string, role: string}} Principal
 * @typedef {{version: number, server: string, connection: string, principal: Principal}} Hello
 * @typedef {'connecting' | 'open' | 'closed' | 'reconnecting'} State
 * @typedef {(data: any, envelope: Envelope) => void} EventHandler
 *
 * @typedef {object} Options
 * @property {string} [url] websocket URL; default ws(s)://<this host>/ws
 * @property {string} [token] credential sent as ?token= (pages signed in
 *   with the session cookie leave it out)
 * @property {string} [client] free text for the server's logs, e.g. "desk/1"
 * @property {number} [timeoutMs] default time a request waits for its answer
 *
 * @typedef {object} Pending
 * @property {(data: any) => void} resolve
 * @property {(err: ProtocolError) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 */

/** An error answer, a timeout (code "timeout") or a lost socket ("disconnected"). */
export class ProtocolError extends Error {
  /**
   * @param {string} code stable, for programs (docs/protocol.md, Errors)
   * @param {string} message for people
   */
  constructor(code, message) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30000;

/**
 * One websocket to Parley. It says session.hello on every (re)connect and
 * reconnects by itself, with backoff and jitter, until close() is called.
 *
 * Callbacks, all optional:
 *   onstate(state)       'connecting' → 'open' → 'reconnecting' → … → 'closed'
 *   onhello(data)        after each successful session.hello (again after every
 *                        reconnect: anything subscribed must be subscribed again)
 *   onclose(code, reason) each time the socket closes, whatever the cause
 */
export class Connection {
  /** @param {Options} [options] */
  constructor(options = {}) {
    const url = new URL(options.url ?? defaultURL());
    if (options.token) url.searchParams.set('token', options.token);
    this.url = url.toString();
    this.client = options.client ?? 'web';
    this.timeoutMs = options.timeoutMs ?? 10000;

    /** @type {State} */
    this.state = 'closed';
    /** @type {Hello | null} the last hello ack */
    this.hello = null;

    /** @type {((state: State) => void) | null} */
    this.onstate = null;
    /** @type {((data: Hello) => void) | null} */
    this.onhello = null;
    /** @type {((code: number, reason: string) => void) | null} */
    this.onclose = null;

    /** @type {WebSocket | null} */
    this.ws = null;
    this.ready = false; // the current socket's hello was acknowledged
    /** @type {((err: ProtocolError) => void) | null} fails the attempt in progress */
    this.failAttempt = null;
    this.stopped = true;
    this.nextID = 0;
    this.attempt = 0;
    /** @type {number | null} retry delay the server asked for in session.closing */
    this.retryMs = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    /** @type {Map<string, Pending>} */
    this.pending = new Map();
    /** @type {Map<string, Set<EventHandler>>} */
    this.handlers = new Map();
  }

  /**
   * Opens the socket and says hello. Resolves with the first hello's ack
   * data. Rejects when the first attempt fails: with the server's error if
   * it refused the hello (the connection is then closed), or with
   * "disconnected" or "timeout" (it then keeps reconnecting in the
   * background and onhello reports success; close() stops it).
   * @returns {Promise<Hello>}
   */
  connect() {
    if (!this.stopped) return Promise.reject(new ProtocolError('conflict', 'already connected'));
    this.stopped = false;
    this.attempt = 0;
    return this.open('connecting');
  }

  /**
   * Sends a request and resolves with its ack's data.
   * @param {string} type e.g. "session.ping"
   * @param {object} [data]
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<any>}
   */
  request(type, data, { timeoutMs } = {}) {
    if (!this.ready) {
      return Promise.reject(new ProtocolError('disconnected', 'not connected to Parley'));
    }
    return this.send(type, data, timeoutMs ?? this.timeoutMs);
  }

  /**
   * Calls handler(data, envelope) for each server event of this type.
   * @param {string} type e.g. "session.closing"
   * @param {EventHandler} handler
   * @returns {() => void} unsubscribe
   */
  on(type, handler) {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(type) === set) this.handlers.delete(type);
    };
  }

  /** Closes the socket and stops reconnecting. */
  close() {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.ws;
    if (ws) {
      this.detach(ws);
      ws.close(1000, 'client closed');
      this.lost(1000, 'client closed');
    } else {
      this.setState('closed');
    }
  }

  /**
   * One attempt: a new socket, then session.hello on it.
   * @param {State} state 'connecting' or 'reconnecting'
   * @returns {Promise<Hello>}
   */
  open(state) {
    this.setState(state);
    this.ready = false;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => {
      this.detach(ws);
      this.lost(ev.code, ev.reason);
    };
    ws.onerror = () => {}; // a close event follows, and says more
    return new Promise((resolve, reject) => {
      this.failAttempt = reject; // lost() calls it if the socket goes first
      ws.onopen = () => {
        this.send('session.hello', { version: PROTOCOL_VERSION, client: this.client }, this.timeoutMs).then(
          (/** @type {Hello} */ hello) => {
            this.failAttempt = null;
            this.ready = true;
            this.attempt = 0;
            this.hello = hello;
            this.setState('open');
            this.onhello?.(hello);
            resolve(hello);
          },
          (/** @type {ProtocolError} */ err) => {
            if (this.ws !== ws) return; // lost() has failed this attempt already
            this.failAttempt = null;
            reject(err);
            // No answer: try again on a new socket. A refusal would only
            // be repeated: stop.
            if (err.code === 'timeout') ws.close(4000, 'session.hello timed out');
            else this.close();
          },
        );
      };
    });
  }

  /**
   * @param {string} type
   * @param {object | undefined} data
   * @param {number} timeoutMs
   * @returns {Promise<any>}
   */
  send(type, data, timeoutMs) {
    const id = `r-${++this.nextID}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError('timeout', `${type} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      /** @type {Envelope} */
      const env = { type, id };
      if (data !== undefined) env.data = data;
      this.ws?.send(JSON.stringify(env));
    });
  }

  /** @param {unknown} frame */
  receive(frame) {
    /** @type {Envelope} */
    let env;
    try {
      env = JSON.parse(String(frame));
    } catch {
      return; // the server only sends JSON; ignore anything else
    }
    if (!env || typeof env.type !== 'string') return;
    if ((env.type === 'ack' || env.type === 'error') && env.re && this.pending.has(env.re)) {
      const p = /** @type {Pending} */ (this.pending.get(env.re));
      this.pending.delete(env.re);
      clearTimeout(p.timer);
      if (env.type === 'ack') p.resolve(env.data ?? {});
      else p.reject(new ProtocolError(env.error?.code ?? 'internal', env.error?.message ?? 'unknown error'));
      return;
    }
    if (env.type === 'session.closing') {
      const ms = Number(env.data?.retry_ms);
      if (ms > 0) this.retryMs = ms;
    }
    for (const handler of [...(this.handlers.get(env.type) ?? [])]) {
      try {
        handler(env.data ?? {}, env);
      } catch (err) {
        console.error(`parley: handler for ${env.type} failed`, err);
      }
    }
  }

  /** @param {WebSocket} ws */
  detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (this.ws === ws) this.ws = null;
  }

  /**
   * The socket is gone: fail what waits on it, then reconnect unless stopped.
   * @param {number} code
   * @param {string} reason
   */
  lost(code, reason) {
    this.ready = false;
    const lostErr = () => new ProtocolError('disconnected', reason || `connection closed (${code})`);
    this.failAttempt?.(lostErr());
    this.failAttempt = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(lostErr());
    }
    this.onclose?.(code, reason);
    if (this.stopped) {
      this.setState('closed');
      return;
    }
    this.setState('reconnecting');
    const delay = this.retryMs ?? Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.retryMs = null;
    this.attempt++;
    // Up to +50 % jitter, so a restarted server is not hit by everyone at once.
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        this.open('reconnecting').catch(() => {});
      },
      delay * (1 + Math.random() * 0.5),
    );
  }

  /** @param {State} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onstate?.(state);
  }
}

function defaultURL() {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}
