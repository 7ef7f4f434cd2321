// @ts-check
// One conversation's delivery, as docs/protocol.md asks of a client:
// events shown in seq order, each exactly once, and an outbox of the
// person's own messages that the server has not acknowledged yet.
//
// Events: the highest seq shown is kept; an event at or below it has been
// shown and is dropped. An event further on than the next one either waits
// until the gap below it is filled (holdGaps: the page then asks
// chat.resume with after_seq = highest) or is shown at once. The seq is
// whatever numbering the reader gets: staff count every event, a customer
// its own gap-free sequence of the events it may see.
//
// Outbox: a message is added with its client_id and kept in storage
// (sessionStorage, so a reload keeps it) until its chat.send is answered.
// After every reconnect or resume, everything unacknowledged goes again, in
// order, with the same client_id, which the server stores only once. A
// refusal that will not change (the chat ended, bad_request…) takes a
// message out as failed, for the page to show.

/**
 * @typedef {import('./types.js').ChatEvent} ChatEvent
 * @typedef {import('./util.js').Store} Store
 * @typedef {{client_id: string, text: string}} Message what every outgoing message has
 */

/** How long a send that can succeed later waits before it is tried again. */
export const RETRY_SEND_MS = 2000;

/** The codes after which a chat.send is tried again, unless told otherwise. */
export const RETRY_CODES = ['timeout', 'unavailable', 'rate_limited'];

/**
 * @template {Message} T
 */
export class Delivery {
  /**
   * @param {object} o
   * @param {Store} o.store where the outbox is kept (sessionStorage)
   * @param {string} o.key its storage key
   * @param {(x: any) => T | null} o.parse one stored message, checked; null drops it
   * @param {boolean} [o.holdGaps] hold an event past a gap until the gap is filled
   * @param {string[]} [o.retryCodes] error codes after which a send is tried again (RETRY_CODES)
   */
  constructor(o) {
    this.store = o.store;
    this.key = o.key;
    this.holdGaps = o.holdGaps === true;
    this.retryCodes = new Set(o.retryCodes ?? RETRY_CODES);

    /** the highest seq shown */
    this.highest = 0;
    /** @type {Map<number, ChatEvent>} events past a gap, waiting for it to fill (holdGaps) */
    this.held = new Map();

    /** @type {T[]} messages not acknowledged yet, oldest first */
    this.items = load(o.store, o.key, o.parse);
    /** @type {Set<string>} client_ids whose chat.send awaits its answer */
    this.sending = new Set();
  }

  // ---------------------------------------------------------------- events

  /**
   * Takes an event: true when it is new and in order, and so is shown now
   * (highest becomes its seq). False when it was shown already (its seq is
   * at or below highest), or when it waits for a gap below it to fill (its
   * seq is then above highest: the page asks chat.resume); after each true,
   * next() gives the held events that now follow.
   * @param {ChatEvent} ev
   */
  apply(ev) {
    if (!(ev.seq > this.highest)) return false;
    if (this.holdGaps && ev.seq > this.highest + 1) {
      this.held.set(ev.seq, ev);
      return false;
    }
    this.highest = ev.seq;
    return true;
  }

  /**
   * The held event that follows the highest shown, now in order (highest
   * becomes its seq), or null; held events already passed are dropped.
   * @returns {ChatEvent | null}
   */
  next() {
    const ev = this.held.get(this.highest + 1);
    if (ev) {
      this.held.delete(ev.seq);
      this.highest = ev.seq;
      return ev;
    }
    for (const seq of this.held.keys()) if (seq <= this.highest) this.held.delete(seq);
    return null;
  }

  /** Starts over, for another conversation: nothing is shown. */
  reset() {
    this.highest = 0;
    this.held.clear();
  }

  // ---------------------------------------------------------------- outbox

  /**
   * Adds a new message; it waits until acknowledged.
   * @param {T} item
   */
  add(item) {
    this.items.push(item);
    this.save();
  }

  /**
   * The message is stored (its chat.send answer, or its event): takes it out.
   * @param {string} clientId
   */
  ack(clientId) {
    const n = this.items.length;
    this.items = this.items.filter((x) => x.client_id !== clientId);
    if (this.items.length !== n) this.save();
  }

  /** The connection dropped: nothing is on its way any more; resend() sends it all again. */
  offline() {
    this.sending.clear();
  }

  /**
   * Sends, oldest first, every message (of those `which` admits) that is not
   * on its way already. Call it once the conversation is resumed on the
   * connection, so that a message written meanwhile cannot overtake older
   * ones, and again after every reconnect or resume.
   * @param {object} o
   * @param {(item: T) => Promise<{seq: number, time: string}>} o.send makes the chat.send request
   * @param {(item: T, ack: {seq: number, time: string}) => void} o.sent it is stored: show it as sent
   * @param {(item: T, err: import('./parley.js').ProtocolError) => void} o.failed it never will be: show why
   * @param {() => void} o.retry called RETRY_SEND_MS after a send that can succeed later failed
   * @param {(item: T) => boolean} [which]
   */
  resend(o, which = () => true) {
    for (const item of this.items) {
      if (which(item) && !this.sending.has(item.client_id)) this.deliver(item, o);
    }
  }

  /**
   * @param {T} item
   * @param {Parameters<Delivery<T>['resend']>[0]} o
   */
  deliver(item, o) {
    const id = item.client_id;
    this.sending.add(id);
    o.send(item).then(
      (ack) => {
        this.sending.delete(id);
        this.ack(id);
        o.sent(item, ack);
      },
      (/** @type {import('./parley.js').ProtocolError} */ err) => {
        this.sending.delete(id);
        if (err.code === 'disconnected') return; // sent again after the next resume
        if (this.retryCodes.has(err.code)) {
          setTimeout(o.retry, RETRY_SEND_MS);
          return;
        }
        // conflict (the chat ended), bad_request…: it never will be stored.
        this.ack(id);
        o.failed(item, err);
      },
    );
  }

  /**
   * Takes out every message (of those `which` admits) and returns them:
   * they can no longer be stored (the chat ended), for the page to show as
   * failed.
   * @param {(item: T) => boolean} [which]
   * @returns {T[]}
   */
  failAll(which = () => true) {
    const gone = this.items.filter(which);
    if (gone.length) {
      this.items = this.items.filter((x) => !which(x));
      this.save();
    }
    return gone;
  }

  /**
   * Keeps only the messages `which` admits (the others belong to chats
   * that are over).
   * @param {(item: T) => boolean} which
   */
  keepOnly(which) {
    const n = this.items.length;
    this.items = this.items.filter(which);
    if (this.items.length !== n) this.save();
  }

  /** Forgets the stored outbox (the chat is dismissed). */
  forget() {
    this.store.remove(this.key);
  }

  save() {
    if (this.items.length) this.store.set(this.key, JSON.stringify(this.items));
    else this.store.remove(this.key);
  }
}

/**
 * @template T
 * @param {Store} store
 * @param {string} key
 * @param {(x: any) => T | null} parse
 * @returns {T[]}
 */
function load(store, key, parse) {
  try {
    const v = JSON.parse(store.get(key) ?? '[]');
    if (!Array.isArray(v)) return [];
    /** @type {T[]} */
    const items = [];
    for (const x of v) {
      const item = x && typeof x.client_id === 'string' && typeof x.text === 'string' ? parse(x) : null;
      if (item) items.push(item);
    }
    return items;
  } catch {
    return [];
  }
}
