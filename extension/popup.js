// The popup: the applications in the server's attention order, what to do about the amber
// ones, and a detail view with the timeline and corrections. Email text only ever goes in
// through render.js (text nodes).
import { apiRequest } from "./api.js";
import { clearBadge, showAmberBadge } from "./badge.js";
import { FLAG_SYMBOL, FLAG_TEXT, LABEL_TEXT, TREND_TEXT, formatDay, formatMoment, statusText, timingText } from "./labels.js";
import { fill, h, textWithLinks } from "./render.js";
import { ext, getSettings } from "./storage.js";

// While the server syncs, refresh this often so the progress bar moves.
const SYNC_REFRESH_MS = 2000;
const KNOWN_FLAGS = new Set(["green", "amber", "red", "grey"]);

const $ = (id) => document.getElementById(id);

// Page state lives only as long as the popup is open.
let syncTimer = null;
let latestApplications = [];
const details = new Map(); // application id -> detail promise, for reply drafts

function show(view) {
  $("setup").hidden = view !== "setup";
  $("list-view").hidden = view !== "list";
  $("detail-view").hidden = view !== "detail";
  $("sync-button").hidden = view === "setup";
}

function showError(sentence, { pairAgain = false } = {}) {
  const box = $("error");
  if (!sentence) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  fill(box, h("p", {}, textWithLinks(sentence)),
    pairAgain ? h("button", { type: "button", className: "primary", onClick: openOptions }, "Pair again in the options") : null);
  box.hidden = false;
}

function notify(sentence) {
  $("notice").textContent = sentence;
}

function openOptions() {
  ext.runtime.openOptionsPage();
}

async function handleFailure(err) {
  await clearBadge();
  if (err.kind === "not_paired") {
    showError(null);
    show("setup");
    return;
  }
  show(err.kind === "server" ? "list" : "none");
  showError(err.message, { pairAgain: err.kind === "revoked" });
}

async function loadList() {
  clearTimeout(syncTimer);
  const settings = await getSettings();
  if (!settings.token) {
    await handleFailure({ kind: "not_paired" });
    return;
  }
  let data;
  try {
    data = await apiRequest("/api/applications", { settings });
  } catch (err) {
    await handleFailure(err);
    return;
  }
  latestApplications = Array.isArray(data.applications) ? data.applications : [];
  let sync = data.sync ?? {};
  if (sync.state === "error" && !sync.error) {
    // The list carries the sync summary; the sentence saying what failed is in /api/sync.
    sync = await apiRequest("/api/sync", { settings }).catch(() => sync);
  }
  renderSync(sync);
  renderList(latestApplications);
  if ($("detail-view").hidden) show("list");
  await showAmberBadge(latestApplications);
}

function renderSync(sync) {
  const bar = $("sync-progress");
  const text = $("sync-text");
  if (sync.state === "syncing") {
    bar.hidden = false;
    if (sync.total > 0) {
      bar.max = sync.total;
      bar.value = Math.min(sync.done ?? 0, sync.total);
      text.textContent = `Checking your mailbox: ${(sync.done ?? 0).toLocaleString()} of ${sync.total.toLocaleString()} messages`;
    } else {
      bar.removeAttribute("value"); // indeterminate until the server knows the total
      text.textContent = "Checking your mailbox…";
    }
    syncTimer = setTimeout(loadList, SYNC_REFRESH_MS);
  } else {
    bar.hidden = true;
    const when = formatMoment(sync.last_synced);
    text.textContent = when ? `Mailbox last checked ${when}` : "";
  }
  if (sync.error) showError(`The mailbox check failed: ${sync.error}`);
  else showError(null);
}

function renderList(applications) {
  const list = $("applications");
  fill(list, applications.map(applicationItem));
  $("empty").hidden = applications.length > 0;
  const amber = applications.filter((app) => app.flag === "amber").length;
  $("summary").textContent = applications.length
    ? `${applications.length} application${applications.length === 1 ? "" : "s"}` +
      (amber ? ` · ${amber} where it is time to ask` : " · nothing to chase right now")
    : "";
}

function flagPill(app) {
  const flag = KNOWN_FLAGS.has(app.flag) ? app.flag : "grey";
  return h("span", { className: `flag flag-${flag}`, title: FLAG_TEXT[flag] },
    h("span", { className: "flag-symbol", "aria-hidden": "true" }, FLAG_SYMBOL[flag]),
    h("span", { className: "flag-text" }, statusText(app)));
}

