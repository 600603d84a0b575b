// The toolbar badge: the number of amber applications (the ones where it is time to ask).
import { ext } from "./storage.js";

const AMBER = "#f2a900";

export function amberCount(applications) {
  return (applications ?? []).filter((app) => app?.flag === "amber").length;
}

/** Show the count of amber applications, or nothing when there are none. */
export async function showAmberBadge(applications) {
  const count = amberCount(applications);
  await ext.action.setBadgeBackgroundColor({ color: AMBER });
  if (ext.action.setBadgeTextColor) await ext.action.setBadgeTextColor({ color: "#000000" });
  await ext.action.setBadgeText({ text: count ? String(count) : "" });
  await ext.action.setTitle({
    title: count ? `Where You Stand: ${count} application${count === 1 ? "" : "s"} where it is time to ask` : "Where You Stand",
  });
  return count;
}

export async function clearBadge() {
  await ext.action.setBadgeText({ text: "" });
  await ext.action.setTitle({ title: "Where You Stand" });
}
