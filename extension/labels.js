// Words for the server's flags, statuses and message labels: colour is never the only signal.

export const STATUS_TEXT = {
  offer: "Offer",
  interested: "Interested",
  noncommittal: "Noncommittal",
  overdue: "Overdue",
  silent: "Gone quiet",
  rejected: "Rejected",
  waiting: "Waiting",
};

export const FLAG_TEXT = { green: "Going well", amber: "Time to ask", red: "Closed", grey: "Waiting" };

// A shape per flag as well, for readers who cannot tell the colours apart.
export const FLAG_SYMBOL = { green: "▲", amber: "◆", red: "■", grey: "●" };

export const LABEL_TEXT = {
  offer: "Offer",
  advancing: "Advancing",
  noncommittal: "Noncommittal",
  rejected: "Rejected",
  acknowledgement: "Acknowledgement",
  unrelated: "Not a job email",
};

export const TREND_TEXT = { warming: "↗ warming", cooling: "↘ cooling", steady: "steady" };

export function statusText(app) {
  return STATUS_TEXT[app.status] ?? FLAG_TEXT[app.flag] ?? String(app.status ?? "Unknown");
}

/** "2025-03-07" -> a Date at local midnight (not UTC, which would shift the day). */
export function parseDay(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso ?? ""));
  if (!match) return null;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

export function formatDay(iso) {
  const day = parseDay(iso);
  return day ? day.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" }) : "";
}

export function formatMoment(iso) {
  const moment = iso ? new Date(iso) : null;
  if (!moment || Number.isNaN(moment.getTime())) return "";
  return moment.toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

/** One line about time: the promised date, or how long the employer has been silent. */
export function timingText(app) {
  if (app.expected_by) {
    const prefix = app.status === "overdue" ? "They said they would reply by" : "Reply expected by";
    return `${prefix} ${formatDay(app.expected_by)}`;
  }
  if (Number.isFinite(app.days_silent) && app.days_silent > 0) {
    // last_contact is null when the employer never wrote: the days count from the user's mail.
    const since = app.last_contact ? "since they last wrote" : "since you wrote, no answer yet";
    return `${app.days_silent} day${app.days_silent === 1 ? "" : "s"} ${since}`;
  }
  return "";
}

/** The same, short enough to share a line with a button on a list card. */
export function timingShort(app) {
  if (app.expected_by) {
    return `${app.status === "overdue" ? "Was due" : "Expected by"} ${formatDay(app.expected_by)}`;
  }
  if (Number.isFinite(app.days_silent) && app.days_silent > 0) {
    return `${app.days_silent} day${app.days_silent === 1 ? "" : "s"} silent`;
  }
  return "";
}
