// The shop display: one camera frame a second goes to /v1/decide (live), the chosen
// creative fills the screen. Without a camera it plays the server's slideshow for this
// screen (what a decision for nobody may choose now), logging each slide it shows.
// Failures never cover the ad: the last creative stays up and a small dot turns amber.

import { api, askKey, getKey, imageUrl, takeFragment } from "./common.js";

const FRAME_MS = 1000; // one decision a second, as `adlens signage` does
const CAPTURE_WIDTH = 640; // enough for faces a few metres away; keeps uploads small
const DEFAULT_DURATION = 10; // seconds, when a creative names none
const CAMERA_WAIT_MS = 5000; // a permission prompt nobody answers must not leave the screen blank
const FAILURES_BEFORE_SLIDESHOW = 5;
const MAX_BACKOFF_MS = 15000;
const REQUEST_TIMEOUT_MS = 20000;
const PLAYLIST_REFRESH_S = 60; // when the server names no refresh time

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (failures) => Math.min(1000 * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);

const fragment = takeFragment();
if (fragment.get("screen")) localStorage.setItem("adlens.screen", fragment.get("screen"));
let screenId = localStorage.getItem("adlens.screen") || "";

function setState(state) {
  document.body.dataset.state = state;
}

function setStatus(status, detail) {
  const dot = $("status");
  dot.dataset.status = status;
  dot.title = `${screenId || "screen"}: ${detail || status}`;
}

// --- what is on screen -----------------------------------------------------------------

let shown = null; // "ad/creative" now on screen
let showToken = 0; // the newest request to show something wins, whoever made it

/** Put a creative on screen once its picture is fetched and decoded (no half-drawn frames). */
async function showCreative({ ad, creative, url, caption, name }, stillWanted = () => true) {
  const key = `${ad}/${creative}`;
  if (!url || key === shown) return;
  const token = ++showToken;
  const src = await imageUrl(url);
  const probe = new Image();
  probe.src = src;
  await probe.decode();
  if (token !== showToken || !stillWanted()) return;
  const img = $("creative");
  img.src = src;
  img.alt = name || caption || "";
  img.dataset.ad = ad;
  img.dataset.creative = creative;
  img.hidden = false;
  const text = $("caption");
  text.textContent = caption || "";
  text.hidden = !caption;
  $("idle").hidden = true;
  shown = key;
}

function showIdle() {
  showToken++;
  shown = null;
  $("creative").hidden = true;
  $("creative").dataset.ad = "";
  $("creative").dataset.creative = "";
  $("caption").hidden = true;
  $("idle").hidden = false;
}

function showPrivacy(who) {
  const privacy = who.privacy || {};
  const mode = privacy.mode || who.mode || "anonymous";
  if (privacy.notice) $("privacy-notice").textContent = privacy.notice;
  const analysed = Array.isArray(privacy.analysed) ? privacy.analysed : [];
  $("privacy-analysed").textContent = analysed.length ? `Analysed: ${analysed.join(", ")}.` : "";
  const kept = privacy.images_kept ? "Camera images are kept." : "No image is kept.";
  const stored = privacy.stored ? ` Stored: ${String(privacy.stored).replace(/[.\s]*$/, ".")}` : "";
  $("privacy-kept").textContent = kept + stored;
  $("privacy-mode").textContent = `Mode: ${mode}.`;
  document.body.dataset.mode = mode;
}

// --- the key ------------------------------------------------------------------------------

async function whoami() {
  for (let failures = 1; ; failures++) {
    if (!getKey()) await askKey("Enter this screen's API key.");
    try {
      return await api("/v1/whoami");
    } catch (error) {
      if (error.status === 401) {
        await askKey("That key was refused. Enter a valid key.");
        continue;
      }
      setStatus("offline", error.message);
      await sleep(backoff(failures));
    }
  }
}

// --- slideshow (no camera) -----------------------------------------------------------------

/** This screen's playlist, from the server: the creatives a decision for nobody in front of
 * this screen may choose now (its screens, hours, exclusions and daily caps; no targeted ad,
 * and no age-restricted one, since without a camera nobody's age is checked), best first,
 * with the time to ask again (hours change). */
async function playlist() {
  const query = new URLSearchParams({ screen: screenId });
  const { slides, refresh } = await api(`/v1/slideshow?${query}`);
  const items = (slides || []).map((slide) => ({ ...slide, name: slide.ad_name,
    duration: Number(slide.duration) || DEFAULT_DURATION }));
  return { items, until: performance.now() + (Number(refresh) || PLAYLIST_REFRESH_S) * 1000 };
}

/** Ask the server whether a slide may still play now; when it may, its play is logged (caps and
 * reports count it) and `played` is true. */
function logSlide(item) {
  return api("/v1/slideshow/plays", { method: "POST",
    json: { screen: screenId, ad: item.ad, creative: item.creative } });
}

