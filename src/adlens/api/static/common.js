// Shared by the screen and the operator page: the API key, calls to the API, and DOM
// building that never parses data as HTML (every string lands in textContent or an
// attribute, so a product or ad name cannot inject markup).

const KEY_STORE = "adlens.key";

/** An API answer other than 2xx, carrying the API's `error` code and `message`. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * The URL fragment's parameters (`#key=...&screen=...`). A key found there is saved to
 * localStorage and removed from the address bar, so it does not linger on screen or in
 * the history; the fragment never reaches the server in the first place.
 */
export function takeFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get("key");
  if (key) {
    setKey(key);
    params.delete("key");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return params;
}

export function getKey() {
  return localStorage.getItem(KEY_STORE) || "";
}

export function setKey(key) {
  localStorage.setItem(KEY_STORE, key.trim());
}

/**
 * Call the API with the saved key. `json` sends a JSON body, `form` a FormData;
 * `as` is "json" (default), "blob" or "text". Failures throw ApiError (status 0 when
 * the server cannot be reached).
 */
export async function api(path, { method = "GET", json, form, as = "json", signal } = {}) {
  const headers = { Authorization: `Bearer ${getKey()}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  if (!response.ok) {
    let code = `http_${response.status}`;
    let message = `${response.status} ${response.statusText}`.trim();
    try {
      const data = await response.json();
      code = data.error || code;
      message = data.message || message;
    } catch {
      // Not JSON (a proxy's error page): the status line has to do.
    }
    const retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw new ApiError(response.status, code, message, retryAfter);
  }
  if (as === "blob") return response.blob();
  if (as === "text") return response.text();
  return response.json();
}

const blobUrls = new Map();

/** An object URL for an image the API serves behind the key (an <img> cannot send headers); cached per path. */
export function imageUrl(path) {
  if (!blobUrls.has(path)) {
    const pending = api(path, { as: "blob" }).then((blob) => URL.createObjectURL(blob));
    // A failure is not cached: the next call asks again.
    pending.catch(() => blobUrls.delete(path));
    blobUrls.set(path, pending);
  }
  return blobUrls.get(path);
}

/**
 * Build an element. Attributes: `text` (textContent), `class`, `dataset` (object),
 * `on` (object of event listeners), anything else via setAttribute (false/null skip it).
 * Children: nodes, or strings added as text; null and false are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Show the key prompt and resolve with the key typed in (also saved). `reason` says why
 * (no key yet, or the key was refused). Only one prompt is open at a time.
 */
let openPrompt = null;
export function askKey(reason) {
  if (openPrompt) {
    openPrompt.note.textContent = reason;
    return openPrompt.promise;
  }
  const input = el("input", { type: "password", id: "key-input", name: "key", autocomplete: "off",
    required: true, "aria-label": "API key", placeholder: "adl_..." });
  const note = el("p", { class: "key-note", id: "key-note", text: reason });
  const form = el("form", { id: "key-prompt", class: "key-prompt" },
    el("h2", { text: "API key" }), note,
    el("div", { class: "row" }, input, el("button", { type: "submit", text: "Use key" })));
  document.body.append(form);
  input.focus();
  const promise = new Promise((resolve) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      setKey(key);
      form.remove();
      openPrompt = null;
      resolve(key);
    });
  });
  openPrompt = { note, promise };
  return promise;
}

/** Seconds as short text for people: "45 s", "12 min", "3.5 h". */
export function duration(value) {
  const s = Number(value) || 0;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** An ISO time as the browser's local date and time (or "" when absent). */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}
