// The one way the extension talks to `standing serve`: JSON over http://127.0.0.1 with the
// bearer token from storage, and every failure turned into an ApiError whose message is a
// sentence for the user.
import { getSettings } from "./storage.js";

// A server that accepts the connection but never answers must not freeze the popup.
export const REQUEST_TIMEOUT_MS = 15000;
// Connecting an account makes the server log in to the mailbox first: allow it longer.
export const ACCOUNT_TIMEOUT_MS = 90000;

export class ApiError extends Error {
  /**
   * kind: "not_paired" (no token yet), "server_down" (nothing answers), "revoked" (401: pair
   * again), "server" (the server's own sentence), "bad_response".
   */
  constructor(kind, message, status = 0) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
  }
}

export function serverDownMessage(serverUrl) {
  return `The Where You Stand server is not running at ${serverUrl}. Start it with "standing serve" and try again.`;
}

export const REVOKED_MESSAGE =
  "This browser is no longer paired with the server (its token was revoked or the server was reset). Pair again in the options.";

export const NOT_PAIRED_MESSAGE = "This browser is not paired with the server yet. Pair it in the options.";

/**
 * Call the API. Options: method, body (sent as JSON), auth (default true: send the token),
 * timeoutMs, settings (to skip a storage read). Resolves to the parsed JSON body.
 */
export async function apiRequest(path, { method = "GET", body, auth = true, timeoutMs = REQUEST_TIMEOUT_MS, settings } = {}) {
  const { serverUrl, token } = settings ?? (await getSettings());
  if (auth && !token) throw new ApiError("not_paired", NOT_PAIRED_MESSAGE);
  const headers = { Accept: "application/json" };
  if (auth) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(serverUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (err) {
    if (err?.name === "AbortError") {
      throw new ApiError("server_down", `The server at ${serverUrl} did not answer in ${Math.round(timeoutMs / 1000)} seconds. Is "standing serve" still running?`);
    }
    throw new ApiError("server_down", serverDownMessage(serverUrl));
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.ok) {
    if (data === null || typeof data !== "object") {
      throw new ApiError("bad_response", `The server at ${serverUrl} answered with something that is not Where You Stand data. Is the address right?`, response.status);
    }
    return data;
  }
  if (response.status === 401 && auth) throw new ApiError("revoked", REVOKED_MESSAGE, 401);
  const sentence = typeof data?.error === "string" && data.error ? data.error : null;
  const err = new ApiError("server", sentence ?? `The server refused the request (HTTP ${response.status}).`, response.status);
  err.fromServer = sentence !== null;
  throw err;
}

/** Words for a failed pairing when the server gave no sentence of its own. */
export function pairingMessage(err) {
  if (err.kind !== "server" || err.fromServer) return err.message;
  switch (err.status) {
    case 410: return 'That pairing code has expired. Run "standing pair" for a new one.';
    case 429: return 'Too many wrong attempts: that pairing code no longer works. Run "standing pair" for a new one.';
    default: return "That pairing code is wrong. Copy the code \"standing serve\" printed and try again.";
  }
}

/** Exchange a pairing code for a token (not stored here). */
export async function pair(code, serverUrl) {
  const data = await apiRequest("/api/pair", { method: "POST", body: { code }, auth: false, settings: { serverUrl, token: "" } });
  if (typeof data.token !== "string" || !data.token) {
    throw new ApiError("bad_response", "The server did not send a token back. Is the address right?");
  }
  return data.token;
}
