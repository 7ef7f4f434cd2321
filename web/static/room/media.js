// @ts-check
// What room.js needs to know of WebRTC in a browser, apart from the
// protocol: the simulcast layers it sends, which received m-line is whose
// (a=msid), the codecs the SFU forwards, and what to tell a person when a
// device cannot be used. Pure functions and constants.

/** Simulcast layers, low to high (docs/protocol.md, rtc.offer). */
export const SIMULCAST = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];
/** A camera with fewer lines than this sends one encoding. */
export const SIMULCAST_MIN_HEIGHT = 340;

/**
 * a=msid of each m-line that sends, by its mid.
 * @param {string} sdp
 * @returns {Map<string, {stream: string, track: string}>}
 */
export function msidByMid(sdp) {
  /** @type {Map<string, {stream: string, track: string}>} */
  const out = new Map();
  for (const section of sdp.split(/\r?\n(?=m=)/).slice(1)) {
    if (/^m=\S+ 0 /.test(section)) continue; // rejected
    if (/^a=(inactive|recvonly)\s*$/m.test(section)) continue;
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    const msid = /^a=msid:(\S+) (\S+)/m.exec(section);
    if (mid && msid) out.set(mid, { stream: msid[1], track: msid[2] });
  }
  return out;
}

/**
 * Puts the codecs the SFU forwards first (VP8 for video, Opus for audio),
 * where the browser lets a page choose.
 * @param {RTCRtpTransceiver} transceiver
 * @param {string} kind
 */
export function preferCodecs(transceiver, kind) {
  if (typeof transceiver.setCodecPreferences !== 'function' || typeof RTCRtpSender.getCapabilities !== 'function') return;
  const caps = RTCRtpSender.getCapabilities(kind)?.codecs;
  if (!caps) return;
  const first = kind === 'video' ? 'video/vp8' : 'audio/opus';
  const sorted = [...caps.filter((c) => c.mimeType.toLowerCase() === first), ...caps.filter((c) => c.mimeType.toLowerCase() !== first)];
  try {
    transceiver.setCodecPreferences(sorted);
  } catch {
    // the browser's own order then
  }
}

/**
 * What to tell a person about a device that could not be used.
 * @param {unknown} err
 */
export function deviceText(err) {
  if (err instanceof DOMException) {
    switch (err.name) {
      case 'NotAllowedError':
        return 'the browser was not allowed to use it.';
      case 'NotFoundError':
        return 'there is none.';
      case 'NotReadableError':
        return 'another program is using it.';
      default:
        return err.message || err.name;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
