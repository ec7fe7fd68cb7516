// Video Annotator front end, on top of htmx and its ws extension:
// - websocket JSON events → DOM events "va:<type-with-dashes>" on <body> (hx-trigger="va:x from:body"),
// - keyboard-first labeling of shot cards (arrows/J/K move, P/N/U label, Z undo, Enter details, 1–5 feeds),
// - hover/focus previews, toasts, and a live feed refresh that keeps focus and waits for labels in flight.
(function () {
  "use strict";
  const body = document.body;
  const project = body.dataset.project;

  // --- Websocket events (the socket itself is htmx's ws extension: ws-connect on <body>) -------------
  // Parts that re-fetch on busy events throttle their trigger, and htmx's throttle drops what arrives inside
  // its window: "va:<type>-settled" follows once a burst of one type is over (SETTLE_MS after its last
  // event, longer than any throttle window), so every part ends on the latest state; triggers list both.
  const SETTLE_MS = 1200;
  const settleTimers = {};
  body.addEventListener("htmx:wsBeforeMessage", (e) => {
    e.preventDefault(); // our messages are JSON events, not HTML fragments to swap
    let event;
    try { event = JSON.parse(e.detail.message); } catch (err) { return; }
    if (!event.type) return;
    const name = "va:" + event.type.replace(/\./g, "-");
    body.dispatchEvent(new CustomEvent(name, { detail: event }));
    clearTimeout(settleTimers[name]);
    settleTimers[name] = setTimeout(() => body.dispatchEvent(new CustomEvent(name + "-settled")), SETTLE_MS);
  });
  // Events sent while the socket was down are lost: after a reconnect, "va:resync" re-fetches every part.
  let wasOpen = false;
  body.addEventListener("htmx:wsOpen", () => {
    body.dataset.live = "1";
    if (wasOpen) body.dispatchEvent(new CustomEvent("va:resync"));
    wasOpen = true;
  });
  body.addEventListener("htmx:wsClose", () => { body.dataset.live = "0"; });

  // --- Toasts ----------------------------------------------------------------------------------------
  function toast(text, kind) {
    const region = document.getElementById("toast");
    if (!region) return;
    const item = document.createElement("div");
    item.className = "toast" + (kind ? " " + kind : "");
    item.textContent = text;
    region.prepend(item);
    setTimeout(() => item.remove(), kind === "error" ? 8000 : 3500);
    while (region.children.length > 4) region.lastChild.remove();
  }
  body.addEventListener("va-toast", (e) => toast(e.detail.text));

  // --- Cards and focus ---------------------------------------------------------------------------------
  const grid = () => document.querySelector("[data-grid]");
  const cards = () => Array.from(document.querySelectorAll("[data-grid] .shot"));
  const cardOf = (shotId) => document.getElementById("shot-" + shotId);
  function focusedCard() {
    const el = document.activeElement;
    return el && el.closest ? el.closest("[data-grid] .shot") : null;
  }
  function focusIndex(i) {
    const list = cards();
    if (!list.length) return;
    const card = list[Math.max(0, Math.min(i, list.length - 1))];
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }
  function columns() {
    const list = cards();
    if (list.length < 2) return 1;
    const top = list[0].offsetTop;
    const n = list.findIndex((c) => c.offsetTop !== top);
    return n === -1 ? list.length : n;
  }
  function move(step) {
    const current = focusedCard();
    focusIndex(current ? cards().indexOf(current) + step : 0);
  }

  // --- Labeling: buttons are htmx posts; we track them to keep focus, show errors and defer refreshes --
  const inflight = new Map(); // xhr → {shotId, index}
  let refreshWanted = false;
  body.addEventListener("htmx:beforeRequest", (e) => {
    const button = e.detail.elt;
    if (!button.matches || !button.matches("[data-label]")) return;
    const origin = button.closest(".shot, .shot-detail");
    inflight.set(e.detail.xhr, { shotId: origin.dataset.shot, fromGrid: !!origin.closest("[data-grid]") });
    origin.classList.add("saving");
    const error = origin.querySelector(".card-error");
    if (error) error.textContent = "";
  });
  body.addEventListener("htmx:afterRequest", (e) => {
    const info = inflight.get(e.detail.xhr);
    if (!info) return;
    inflight.delete(e.detail.xhr);
    const xhr = e.detail.xhr;
    if (e.detail.successful) {
      let value = "";
      try { value = JSON.parse(xhr.getResponseHeader("HX-Trigger"))["va-labeled"].value; } catch (err) { /* keep "" */ }
      labeled(info, value);
    } else {
      const reason = xhr.status ? (xhr.responseText || xhr.statusText) : "network error — check your connection";
      document.querySelectorAll('[data-shot="' + info.shotId + '"]').forEach((el) => {
        el.classList.remove("saving");
        el.classList.add("failed");
        const error = el.querySelector(".card-error");
        if (error) error.textContent = "Not saved: " + reason;
      });
      toast("Label not saved: " + reason, "error");
    }
    if (!inflight.size && refreshWanted) refreshFeed();
  });

  function labeled(info, value) {
    const g = grid();
    const card = cardOf(info.shotId);
    const inGrid = !!(card && g && g.contains(card));
    if (inGrid && g.hasAttribute("data-removes-labeled")) {
      const index = cards().indexOf(card);
      card.remove(); // the feed shows unlabeled shots only
      if (!g.querySelector(".shot")) g.insertAdjacentHTML("beforeend", '<p class="empty">Feed done — new shots arrive with the next model.</p>');
      if (info.fromGrid) focusIndex(index);
    } else if (inGrid && info.fromGrid) {
      focusIndex(cards().indexOf(card) + 1);
    } else if (inGrid) {
      refreshCard(info.shotId);
    }
    toast("Labeled " + value + " · Z undoes");
    refreshDetail(info.shotId);
  }

  function labelFocused(value) {
    const card = focusedCard() || document.querySelector("#detail .shot-detail");
    if (!card) { toast("Select a shot first (arrow keys or J/K)."); return; }
    const button = card.querySelector('[data-label="' + value + '"]');
    if (button) button.click();
  }

  function undo() {
    if (!project || body.dataset.canLabel !== "1") return;
    htmx.ajax("POST", "/projects/" + project + "/labels/undo/", { source: body, swap: "none", values: { page: location.pathname } });
  }
  body.addEventListener("va-undone", (e) => {
    toast("Undone: shot " + e.detail.shot_id + " is " + (e.detail.value || "unlabeled") + " again.");
    const g = grid();
    if (g && g.hasAttribute("data-removes-labeled")) refreshFeed();
    else refreshCard(e.detail.shot_id);
    refreshDetail(e.detail.shot_id);
  });

  // --- Live updates --------------------------------------------------------------------------------------
  function refreshFeed() {
    const g = grid();
    if (!g || !g.dataset.refreshUrl) return;
    if (inflight.size) { refreshWanted = true; return; } // never drop a label click in flight
    refreshWanted = false;
    const current = focusedCard();
    const keep = current ? { shotId: current.dataset.shot, index: cards().indexOf(current) } : null;
    const detailOpen = document.activeElement && document.activeElement.closest && document.activeElement.closest("#detail");
    htmx.ajax("GET", g.dataset.refreshUrl, { target: "#results", swap: "innerHTML" }).then(() => {
      if (!keep || detailOpen) return;
      const again = cardOf(keep.shotId);
      if (again) again.focus({ preventScroll: true });
      else focusIndex(keep.index);
    });
  }
  function refreshCard(shotId) {
    const card = cardOf(shotId);
    if (card && card.dataset.cardUrl && !card.classList.contains("saving")) {
      htmx.ajax("GET", card.dataset.cardUrl, { target: card, swap: "outerHTML" });
    }
  }
  function refreshDetail(shotId) {
    const panel = document.querySelector("#detail .shot-detail");
    if (panel && panel.dataset.shot === String(shotId)) {
      htmx.ajax("GET", panel.dataset.detailUrl, { target: "#detail", swap: "innerHTML" });
    }
  }
  body.addEventListener("va:feeds-updated", refreshFeed);
  body.addEventListener("va:resync", refreshFeed);
  body.addEventListener("va:labels-changed", (e) => {
    if (String(e.detail.user_id) === body.dataset.user) return;
    refreshCard(e.detail.shot_id);
    refreshDetail(e.detail.shot_id);
  });

  // --- Previews: hover or keyboard focus plays the shot's short preview, muted and looped -------------
  function startPreview(card) {
    const src = card.dataset.preview;
    const thumb = card.querySelector(".thumb");
    if (!src || !thumb) return;
    let video = thumb.querySelector("video.preview");
    if (!video) {
      video = document.createElement("video");
      Object.assign(video, { muted: true, loop: true, playsInline: true, preload: "auto", src: src });
      video.className = "preview";
      thumb.appendChild(video);
    }
    video.hidden = false;
    video.play().catch(() => {});
  }
  function stopPreview(card) {
    const video = card.querySelector("video.preview");
    if (video) { video.pause(); video.hidden = true; }
  }
  document.addEventListener("mouseover", (e) => {
    const card = e.target.closest && e.target.closest(".shot");
    if (card && !(e.relatedTarget && card.contains(e.relatedTarget))) startPreview(card);
  });
  document.addEventListener("mouseout", (e) => {
    const card = e.target.closest && e.target.closest(".shot");
    if (card && !(e.relatedTarget && card.contains(e.relatedTarget)) && !card.contains(document.activeElement)) stopPreview(card);
  });
  document.addEventListener("focusin", (e) => {
    const card = e.target.closest && e.target.closest(".shot");
    if (card) startPreview(card);
  });
  document.addEventListener("focusout", (e) => {
    const card = e.target.closest && e.target.closest(".shot");
    if (card && !card.contains(e.relatedTarget)) stopPreview(card);
  });

  // --- Review tab: select all ------------------------------------------------------------------------------
  document.addEventListener("change", (e) => {
    if (!e.target.matches("[data-select-all]")) return;
    const form = e.target.closest("form");
    form.querySelectorAll('input[name="shot"]').forEach((box) => { box.checked = e.target.checked; });
  });

  // --- Keyboard -------------------------------------------------------------------------------------------
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      if (e.key === "Escape") target.blur();
      return;
    }
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const canLabel = body.dataset.canLabel === "1";
    const actions = {
      ArrowRight: () => move(1), j: () => move(1),
      ArrowLeft: () => move(-1), k: () => move(-1),
      ArrowDown: () => move(columns()), ArrowUp: () => move(-columns()),
      p: () => canLabel && labelFocused("positive"),
      n: () => canLabel && labelFocused("negative"),
      u: () => canLabel && labelFocused("unsure"),
      z: () => canLabel && undo(),
      Enter: () => { const card = focusedCard(); if (card) card.querySelector(".thumb").click(); },
      Escape: () => { const detail = document.getElementById("detail"); if (detail) detail.innerHTML = ""; },
      "/": () => { const box = document.getElementById("search-box"); if (box) box.focus(); },
      "?": () => { const help = document.getElementById("keys-help"); if (help) help.hidden = !help.hidden; },
    };
    let action = actions[key];
    if (!action && /^[1-9]$/.test(key)) {
      const tab = document.querySelector('[data-feed-key="' + key + '"]');
      if (tab) action = () => tab.click();
    }
    if (!action) return;
    if (key === "Enter" && !focusedCard()) return; // let Enter activate links and buttons
    e.preventDefault();
    action();
  });

  // After a feed switch or refresh puts a new grid in place, keep the keyboard on the grid.
  body.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target.id === "results" && !focusedCard() && document.activeElement === body) focusIndex(0);
  });
})();
