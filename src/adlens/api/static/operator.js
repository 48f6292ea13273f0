// The operator page: live audience and reports, ads, catalogue, customers and the
// consent register. Every string from the API goes into the DOM as text (see el()).

import { api, askKey, duration, el, getKey, imageUrl, takeFragment, when } from "./common.js";

const LIVE_MS = 5000;
const PAGE_SIZE = 48;
const $ = (id) => document.getElementById(id);

const state = { who: null, tab: "live", liveTimer: 0, reportUrl: "", catalogOffset: 0, catalogTotal: 0 };

// --- calls and messages ---------------------------------------------------------------------

/** An API call that asks for a new key on 401 and tries again with it. */
async function call(path, options) {
  for (;;) {
    try {
      return await api(path, options);
    } catch (error) {
      if (error.status !== 401) throw error;
      await askKey("That key was refused. Enter a valid key.");
    }
  }
}

/** Show `text` in the message element `id` (kind: error | ok | info); empty text hides it. */
function say(id, text, kind = "error") {
  const node = $(id);
  node.textContent = text || "";
  node.className = `message ${text ? kind : ""}`;
}

/** Run `task`, showing its failure's message in `messageId` instead of throwing. */
async function guarded(messageId, task) {
  try {
    const result = await task();
    say(messageId, "");
    return result;
  } catch (error) {
    say(messageId, error.message || String(error));
    return undefined;
  }
}

const number = (value, digits = 0) =>
  value === null || value === undefined || Number.isNaN(Number(value)) ? "–" : Number(value).toFixed(digits);

