// The popup: the applications in the server's attention order, what to do about the amber
// ones, and a detail view with the timeline and corrections. Email text only ever goes in
// through render.js (text nodes).
import { apiRequest } from "./api.js";
import { clearBadge, showAmberBadge } from "./badge.js";
import { FLAG_SYMBOL, FLAG_TEXT, LABEL_TEXT, TREND_TEXT, formatDay, formatMoment, statusText, timingShort, timingText } from "./labels.js";
import { fill, h, textWithLinks } from "./render.js";
import { ext, getSettings } from "./storage.js";

// While the server syncs, refresh this often so the progress bar moves.
const SYNC_REFRESH_MS = 2000;
// A notice ("Question copied.") is read, then gets out of the way.
const NOTICE_MS = 8000;
const KNOWN_FLAGS = new Set(["green", "amber", "red", "grey"]);
// The summary line, in the attention order: words for each flag's count.
const SUMMARY_WORDS = [["amber", "to ask about"], ["green", "going well"], ["grey", "waiting"], ["red", "closed"]];

const $ = (id) => document.getElementById(id);

// Page state lives only as long as the popup is open.
let syncTimer = null;
let noticeTimer = null;
let askCount = 0; // unique ids for the "ask where you stand" panels
let latestApplications = [];
const details = new Map(); // application id -> detail promise, for reply drafts

function show(view) {
  $("setup").hidden = view !== "setup";
  $("list-view").hidden = view !== "list";
  $("detail-view").hidden = view !== "detail";
  $("sync-button").hidden = view === "setup";
}

function showError(sentence, { pairAgain = false, retry = false, account = false } = {}) {
  const box = $("error");
  if (!sentence) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  fill(box, h("p", {}, textWithLinks(sentence)),
    pairAgain ? h("button", { type: "button", className: "primary", onClick: openOptions }, "Pair again in the options") : null,
    retry ? h("button", { type: "button", id: "retry", onClick: retryLoad }, "Try again") : null,
    account ? h("button", { type: "button", id: "error-options", onClick: openOptions }, "Check the account in the options") : null);
  box.hidden = false;
}

async function retryLoad(event) {
  event.currentTarget.disabled = true;
  await loadList();
  $("retry")?.focus(); // still failing: keep the keyboard where it was
}

function notify(sentence) {
  clearTimeout(noticeTimer);
  $("notice").textContent = sentence;
  if (sentence) noticeTimer = setTimeout(() => { $("notice").textContent = ""; }, NOTICE_MS);
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
  showError(err.message, { pairAgain: err.kind === "revoked", retry: err.kind === "server_down" || err.kind === "bad_response" });
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
  if (sync.error) showError(`The mailbox check failed: ${sync.error}`, { account: true });
  else showError(null);
}

function renderList(applications) {
  const list = $("applications");
  fill(list, applications.map(applicationItem));
  $("empty").hidden = applications.length > 0;
  $("summary").textContent = summaryText(applications);
  if (!applications.length) explainEmpty();
}

/** An empty list reads differently once a mailbox is connected: say which one was checked. */
async function explainEmpty() {
  const data = await apiRequest("/api/accounts").catch(() => null);
  const emails = (Array.isArray(data?.accounts) ? data.accounts : []).map((a) => String(a.email ?? "")).filter(Boolean);
  $("empty-options").hidden = emails.length > 0;
  $("empty-text").textContent = emails.length
    ? `Nothing from employers found in ${emails.join(", ")} so far. Replies to your applications show up here as they arrive.`
    : "Connect your mailbox in the options; the employers' replies show up here once the sync finds them.";
}

/** "4 to ask about · 2 going well · 3 waiting · 2 closed" (counts of zero left out). */
export function summaryText(applications) {
  if (!applications.length) return "";
  const parts = SUMMARY_WORDS.map(([flag, words]) => [applications.filter((a) => a.flag === flag).length, words])
    .filter(([count]) => count > 0).map(([count, words]) => `${count} ${words}`);
  if (!applications.some((a) => a.flag === "amber")) parts.push("nothing to chase right now");
  return parts.join(" · ");
}

