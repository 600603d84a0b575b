// The options page: server address, pairing, email accounts, poll interval.
import { ACCOUNT_TIMEOUT_MS, apiRequest, pair, pairingMessage } from "./api.js";
import { fill, h, safeLink, textWithLinks } from "./render.js";
import { clampPollMinutes, getSettings, normaliseServerUrl, saveSettings } from "./storage.js";

// Wait this long after the last keystroke before asking the server for the email's preset.
const PRESET_DELAY_MS = 400;

const $ = (id) => document.getElementById(id);

function setStatus(id, sentence, kind = "") {
  const node = $(id);
  node.className = `status ${kind}`.trim();
  fill(node, textWithLinks(sentence ?? ""));
}

/** Read #server-url, save it when valid; returns the normalised address or null (status says why). */
async function readServerUrl() {
  try {
    const serverUrl = normaliseServerUrl($("server-url").value);
    $("server-url").value = serverUrl;
    const before = await getSettings();
    if (before.serverUrl !== serverUrl) await saveSettings({ serverUrl });
    return serverUrl;
  } catch (err) {
    setStatus("server-status", err.message, "error");
    return null;
  }
}

async function checkServer() {
  const serverUrl = await readServerUrl();
  if (!serverUrl) return;
  try {
    const data = await apiRequest("/api/health", { auth: false, settings: { serverUrl, token: "" } });
    setStatus("server-status", `The server is running${data.version ? ` (version ${data.version})` : ""}.`, "ok");
  } catch (err) {
    setStatus("server-status", err.message, "error");
  }
}

async function showPairing() {
  const { token, serverUrl } = await getSettings();
  $("paired-line").textContent = token
    ? `This browser is paired with the server at ${serverUrl}.`
    : "Paste the pairing code the server printed (or run standing pair for a new one).";
  $("unpair-button").hidden = !token;
}

async function onPair(event) {
  event.preventDefault();
  const serverUrl = await readServerUrl();
  if (!serverUrl) return;
  const code = $("pairing-code").value.trim();
  if (!code) {
    setStatus("pair-status", "Paste the pairing code first.", "error");
    return;
  }
  $("pair-button").disabled = true;
  setStatus("pair-status", "Pairing…");
  try {
    const token = await pair(code, serverUrl);
    await saveSettings({ token, serverUrl });
    $("pairing-code").value = "";
    setStatus("pair-status", `Paired with the server at ${serverUrl}.`, "ok");
    await showPairing();
    await loadAccounts();
  } catch (err) {
    setStatus("pair-status", pairingMessage(err), "error");
  } finally {
    $("pair-button").disabled = false;
  }
}

async function onUnpair() {
  await saveSettings({ token: "" });
  setStatus("pair-status", "This browser is no longer paired. Run standing pair on the server to revoke old tokens too.", "ok");
  fill($("accounts"));
  await showPairing();
}

// ---------------------------------------------------------------- accounts

async function loadAccounts() {
  const { token } = await getSettings();
  if (!token) {
    fill($("accounts"));
    setStatus("accounts-status", "Pair this browser first, then connect your mailbox here.");
    return;
  }
  try {
    const data = await apiRequest("/api/accounts");
    const accounts = Array.isArray(data.accounts) ? data.accounts : [];
    fill($("accounts"), accounts.map(accountItem));
    setStatus("accounts-status", accounts.length ? "" : "No account connected yet.");
  } catch (err) {
    fill($("accounts"));
    setStatus("accounts-status", err.message, "error");
  }
}

function accountItem(account) {
  return h("li", { className: "account", dataset: { id: String(account.id) } },
    h("div", {},
      h("div", { className: "account-email" }, account.email ?? ""),
      h("div", { className: "account-meta" }, [account.provider, account.host && `${account.host}:${account.port}`].filter(Boolean).join(" · ")),
      account.last_error ? h("div", { className: "account-error" }, textWithLinks(account.last_error)) : null),
    h("button", { type: "button", className: "account-remove", onClick: () => removeAccount(account) }, "Remove"));
}

async function removeAccount(account) {
  try {
    await apiRequest(`/api/accounts/${encodeURIComponent(account.id)}`, { method: "DELETE" });
    setStatus("accounts-status", `${account.email} removed.`, "ok");
  } catch (err) {
    setStatus("accounts-status", err.message, "error");
  }
  await loadAccounts();
}

let presetTimer = null;

function schedulePreset() {
  clearTimeout(presetTimer);
  presetTimer = setTimeout(showPreset, PRESET_DELAY_MS);
}

async function showPreset() {
  const email = $("account-email").value.trim();
  const node = $("account-preset");
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    fill(node);
    return;
  }
  const { token } = await getSettings();
  if (!token) return;
  let preset = null;
  try {
    preset = (await apiRequest(`/api/accounts/preset?email=${encodeURIComponent(email)}`)).preset;
  } catch {
    preset = null;
  }
  if (email !== $("account-email").value.trim()) return; // the user typed on meanwhile
  if (!preset) {
    fill(node, "No preset for this address: fill in the server settings below.");
    $("account-advanced").open = true;
    return;
  }
  fill(node, `${preset.provider}: ${preset.host}:${preset.port} (${String(preset.security).toUpperCase()}).`,
    preset.help_url ? [" ", safeLink(preset.help_url, `How to make an app password for ${preset.provider}`), "."] : null);
}

function updateSecretLabel() {
  $("account-password-label").textContent = $("account-auth").value === "oauth" ? "OAuth access token" : "App password";
}

async function onConnect(event) {
  event.preventDefault();
  const email = $("account-email").value.trim();
  const secret = $("account-password").value;
  if (!email || !secret) {
    setStatus("account-status", "Fill in the email address and the app password (or token) first.", "error");
    return;
  }
  const body = { email };
  if ($("account-auth").value === "oauth") body.oauth_token = secret;
  else body.password = secret;
  const host = $("account-host").value.trim();
  const port = $("account-port").value.trim();
  const security = $("account-security").value;
  if (host) body.host = host;
  if (port) body.port = Number(port);
  if (security) body.security = security;
  $("account-connect").disabled = true;
  setStatus("account-status", `Testing the connection to ${email}…`);
  try {
    const data = await apiRequest("/api/accounts", { method: "POST", body, timeoutMs: ACCOUNT_TIMEOUT_MS });
    setStatus("account-status", `Connected ${data.account?.email ?? email}. The first check of the mailbox starts now.`, "ok");
    $("account-password").value = "";
    await loadAccounts();
  } catch (err) {
    setStatus("account-status", err.message, "error");
  } finally {
    $("account-connect").disabled = false;
  }
}

// ---------------------------------------------------------------- poll interval

async function onPollChange() {
  const pollMinutes = clampPollMinutes($("poll-interval").value);
  $("poll-interval").value = String(pollMinutes);
  await saveSettings({ pollMinutes });
  setStatus("poll-status", `Saved: every ${pollMinutes} minute${pollMinutes === 1 ? "" : "s"}.`, "ok");
}

async function start() {
  const settings = await getSettings();
  $("server-url").value = settings.serverUrl;
  $("poll-interval").value = String(settings.pollMinutes);
  $("server-url").addEventListener("change", checkServer);
  $("server-check").addEventListener("click", checkServer);
  $("pair-form").addEventListener("submit", onPair);
  $("unpair-button").addEventListener("click", onUnpair);
  $("account-form").addEventListener("submit", onConnect);
  $("account-email").addEventListener("input", schedulePreset);
  $("account-auth").addEventListener("change", updateSecretLabel);
  $("poll-interval").addEventListener("change", onPollChange);
  await showPairing();
  await loadAccounts();
}

start();
