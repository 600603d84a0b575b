// DOM from nodes only. Text (and so every piece of email text) goes in as text nodes, never
// parsed as HTML: this file is the only way the pages build their content.

/**
 * h("li", {className: "application", dataset: {flag: "amber"}, onClick: fn}, "text", childNode)
 * Properties: className, dataset, on<Event> handlers, hidden/disabled/value/checked/type and
 * anything else as an attribute. Children: strings (text nodes), nodes, arrays, null (skipped).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key in PROPERTIES) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

const PROPERTIES = { hidden: 1, disabled: 1, value: 1, checked: 1, selected: 1, tabIndex: 1, textContent: 1 };

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace a node's children with the given ones. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const URL_PATTERN = /https:\/\/[^\s<>"')]+[^\s<>"').,;:!?]/g;

/**
 * A sentence as nodes, with its https:// addresses as links (e.g. a provider's app-password
 * help page inside a server error). Only https links are made; the rest stays plain text.
 */
export function textWithLinks(sentence) {
  const text = String(sentence ?? "");
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** A safe https link or, for anything else, plain text. */
export function safeLink(url, label) {
  if (typeof url === "string" && /^https:\/\//i.test(url)) {
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label ?? url);
  }
  return label ?? "";
}
