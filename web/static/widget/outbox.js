// @ts-check
// The widget's outbox: the customer's messages that the server has not
// acknowledged yet, oldest first, kept in sessionStorage so that a reload
// keeps them. Each is sent again with its client_id until it is stored;
// the server stores a client_id once (docs/protocol.md, chat.send).

/**
 * @typedef {{client_id: string, conversation_id: number, text: string}} Outgoing
 * @typedef {import('../lib/util.js').Store} Store
 */

export class Outbox {
  /**
   * @param {Store} store
   * @param {string} key the storage key, e.g. parley.outbox.demo
   */
  constructor(store, key) {
    this.store = store;
    this.key = key;
    /** @type {Outgoing[]} */
    this.items = load(store, key);
    /** @type {Set<string>} client_ids whose chat.send awaits its answer */
    this.sending = new Set();
  }

  /** @param {Outgoing} item */
  add(item) {
    this.items.push(item);
    this.save();
  }

  /**
   * Takes a message out: it is stored, or never will be.
   * @param {string} clientId
   */
  drop(clientId) {
    const n = this.items.length;
    this.items = this.items.filter((x) => x.client_id !== clientId);
    if (this.items.length !== n) this.save();
  }

  /**
   * The messages of one conversation, in order.
   * @param {number} conversationId
   */
  of(conversationId) {
    return this.items.filter((x) => x.conversation_id === conversationId);
  }

  /**
   * Takes out every message of a conversation and returns them.
   * @param {number} conversationId
   */
  dropConversation(conversationId) {
    const gone = this.of(conversationId);
    if (gone.length) {
      this.items = this.items.filter((x) => x.conversation_id !== conversationId);
      this.save();
    }
    return gone;
  }

  /**
   * Keeps only the messages of one conversation (the one on screen; the
   * others belong to chats that are over).
   * @param {number} conversationId
   */
  keepOnly(conversationId) {
    const n = this.items.length;
    this.items = this.of(conversationId);
    if (this.items.length !== n) this.save();
  }

  save() {
    if (this.items.length) this.store.set(this.key, JSON.stringify(this.items));
    else this.store.remove(this.key);
  }
}

/**
 * @param {Store} store
 * @param {string} key
 * @returns {Outgoing[]}
 */
function load(store, key) {
  try {
    const v = JSON.parse(store.get(key) ?? '[]');
    if (!Array.isArray(v)) return [];
    return v.filter(
      (x) =>
        x &&
        typeof x.client_id === 'string' &&
        typeof x.text === 'string' &&
        typeof x.conversation_id === 'number',
    );
  } catch {
    return [];
  }
}