function applicationItem(app) {
  const timing = timingText(app);
  const trend = TREND_TEXT[app.trend];
  const item = h("li", {
    className: "application",
    dataset: { flag: String(app.flag ?? ""), status: String(app.status ?? ""), id: String(app.id ?? "") },
    tabIndex: 0,
    onClick: (event) => {
      if (!event.target.closest("button, a, input, select, textarea")) openDetail(app.id);
    },
    onKeydown: (event) => {
      if (event.key === "Enter" && event.target === item) openDetail(app.id);
    },
  },
  h("div", { className: "head" },
    flagPill(app),
    h("span", { className: "who" },
      h("span", { className: "company" }, app.company || "Unknown company"),
      h("span", { className: "role" }, app.role || "Role not named"))),
  h("p", { className: "reason" }, app.reason ?? ""),
  app.evidence?.text ? h("blockquote", { className: "evidence", title: app.evidence.explanation ?? "" }, app.evidence.text) : null,
  timing || trend ? h("p", { className: "timing" }, [timing, trend && app.trend !== "steady" ? trend : ""].filter(Boolean).join(" · ")) : null,
  app.flag === "amber" && app.question ? askBlock(app) : null);
  return item;
}

function askBlock(app) {
  const question = h("p", { className: "question" }, app.question);
  return h("div", { className: "ask" },
    h("p", { className: "ask-title" }, "Ask where you stand:"),
    question,
    h("div", { className: "ask-actions" },
      h("button", { type: "button", className: "copy-question", onClick: () => copyQuestion(app, question) }, "Copy the question"),
      h("a", { className: "reply-draft button", href: "#", role: "button", onClick: (event) => openDraft(event, app) }, "Open a reply draft")));
}

async function copyQuestion(app, questionNode) {
  try {
    await navigator.clipboard.writeText(app.question);
    notify(`Question copied. Paste it into a reply to ${app.company || "them"}.`);
  } catch {
    const range = document.createRange();
    range.selectNodeContents(questionNode);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    notify("Could not copy by itself: the question is selected, press Ctrl+C (⌘C) to copy it.");
  }
}

function detailOf(id) {
  if (!details.has(id)) {
    const promise = apiRequest(`/api/applications/${encodeURIComponent(id)}`).then((data) => data.application);
    promise.catch(() => details.delete(id));
    details.set(id, promise);
  }
  return details.get(id);
}

/** The address in "Name <a@b.c>" or a bare address; "" when there is none. */
function addressOf(from) {
  const text = String(from ?? "");
  const angled = /<([^<>\s]+@[^<>\s]+)>/.exec(text);
  if (angled) return angled[1];
  const bare = /[^\s<>"]+@[^\s<>"]+/.exec(text);
  return bare ? bare[0] : "";
}

/** mailto: for a reply to the employer's latest message, with the question as the body. */
export function replyDraftUrl(app, detail) {
  const timeline = Array.isArray(detail?.timeline) ? detail.timeline : [];
  const latest = timeline.filter((m) => m.direction === "in").at(-1);
  const to = addressOf(latest?.from);
  const subject = String(latest?.subject ?? `${app.role || "My application"} at ${app.company || ""}`).trim();
  const reSubject = /^re:/i.test(subject) ? subject : `Re: ${subject}`;
  return `mailto:${encodeURIComponent(to).replace(/%40/g, "@")}?subject=${encodeURIComponent(reSubject)}&body=${encodeURIComponent(app.question ?? "")}`;
}

async function openDraft(event, app) {
  event.preventDefault();
  const link = event.currentTarget;
  try {
    const url = replyDraftUrl(app, await detailOf(app.id));
    link.href = url;
    await ext.tabs.create({ url });
    notify("A reply draft opened in your mail program.");
  } catch (err) {
    notify(err.message);
  }
}

// ---------------------------------------------------------------- detail view

async function openDetail(id) {
  details.delete(id); // always fresh: corrections change it
  let app;
  try {
    app = await detailOf(id);
  } catch (err) {
    if (err.status === 404) {
      notify("That application is gone (it was archived or merged).");
      await loadList();
      return;
    }
    await handleFailure(err);
    return;
  }
  if (!app) return;
  renderDetail(app);
  show("detail");
  $("detail-back").focus();
}

function closeDetail() {
  const id = $("detail-view").dataset.id;
  show("list");
  $("detail-view").replaceChildren();
  const item = [...document.querySelectorAll("li.application")].find((li) => li.dataset.id === id);
  (item ?? $("applications")).focus();
}

async function correct(payload, appId, doneSentence) {
  try {
    await apiRequest("/api/corrections", { method: "POST", body: payload });
  } catch (err) {
    if (err.kind === "server") {
      notify(err.message);
      return;
    }
    await handleFailure(err);
    return;
  }
  notify(doneSentence);
  await loadList();
  if (payload.kind === "archive" || !latestApplications.some((a) => a.id === appId)) {
    closeDetail();
  } else {
    await openDetail(appId);
  }
}

