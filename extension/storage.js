// Settings live in chrome.storage.local only: every page and the service worker read them
// afresh each time, so nothing depends on a worker staying alive.

export const ext = globalThis.browser ?? globalThis.chrome;

export const DEFAULT_SERVER_URL = "http://127.0.0.1:8765";
export const DEFAULT_POLL_MINUTES = 5;
// Chrome refuses alarms more often than every 30 s; a minute keeps the server idle most of the time.
export const MIN_POLL_MINUTES = 1;
// Beyond a day the badge would be too stale to be useful.
export const MAX_POLL_MINUTES = 24 * 60;

const DEFAULTS = { serverUrl: DEFAULT_SERVER_URL, token: "", pollMinutes: DEFAULT_POLL_MINUTES };

/** The settings, with defaults filled in: {serverUrl, token, pollMinutes}. */
export async function getSettings() {
  const stored = await ext.storage.local.get(Object.keys(DEFAULTS));
  return { ...DEFAULTS, ...stored };
}

export async function saveSettings(changes) {
  await ext.storage.local.set(changes);
}

/**
 * Turn what the user typed into the server's base URL, or throw an Error whose message says why.
 * Only http://127.0.0.1:<port> is allowed: it is the extension's only host permission and the
 * server binds nowhere else. "localhost" is read as 127.0.0.1.
 *   normaliseServerUrl("127.0.0.1:8765/") === "http://127.0.0.1:8765"
 */
export function normaliseServerUrl(text) {
  let value = String(text ?? "").trim();
  if (!value) return DEFAULT_SERVER_URL;
  if (!/^[a-z]+:\/\//i.test(value)) value = `http://${value}`;
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new Error("That server address is not a valid address, e.g. http://127.0.0.1:8765.");
  }
  if (url.protocol !== "http:") {
    throw new Error("The server address must start with http:// (the server runs on this computer only).");
  }
  if (url.hostname === "localhost") url.hostname = "127.0.0.1";
  if (url.hostname !== "127.0.0.1") {
    throw new Error("The server address must be on this computer: http://127.0.0.1 with the port `standing serve` printed.");
  }
  return `http://127.0.0.1:${url.port || "80"}`;
}

export function clampPollMinutes(value) {
  const minutes = Math.round(Number(value));
  if (!Number.isFinite(minutes)) return DEFAULT_POLL_MINUTES;
  return Math.min(MAX_POLL_MINUTES, Math.max(MIN_POLL_MINUTES, minutes));
}