const slideshow = {
  run: 0,
  running: false,
  start() {
    if (this.running) return;
    this.running = true;
    setState("slideshow");
    this.loop(++this.run);
  },
  stop() {
    this.running = false;
    this.run++;
  },
  async loop(run) {
    const current = () => run === this.run;
    for (let failures = 0, quiet = 0; current(); ) {
      let list;
      try {
        list = await playlist();
        failures = 0;
      } catch (error) {
        failures++;
        if (error.status === 401) await askKey("That key was refused. Enter a valid key.");
        else setStatus("retrying", error.message);
        await sleep(backoff(failures));
        continue;
      }
      if (!current()) return;
      if (!list.items.length) {
        showIdle();
        setStatus("ok", "no ad may play here now");
        await sleep(Math.max(0, Math.min(DEFAULT_DURATION * 1000, list.until - performance.now())));
        continue;
      }
      // Nothing played (every slide refused or unreachable): ask again, more gently each time.
      quiet = (await this.playAll(list, current)) ? 0 : quiet + 1;
      if (quiet && current()) await sleep(backoff(quiet));
    }
  },
  /** Play the playlist once, or until it is due for a refresh, skipping the slides the server
   * refuses now (a cap filled, hours ended) or that cannot be shown; returns how many played. */
  async playAll(list, current) {
    let played = 0;
    for (const item of list.items) {
      if (!current() || performance.now() >= list.until) break;
      let answer;
      try {
        await imageUrl(item.url); // fetched before the play is logged: a missing picture logs nothing
        answer = await logSlide(item);
      } catch (error) {
        if (error.status === 401) await askKey("That key was refused. Enter a valid key.");
        else setStatus("retrying", error.message || "slide not shown");
        continue;
      }
      if (!answer.played || !current()) continue;
      try {
        await showCreative(item, current);
        setStatus("ok", `slideshow: ${item.ad}`);
      } catch (error) {
        setStatus("retrying", error.message || "creative not shown");
      }
      played++;
      await sleep((Number(answer.duration) || item.duration) * 1000);
    }
    return played;
  },
};

// --- camera -----------------------------------------------------------------------------

async function openCamera() {
  // No mediaDevices outside a secure context (https, or http on localhost).
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return null;
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
  } catch {
    return null; // refused, or no camera: the slideshow takes over
  }
}

function grab(video) {
  if (!video.videoWidth) return Promise.resolve(null);
  const canvas = $("frame");
  const scale = Math.min(1, CAPTURE_WIDTH / video.videoWidth);
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
}

async function decide(frame) {
  const form = new FormData();
  form.append("image", frame, "frame.jpg");
  form.append("screen", screenId);
  form.append("live", "true");
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    return await api("/v1/decide", { method: "POST", form, signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function runCamera(stream) {
  const video = $("camera");
  video.srcObject = stream;
  await video.play();
  const [track] = stream.getVideoTracks();
  slideshow.stop();
  setState("camera");
  let failures = 0;
  while (track.readyState === "live") {
    const started = performance.now();
    let wait = FRAME_MS;
    try {
      const frame = await grab(video);
      if (frame) {
        const decision = await decide(frame);
        failures = 0;
        if (slideshow.running) {
          slideshow.stop();
          setState("camera");
        }
        setStatus("ok", decision.ad ? `playing ${decision.ad}` : "no eligible ad");
        // No ad: the last creative (or the idle screen) stays.
        if (decision.ad && decision.creative_url) {
          await showCreative({ ad: decision.ad, creative: decision.creative, url: decision.creative_url,
            caption: decision.creative_spec && decision.creative_spec.caption, name: decision.ad_name });
        }
      }
    } catch (error) {
      failures++;
      if (error.status === 401) {
        await askKey("That key was refused. Enter a valid key.");
        continue;
      }
      setStatus("retrying", error.message || "no answer");
      wait = error.retryAfter ? error.retryAfter * 1000 : backoff(failures);
      // A long outage: rotate the ads rather than freeze on one.
      if (failures >= FAILURES_BEFORE_SLIDESHOW) slideshow.start();
    }
    await sleep(Math.max(0, wait - (performance.now() - started)));
  }
  // The camera went away (unplugged, or revoked): carry on without it.
  slideshow.start();
}

// --- start --------------------------------------------------------------------------------

async function main() {
  const who = await whoami();
  showPrivacy(who);
  screenId = screenId || who.screen || "default";
  setStatus("ok", "connected");
  const camera = openCamera();
  const timer = setTimeout(() => slideshow.start(), CAMERA_WAIT_MS);
  const stream = await camera;
  clearTimeout(timer);
  if (stream) await runCamera(stream);
  else slideshow.start();
}

// A click or key press goes full screen (browsers allow it only after a gesture).
for (const event of ["click", "keydown"]) {
  document.addEventListener(event, () => {
    if (!document.fullscreenElement && !document.getElementById("key-prompt")) {
      document.documentElement.requestFullscreen?.().catch(() => {});
    }
  });
}
// Keep the display awake where the browser allows it.
navigator.wakeLock?.request("screen").catch(() => {});

main();