function renderDetail(app) {
  const view = $("detail-view");
  view.dataset.id = String(app.id);
  const timeline = Array.isArray(app.timeline) ? app.timeline : [];
  const others = latestApplications.filter((a) => a.id !== app.id);
  const company = h("input", { id: "fix-company", type: "text", value: app.company ?? "", autocomplete: "off" });
  const role = h("input", { id: "fix-role", type: "text", value: app.role ?? "", autocomplete: "off" });
  const mergeWith = h("select", { id: "merge-with" },
    h("option", { value: "" }, "Choose an application…"),
    others.map((a) => h("option", { value: String(a.id) }, `${a.company || "Unknown"} — ${a.role || "role not named"}`)));

  fill(view,
    h("button", { type: "button", id: "detail-back", className: "link-button", onClick: closeDetail }, "← All applications"),
    h("h2", {}, h("span", { className: "company" }, app.company || "Unknown company"), " ",
      h("span", { className: "role" }, app.role || "Role not named")),
    h("div", { className: "detail-status" }, flagPill(app), h("span", { className: "reason" }, app.reason ?? "")),
    app.evidence?.explanation ? h("p", { className: "explanation" }, app.evidence.explanation) : null,
    timingText(app) ? h("p", { className: "timing" }, timingText(app)) : null,
    app.flag === "amber" && app.question ? askBlock(app) : null,
    h("h3", {}, "Timeline"),
    timeline.length ? h("ol", { className: "timeline" }, timeline.map((message) => timelineItem(message, app))) : h("p", {}, "No messages."),
    h("h3", {}, "Fix this application"),
    h("form", { className: "fix", onSubmit: (event) => {
      event.preventDefault();
      correct({ kind: "company_role", application_id: app.id, company: company.value.trim(), role: role.value.trim() },
        app.id, "Company and role saved.");
    } },
    h("label", { for: "fix-company" }, "Company"), company,
    h("label", { for: "fix-role" }, "Role"), role,
    h("button", { type: "submit", id: "save-company-role" }, "Save company and role")),
    others.length ? h("form", { className: "fix", onSubmit: (event) => {
      event.preventDefault();
      if (!mergeWith.value) return notify("Choose the application to merge with first.");
      correct({ kind: "merge", application_id: app.id, other_application_id: mergeWith.value }, app.id, "Applications merged.");
    } },
    h("label", { for: "merge-with" }, "Same application as"), mergeWith,
    h("button", { type: "submit", id: "merge-button" }, "Merge")) : null,
    h("div", { className: "fix-actions" },
      h("button", { type: "button", id: "archive", onClick: () => correct({ kind: "archive", application_id: app.id }, app.id, `${app.company || "The application"} archived.`) }, "Archive this application")));
}

function timelineItem(message, app) {
  const incoming = message.direction !== "out";
  const evidence = Array.isArray(message.evidence) ? message.evidence : [];
  const select = h("select", { className: "label-select", "aria-label": "The right label for this message" },
    Object.entries(LABEL_TEXT).filter(([label]) => label !== "unrelated")
      .map(([label, text]) => h("option", { value: label, selected: label === message.label }, text)));
  return h("li", { className: "message", dataset: { label: String(message.label ?? ""), direction: incoming ? "in" : "out" } },
    h("div", { className: "message-head" },
      h("span", { className: "date" }, formatDay(message.date)),
      h("span", { className: "direction" }, incoming ? `From ${message.from || "them"}` : "You wrote"),
      incoming ? h("span", { className: `label label-${message.label}` }, LABEL_TEXT[message.label] ?? String(message.label ?? "")) : null),
    h("p", { className: "subject" }, message.subject || "(no subject)"),
    evidence.map((ev) => h("div", { className: "message-evidence" },
      h("blockquote", { className: "evidence" }, ev.text ?? ""),
      ev.explanation ? h("p", { className: "explanation" }, ev.explanation) : null)),
    incoming && message.message_id ? h("div", { className: "message-fix" },
      select,
      h("button", { type: "button", className: "save-label", onClick: () =>
        correct({ kind: "label", message_id: message.message_id, label: select.value }, app.id, "Label saved.") }, "Save label"),
      h("button", { type: "button", className: "not-job", onClick: () =>
        correct({ kind: "not_job", message_id: message.message_id }, app.id, "Marked as not a job email.") }, "Not a job email"),
      h("button", { type: "button", className: "split", onClick: () =>
        correct({ kind: "split", message_id: message.message_id }, app.id, "Moved to an application of its own.") }, "Separate application")) : null);
}

// ---------------------------------------------------------------- start

async function syncNow() {
  try {
    await apiRequest("/api/sync", { method: "POST" });
    notify("Checking your mailbox now.");
  } catch (err) {
    if (err.kind === "server") notify(err.message);
    else return handleFailure(err);
  }
  await loadList();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !$("detail-view").hidden) {
    event.preventDefault();
    closeDetail();
  }
});
$("options-button").addEventListener("click", openOptions);
$("setup-options").addEventListener("click", openOptions);
$("sync-button").addEventListener("click", syncNow);
loadList();