function flagPill(app) {
  const flag = KNOWN_FLAGS.has(app.flag) ? app.flag : "grey";
  return h("span", { className: `flag flag-${flag}`, title: FLAG_TEXT[flag] },
    h("span", { className: "flag-symbol", "aria-hidden": "true" }, FLAG_SYMBOL[flag]),
    h("span", { className: "flag-text" }, statusText(app)));
}

function applicationItem(app) {
  const timing = [timingShort(app), app.trend && app.trend !== "steady" ? TREND_TEXT[app.trend] : ""].filter(Boolean).join(" · ");
  const company = app.company || "Unknown company";
  const role = app.role || "Role not named";
  const ask = app.flag === "amber" && app.question ? askDisclosure(app) : null;
  const item = h("li", {
    className: "application",
    dataset: { flag: String(app.flag ?? ""), status: String(app.status ?? ""), id: String(app.id ?? "") },
    tabIndex: 0,
    "aria-label": `${company}, ${role}: ${statusText(app)}. ${app.reason ?? ""}`,
    title: "Open the timeline and corrections",
    onClick: (event) => {
      if (!event.target.closest("button, a, input, select, textarea, .ask")) openDetail(app.id);
    },
    onKeydown: (event) => {
      if (event.key === "Enter" && event.target === item) openDetail(app.id);
    },
  },
  h("div", { className: "head" },
    flagPill(app),
    h("span", { className: "who", title: `${company} · ${role}` },
      h("span", { className: "company" }, company),
      h("span", { className: "role" }, role)),
    h("span", { className: "chevron", "aria-hidden": "true" }, "›")),
  h("p", { className: "reason" }, app.reason ?? ""),
  app.evidence?.text ? h("blockquote", { className: "evidence", title: app.evidence.text }, app.evidence.text) : null,
  timing || ask ? h("div", { className: "foot" },
    h("span", { className: "timing", title: timing }, timing),
    ask?.toggle) : null,
  ask?.panel);
  return item;
}

/** The question with its two actions, shown open (detail view) or behind a disclosure button. */
function askBlock(app, { id, hidden = false } = {}) {
  const question = h("p", { className: "question" }, app.question);
  return h("div", { className: "ask", id, hidden },
    h("p", { className: "ask-title" }, "Ask where you stand:"),
    question,
    h("div", { className: "ask-actions" },
      h("button", { type: "button", className: "copy-question", onClick: () => copyQuestion(app, question) }, "Copy the question"),
      h("a", { className: "reply-draft button", href: "#", onClick: (event) => openDraft(event, app) }, "Open a reply draft")));
}

/** "Ask where you stand ▾": a button (aria-expanded) that shows the question under the card. */
function askDisclosure(app) {
  const id = `ask-${++askCount}`;
  const panel = askBlock(app, { id, hidden: true });
  const toggle = h("button", {
    type: "button", className: "ask-toggle", "aria-expanded": "false", "aria-controls": id,
    onClick: () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      panel.hidden = !open;
      if (open) prepareDraftLink(app, panel.querySelector("a.reply-draft"));
    },
  }, "Ask where you stand", h("span", { className: "caret", "aria-hidden": "true" }, "▾"));
  return { toggle, panel };
}

/** Fill in the draft link's mailto: ahead of the click, so it is a real link too. */
function prepareDraftLink(app, link) {
  detailOf(app.id).then((detail) => { link.href = replyDraftUrl(app, detail); }, () => {});
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
    others.length ? h("form", { className: "fix stacked", onSubmit: (event) => {
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
$("empty-options").addEventListener("click", openOptions);
$("sync-button").addEventListener("click", syncNow);
loadList();