/** A compact, readable line for a JSON value of unknown shape. */
function short(value) {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.map(short).join(", ");
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}: ${short(v)}`).join("; ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2);
  return String(value);
}

/** An ad's targeting or exclusions as a short sentence ("age 16–45 · male · wears eyewear"). */
function describeConditions(conditions) {
  const parts = [];
  for (const [key, value] of Object.entries(conditions || {})) {
    if (value === null || value === false || (Array.isArray(value) && !value.length)) continue;
    if (key === "age" && Array.isArray(value)) parts.push(`age ${value[0]}–${value[1]}`);
    else if (key === "attributes") {
      for (const [name, wanted] of Object.entries(value)) parts.push(wanted ? name : `no ${name}`);
    } else if (key === "members_only") parts.push("members only");
    else if (key === "gender" || key === "emotions" || key === "days") parts.push(short(value));
    else parts.push(`${key} ${short(value)}`);
  }
  return parts.join(" · ");
}

function audienceText(audience) {
  if (!audience) return "";
  const parts = [];
  if (audience.dominant_emotion) parts.push(`mostly ${audience.dominant_emotion}`);
  for (const group of ["genders", "ages"]) {
    for (const [name, count] of Object.entries(audience[group] || {})) {
      if (count) parts.push(`${name} ${short(count)}`);
    }
  }
  if (audience.members) parts.push(`${audience.members} member(s)`);
  return parts.join(" · ");
}

function emptyRow(tbody, columns, text) {
  tbody.replaceChildren(el("tr", {}, el("td", { colspan: columns, class: "empty", text })));
}

// --- tabs -------------------------------------------------------------------------------

const loaders = {
  live: () => { refreshLive(); loadReport(); },
  ads: () => loadAds(),
  catalog: () => loadCatalog(),
  customers: () => { loadCustomers(); loadSegments(); },
  gallery: () => loadGallery(),
};

function openTab(tab) {
  if (!loaders[tab]) tab = "live";
  state.tab = tab;
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== tab;
  localStorage.setItem("adlens.tab", tab);
  loaders[tab]();
}

// --- live audience and reports ----------------------------------------------------------------

async function loadLive() {
  const live = await call("/v1/reports/live?minutes=5");
  $("live-minutes").textContent = number(live.minutes);
  $("live-decisions").textContent = number(live.decisions);
  $("live-faces").textContent = number(live.faces);
  $("live-watchers").textContent = number(live.watchers);
  const screens = live.screens || [];
  $("live-screens-count").textContent = String(screens.length);
  const tbody = $("live-screens").tBodies[0];
  if (!screens.length) emptyRow(tbody, 6, "No screen has decided anything in this window.");
  else {
    tbody.replaceChildren(...screens.map((s) => el("tr", { dataset: { screen: s.screen } },
      el("td", { text: s.screen }), el("td", { text: when(s.at) }), el("td", { text: s.ad || "no ad" }),
      el("td", { class: "num", text: number(s.audience && s.audience.faces) }),
      el("td", { class: "num", text: number(s.audience && s.audience.watchers) }),
      el("td", { text: audienceText(s.audience) }))));
  }
  $("live-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function refreshLive() {
  clearTimeout(state.liveTimer);
  if (state.tab !== "live") return;
  guarded("live-message", loadLive).finally(() => {
    // Poll only while the tab is open and the page is visible.
    if (state.tab === "live" && !document.hidden) state.liveTimer = setTimeout(refreshLive, LIVE_MS);
  });
}

/** The report with a policy that runs no script: the blob opens in this page's origin, where the key is. */
function lockDown(html) {
  const policy = '<meta http-equiv="Content-Security-Policy" '
    + "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">";
  return /<head(\s[^>]*)?>/i.test(html) ? html.replace(/<head(\s[^>]*)?>/i, (head) => head + policy) : policy + html;
}

const PLOT_TITLES = { audience: "Audience over time", demographics: "Demographics",
  emotions: "Emotion response per ad", reasons: "Decisions by reason", learning: "Bandit learning curve" };

/** Show one plot as large as the window allows; a click, Esc or the close button closes it. */
function enlargePlot(src, title) {
  const dialog = $("plot-dialog");
  $("plot-dialog-image").src = src;
  $("plot-dialog-image").alt = title;
  $("plot-dialog-caption").textContent = title;
  dialog.showModal();
}

async function loadReport() {
  const since = encodeURIComponent($("report-since").value);
  const link = $("report-link");
  link.removeAttribute("href");
  link.setAttribute("aria-disabled", "true");
  link.textContent = "Preparing the full report…";
  await guarded("report-message", async () => {
    const { plots } = await call(`/v1/reports/plots?since=${since}`);
    $("plots").replaceChildren(...Object.entries(plots || {}).map(([name, src]) => {
      const usable = typeof src === "string" && src.startsWith("data:image/");
      const title = PLOT_TITLES[name] || name;
      const image = usable
        ? el("button", { type: "button", class: "plot-open", title: "Click to enlarge", "aria-label": `Enlarge: ${title}`,
          on: { click: () => enlargePlot(src, title) } }, el("img", { src, alt: title }))
        : el("p", { class: "empty", text: "No data yet." });
      return el("figure", { dataset: { plot: name } }, image, el("figcaption", { text: title }));
    }));
  });
  await guarded("report-message", async () => {
    const html = await call(`/v1/reports/html?since=${since}`, { as: "text" });
    if (state.reportUrl) URL.revokeObjectURL(state.reportUrl);
    // A blob URL: the report opens in its own tab without a second, key-less request.
    state.reportUrl = URL.createObjectURL(new Blob([lockDown(html)], { type: "text/html" }));
    link.href = state.reportUrl;
    link.removeAttribute("aria-disabled");
    link.textContent = "Open the full report";
  });
  if (!link.href) link.textContent = "Report unavailable";
}

// --- ads ------------------------------------------------------------------------------------

function adCard(ad) {
  const perf = ad.performance || {};
  const thumbs = (ad.creatives || []).map((creative) => {
    const img = el("img", { alt: creative.caption || creative.id, title: `${creative.id}: ${creative.caption || ""}`,
      dataset: { creative: creative.id } });
    if (creative.url) imageUrl(creative.url).then((src) => { img.src = src; }).catch(() => { img.alt = "image unavailable"; });
    return img;
  });
  const facts = [
    ["Products", short(ad.products && ad.products.length ? ad.products : null)],
    ["Categories", ad.categories && ad.categories.length ? short(ad.categories) : null],
    ["Mood", ad.mood],
    ["Targeting", describeConditions(ad.targeting) || "everyone"],
    ["Excludes", describeConditions(ad.exclude) || null],
    ["Caps", [ad.daily_cap ? `${ad.daily_cap} a day` : "",
      ad.frequency_cap ? `${ad.frequency_cap.count} per person in ${ad.frequency_cap.hours} h` : ""]
      .filter(Boolean).join(", ") || null],
  ].filter(([, value]) => value);
  const stat = (value, label) => el("div", {}, el("b", { text: value }), el("span", { text: label }));
  return el("article", { class: "ad-card", dataset: { ad: ad.id } },
    el("header", {}, el("h3", { text: ad.name || ad.id }), el("span", { class: "id", text: ad.id }),
      el("span", { class: `badge ${ad.active ? "members" : "off"}`, text: ad.active ? "active" : "paused" }),
      ad.age_restricted ? el("span", { class: "badge bad", text: "age-restricted" }) : null,
      el("span", { class: "badge", text: `priority ${number(ad.priority)}` })),
    el("div", { class: "thumbs" }, thumbs),
    el("dl", { class: "facts" }, facts.map(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })])),
    el("div", { class: "perf" }, stat(number(perf.impressions), "impressions"), stat(number(perf.plays), "plays"),
      stat(duration(perf.seconds), "on screen"), stat(number(perf.watchers), "watchers"),
      stat(number(perf.reward_mean, 2), "mean reward")));
}

async function loadAds() {
  await guarded("ads-message", async () => {
    const { ads } = await call(`/v1/ads${$("ads-active").checked ? "?active=true" : ""}`);
    const list = $("ads-list");
    if (!ads || !ads.length) list.replaceChildren(el("p", { class: "empty", text: "No ads yet: import an inventory with `adlens ads import`." }));
    else list.replaceChildren(...ads.map(adCard));
  });
}

// --- catalogue --------------------------------------------------------------------------------

function productButton(item) {
  const img = el("img", { alt: "", loading: "lazy" });
  if (item.image_url) imageUrl(item.image_url).then((src) => { img.src = src; }).catch(() => {});
  return el("button", { type: "button", class: "product", "aria-pressed": "false", dataset: { product: item.id },
    on: { click: (event) => showProduct(item, event.currentTarget) } },
    item.image_url ? img : el("span", { class: "noimage" }), el("span", { text: item.name || item.id }));
}

async function loadCatalog() {
  await guarded("catalog-message", async () => {
    const query = new URLSearchParams({ search: $("catalog-query").value.trim(), limit: String(PAGE_SIZE),
      offset: String(state.catalogOffset) });
    const page = await call(`/v1/catalog?${query}`);
    const items = page.items || [];
    // A short page is the last one, whatever the total says.
    const last = items.length < PAGE_SIZE;
    state.catalogTotal = last ? state.catalogOffset + items.length : Number(page.total) || 0;
    const grid = $("catalog-items");
    grid.replaceChildren(...(items.length ? items.map(productButton)
      : [el("p", { class: "empty", text: "No product matches." })]));
    grid.dataset.search = query.get("search"); // which search the grid shows (tests wait on it)
    const first = items.length ? state.catalogOffset + 1 : 0;
    $("catalog-range").textContent = `${first}–${state.catalogOffset + items.length} of ${state.catalogTotal}`;
    $("catalog-prev").disabled = state.catalogOffset <= 0;
    $("catalog-next").disabled = last || state.catalogOffset + items.length >= state.catalogTotal;
  });
}

/** A CSS colour for a colour name like "Navy Blue" ("navyblue" is not CSS, "navy" is), or "". */
function cssColour(name) {
  const words = String(name).toLowerCase().split(/[\s_-]+/).filter(Boolean);
  for (const candidate of [words.join(""), words[0], words[words.length - 1]]) {
    if (candidate && CSS.supports("color", candidate)) return candidate;
  }
  return "";
}

function weightList(weights, swatches = false) {
  const entries = Object.entries(weights || {}).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return el("p", { class: "empty", text: "none" });
  const top = Math.max(...entries.map(([, w]) => Number(w) || 0)) || 1;
  return el("ul", { class: "weights" }, entries.map(([name, weight]) => {
    const bar = el("i");
    bar.style.width = `${Math.max(0, Math.min(100, (100 * Number(weight)) / top))}%`;
    const label = el("span", {}, name);
    const colour = swatches ? cssColour(name) : "";
    if (colour) {
      const swatch = el("span", { class: "swatch", title: colour });
      swatch.style.background = colour;
      label.prepend(swatch);
    }
    return el("li", { dataset: { name } }, label, el("span", { class: "bar" }, bar),
      el("span", { class: "value", text: number(weight, 2) }));
  }));
}

async function showProduct(item, button) {
  for (const other of document.querySelectorAll(".product[aria-pressed=true]")) other.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-pressed", "true");
  const panel = $("product");
  const message = el("p", { class: "message", role: "alert", id: "product-message" });
  panel.replaceChildren(el("h2", { text: item.name || item.id }), el("p", { class: "hint", text: item.id }), message);
  try {
    const aspects = await call(`/v1/catalog/${encodeURIComponent(item.id)}/aspects`);
    const photo = el("img", { class: "photo", alt: item.name || item.id });
    if (item.image_url) imageUrl(item.image_url).then((src) => { photo.src = src; }).catch(() => {});
    const tokens = Object.entries(aspects.tokens || {}).sort((a, b) => b[1] - a[1]);
    panel.append(item.image_url ? photo : "",
      el("h3", { text: "Concepts" }), weightList(aspects.concepts),
      el("h3", { text: "Colours" }), weightList(aspects.colours, true),
      el("h3", { text: "Tokens" }), tokens.length
        ? el("div", { class: "chips" }, tokens.map(([token, w]) => el("span", { class: "chip", title: number(w, 2), text: token })))
        : el("p", { class: "empty", text: "none" }));
  } catch (error) {
    message.textContent = error.message;
    message.className = "message error";
  }
}

// --- customers and segments -------------------------------------------------------------------------

async function loadCustomers() {
  await guarded("customers-message", async () => {
    const { customers } = await call("/v1/customers");
    const tbody = $("customers").tBodies[0];
    if (!customers || !customers.length) return emptyRow(tbody, 4, "No customers yet.");
    tbody.replaceChildren(...customers.map((c) => el("tr", { class: "clickable", dataset: { customer: c.id },
      on: { click: (event) => showRecommendations(c.id, event.currentTarget) } },
      el("td", { text: c.id }), el("td", { class: "num", text: number(c.feedback_count) }),
      el("td", { text: c.segment === null || c.segment === undefined ? "–" : short(c.segment) }),
      el("td", { text: when(c.profile_updated_at) || "–" }))));
  });
}

async function showRecommendations(customer, row) {
  for (const other of document.querySelectorAll("#customers tr.selected")) other.classList.remove("selected");
  row.classList.add("selected");
  const panel = $("recommendations");
  const message = el("p", { class: "message", role: "alert" });
  panel.replaceChildren(el("h2", { text: `For ${customer}` }), message);
  try {
    const recs = await call(`/v1/customers/${encodeURIComponent(customer)}/recommendations?k=10`);
    if (recs.cold_start || recs.note) panel.append(el("p", { class: "hint", text: recs.note || "Cold start: popular products." }));
    const items = recs.items || [];
    panel.append(items.length ? el("ol", {}, items.map((item) => el("li", { dataset: { product: item.product } },
      el("strong", { text: item.name || item.product }), ` (${number(item.score, 2)})`,
      item.reasons && item.reasons.length ? el("div", { class: "hint", text: item.reasons.join("; ") }) : null)))
      : el("p", { class: "empty", text: "Nothing to recommend yet." }));
  } catch (error) {
    message.textContent = error.message;
    message.className = "message error";
  }
}

function segmentTable(segments) {
  if (!segments.length) return el("p", { class: "empty", text: "No segments yet: recompute them once customers have feedback." });
  return el("table", { id: "segments-table" },
    el("thead", {}, el("tr", {}, el("th", { text: "Segment" }), el("th", { text: "Label" }),
      el("th", { class: "num", text: "Customers" }), el("th", { text: "Strongest aspects" }))),
    el("tbody", {}, segments.map((s) => el("tr", { dataset: { segment: s.id } },
      el("td", { text: short(s.id) }), el("td", { text: s.label || "" }), el("td", { class: "num", text: number(s.size) }),
      el("td", {}, el("div", { class: "chips" }, (s.top_aspects || []).map((aspect) => el("span", { class: "chip",
        text: Array.isArray(aspect) ? `${aspect[0]} ${number(aspect[1], 2)}` : short(aspect) }))))))));
}

async function loadSegments() {
  await guarded("segments-message", async () => {
    const data = await call("/v1/segments");
    $("segments").replaceChildren(segmentTable(Array.isArray(data) ? data : data.segments || []));
  });
}

async function recomputeSegments() {
  const button = $("segments-recompute");
  button.disabled = true;
  await guarded("segments-message", async () => {
    const data = await call("/v1/segments", { method: "POST", json: { k: null } });
    $("segments").replaceChildren(segmentTable(Array.isArray(data) ? data : data.segments || []));
    loadCustomers();
  });
  button.disabled = false;
}

// --- consent register -------------------------------------------------------------------------

async function loadGallery() {
  const anonymous = state.who && state.who.mode !== "members";
  $("gallery-mode-note").hidden = !anonymous;
  $("enrol-submit").disabled = Boolean(anonymous);
  await guarded("members-message", async () => {
    const data = await call("/v1/gallery");
    const anonymousNow = data.mode && data.mode !== "members";
    $("gallery-mode-note").hidden = !anonymousNow;
    $("enrol-submit").disabled = Boolean(anonymousNow);
    const members = data.members || [];
    const tbody = $("members").tBodies[0];
    if (!members.length) return emptyRow(tbody, 6, "Nobody is enrolled.");
    tbody.replaceChildren(...members.map((m) => el("tr", { dataset: { customer: m.customer } },
      el("td", { text: m.customer }), el("td", { text: m.consent || "" }), el("td", { text: when(m.consented_at) }),
      el("td", {}, m.expires_at ? when(m.expires_at) : "never",
        m.expired ? el("span", { class: "badge bad", text: "expired" }) : null),
      el("td", { class: "num", text: number(m.embeddings) }),
      el("td", {}, el("button", { type: "button", class: "danger erase", text: "Erase",
        "aria-label": `Erase ${m.customer}`, on: { click: () => erase(m.customer) } })))));
  });
}

async function enrol(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData();
  data.append("customer", $("enrol-customer").value.trim());
  data.append("consent", $("enrol-consent").value.trim());
  if ($("enrol-expires").value) data.append("expires", $("enrol-expires").value);
  for (const file of $("enrol-images").files) data.append("images", file, file.name);
  $("enrol-submit").disabled = true;
  say("enrol-message", "Enrolling…", "info");
  try {
    const result = await call("/v1/gallery", { method: "POST", form: data });
    say("enrol-message", `Enrolled ${result.customer}: ${result.added} face sample(s) added, ${result.total} in all.`, "ok");
    form.reset();
    await loadGallery();
  } catch (error) {
    say("enrol-message", error.message);
  } finally {
    $("enrol-submit").disabled = Boolean(state.who && state.who.mode !== "members");
  }
}

async function erase(customer) {
  if (!confirm(`Erase ${customer}? This deletes their face samples, consent record, feedback and events. It cannot be undone.`)) return;
  let result;
  try {
    result = await call(`/v1/gallery/${encodeURIComponent(customer)}`, { method: "DELETE" });
  } catch (error) {
    say("members-message", error.message);
    return;
  }
  await loadGallery();
  say("members-message", `Erased ${result.customer}: ${short(result.erased)}.`, "ok");
}

// --- start ---------------------------------------------------------------------------------

async function identify() {
  for (;;) {
    if (!getKey()) await askKey("Enter an admin or analyst API key.");
    try {
      return await api("/v1/whoami");
    } catch (error) {
      if (error.status === 401) await askKey("That key was refused. Enter a valid key.");
      else {
        say("page-message", `${error.message} Retrying…`);
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    }
  }
}

function showWho(who) {
  state.who = who;
  const mode = $("mode");
  mode.textContent = `${who.mode} mode`;
  mode.className = `badge ${who.mode === "members" ? "members" : ""}`;
  $("who").textContent = `${who.name || who.key} · ${who.role}`;
  say("page-message", "");
}

async function main() {
  const fragment = takeFragment();
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.addEventListener("click", () => openTab(button.dataset.tab));
  }
  $("change-key").addEventListener("click", async () => {
    await askKey("Enter another API key.");
    showWho(await identify());
    openTab(state.tab);
  });
  $("report-refresh").addEventListener("click", loadReport);
  $("report-since").addEventListener("change", loadReport);
  // A click on the enlarged plot (or its backdrop) closes it, as Esc and the close button do.
  $("plot-dialog").addEventListener("click", (event) => {
    if (event.target.closest(".plot-close") === null) $("plot-dialog").close();
  });
  $("ads-refresh").addEventListener("click", loadAds);
  $("ads-active").addEventListener("change", loadAds);
  $("catalog-search").addEventListener("submit", (event) => {
    event.preventDefault();
    state.catalogOffset = 0;
    loadCatalog();
  });
  $("catalog-prev").addEventListener("click", () => {
    state.catalogOffset = Math.max(0, state.catalogOffset - PAGE_SIZE);
    loadCatalog();
  });
  $("catalog-next").addEventListener("click", () => {
    state.catalogOffset += PAGE_SIZE;
    loadCatalog();
  });
  $("customers-refresh").addEventListener("click", loadCustomers);
  $("segments-recompute").addEventListener("click", recomputeSegments);
  $("members-refresh").addEventListener("click", loadGallery);
  $("enrol-form").addEventListener("submit", enrol);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refreshLive(); });

  showWho(await identify());
  openTab(fragment.get("tab") || localStorage.getItem("adlens.tab") || "live");
}

main();
