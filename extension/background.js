// Service worker: keeps no state in memory. Each wake-up reads the server address and token
// from storage, asks the server for the standings and sets the badge to the amber count.
import { apiRequest } from "./api.js";
import { clearBadge, showAmberBadge } from "./badge.js";
import { clampPollMinutes, ext, getSettings } from "./storage.js";

const ALARM = "poll-standings";

async function schedule() {
  const { pollMinutes } = await getSettings();
  const period = clampPollMinutes(pollMinutes);
  await ext.alarms.create(ALARM, { delayInMinutes: period, periodInMinutes: period });
}

/** Ask the server once and update the badge; resolves to the badge count (0 when cleared). */
async function poll() {
  try {
    const data = await apiRequest("/api/applications");
    return await showAmberBadge(data.applications);
  } catch {
    // Not paired, server down or token revoked: no badge; the popup says why in words.
    await clearBadge();
    return 0;
  }
}

// For tests and the popup: poll now, without waiting for the alarm.
globalThis.pollNow = poll;

// Alarms survive worker restarts but not every browser update: recreate a missing one.
ext.alarms.get(ALARM).then((alarm) => alarm || schedule());

ext.runtime.onInstalled.addListener(() => {
  schedule();
  poll();
});
ext.runtime.onStartup.addListener(() => {
  schedule();
  poll();
});
ext.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) poll();
});
ext.storage.onChanged.addListener((changes, area) => {
  if (area !== "local") return;
  if (changes.pollMinutes) schedule();
  if (changes.token || changes.serverUrl) poll();
});
ext.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  if (message?.type !== "poll") return false;
  poll().then((count) => sendResponse({ count }));
  return true;
});
