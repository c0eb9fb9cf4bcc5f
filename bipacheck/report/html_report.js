"use strict";
// Draws the findings (grouped by photo) and the person roll-up from the embedded JSON, a page at a
// time. Text from the report is only ever set with textContent: file names come from uploaders.
(function () {
  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const PAGE = 50;
  const SVG = "http://www.w3.org/2000/svg";
  const state = { rule: "", severity: "", subject: "", pack: "", shown: 0, matching: [] };

  function el(tag, attrs, ...children) {
    const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  const subjectOf = (face) => face.subject_id || "unidentified";
  // evidence opens only when the reader clicks it (nothing is fetched on load); the name keeps the table narrow
  const safeLink = (uri) => /^https?:\/\//i.test(uri || "")
    ? el("a", { href: uri, title: uri, rel: "noopener noreferrer", target: "_blank" }, uri.split("/").pop() || uri)
    : (uri || "-");

  function findingMatches(photo, f) {
    if (state.rule && f.rule !== state.rule) return false;
    if (state.severity && (f.suppressed ? "accepted" : f.severity) !== state.severity) return false;
    if (state.pack && f.pack !== state.pack) return false;
    if (state.subject && !f.faces.some((i) => subjectOf(photo.faces[i]) === state.subject)) return false;
    return true;
  }
  function photoMatches(photo) {
    if (!state.rule && !state.severity && !state.pack && !state.subject) return true;
    if (photo.findings.some((f) => findingMatches(photo, f))) return true;
    // a subject alone also finds the photos where that person is consented (no finding)
    return !state.rule && !state.severity && !state.pack && photo.faces.some((f) => subjectOf(f) === state.subject);
  }

  function thumbnail(photo, id) {
    const w = photo.width, h = photo.height;
    const scale = Math.min(1, 320 / Math.max(w, h));
    const svg = el("svg:svg", { viewBox: `0 0 ${w} ${h}`, width: Math.round(w * scale), height: Math.round(h * scale),
                                class: "thumb", "data-photo": id, role: "img", "aria-label": "faces in the photo" });
    if (photo.thumb) {
      const defs = el("svg:defs", {},
        el("svg:filter", { id: `blur-${id}`, x: "-10%", y: "-10%", width: "120%", height: "120%" },
          el("svg:feGaussianBlur", { stdDeviation: Math.max(w, h) / 40 })));
      svg.append(defs, el("svg:image", { id: `img-${id}`, href: photo.thumb, width: w, height: h, preserveAspectRatio: "none" }));
      photo.faces.forEach((face, i) => {
        if (!face.blur || DATA.thumbnails !== "embed") return;  // "blurred": already blurred in the pixels
        const [x, y, bw, bh] = face.box;
        defs.append(el("svg:clipPath", { id: `clip-${id}-${i}` }, el("svg:rect", { x, y, width: bw, height: bh })));
        svg.append(el("svg:use", { href: `#img-${id}`, class: "veil", "clip-path": `url(#clip-${id}-${i})`, filter: `url(#blur-${id})` }));
      });
    }
    const font = Math.max(w, h) / 22;
    photo.faces.forEach((face, i) => {
      const [x, y, bw, bh] = face.box;
      svg.append(el("svg:rect", { x, y, width: bw, height: bh, class: `box ${face.status}`, "data-face": i,
                                  "data-status": face.status, "data-subject": subjectOf(face) },
                    el("svg:title", {}, `#${i + 1} ${subjectOf(face)}: ${face.status}`)));
      svg.append(el("svg:text", { x: x + 2, y: Math.max(font, y - 4), class: `label ${face.status}`, "font-size": font }, `#${i + 1}`));
    });
    return svg;
  }

  const day = (iso) => (iso || "").slice(0, 10);
  function releaseDates(c) {
    if (!c || !c.granted_at) return "-";
    const span = `${day(c.granted_at)} → ${day(c.expires_at) || "open"}`;
    return c.revoked_at ? `${span}, revoked ${day(c.revoked_at)}` : span;
  }

  function faceTable(photo) {
    const table = el("table", { class: "grid faces" }, el("tr", {}, ...["#", "Status", "Subject", "Release",
      "Valid", "Evidence", "Found by"].map((t) => el("th", {}, t))));
    photo.faces.forEach((face, i) => {
      const release = face.consent_id ? `${face.consent_status} (${face.consent_id})` : face.consent_status;
      table.append(el("tr", { "data-face": i },
        el("td", {}, `#${i + 1}`), el("td", {}, el("span", { class: `sev ${face.status}` }, face.status)),
        el("td", {}, subjectOf(face)), el("td", {}, release), el("td", { class: "date" }, releaseDates(face.consent)),
        el("td", {}, safeLink((face.consent || {}).evidence_uri)),
        el("td", {}, (face.score === null ? face.source : `${face.source} ${face.score.toFixed(2)}`)
          + (face.found_in ? `, in ${face.found_in}` : ""))));  // an alpha view or an embedded image
    });
    return table;
  }

  function photoCard(photo, id) {
    const details = el("div", { class: "details" });
    if (photo.faces.length) details.append(faceTable(photo));
    for (const f of photo.findings) {
      if (!findingMatches(photo, f)) continue;
      const sev = f.suppressed ? "accepted" : f.severity;
      details.append(el("div", { class: `finding${f.suppressed ? " suppressed" : ""}`, "data-rule": f.rule },
        el("span", { class: `sev ${sev}` }, sev), " ", el("code", {}, f.rule), ` ${f.pack} · ${f.citation}`,
        f.faces.length ? ` · face ${f.faces.map((i) => "#" + (i + 1)).join(", ")}` : "",
        el("div", {}, f.message),
        f.suppressed ? el("div", { class: "note" }, `accepted in the baseline: ${f.justification || "no justification"}`) : null,
        el("div", { class: "note mono" }, `fingerprint ${f.fingerprint}`)));
    }
    const meta = photo.sha256 ? `SHA-256 ${photo.sha256} · ${photo.width}×${photo.height}` : "";
    return el("article", { class: "photo", "data-worst": photo.worst, "data-path": photo.path },
      el("h3", {}, photo.path), el("div", { class: "note mono" }, meta),
      photo.when ? el("div", { class: "note when" }, photo.when) : null,
      photo.note ? el("div", { class: "note thumb-note" }, photo.note) : null,
      el("div", { class: "body" }, photo.width ? thumbnail(photo, id) : null, details));
  }

  function showMore() {
    const root = document.getElementById("photos");
    const end = Math.min(state.matching.length, state.shown + PAGE);
    for (let k = state.shown; k < end; k++) root.append(photoCard(DATA.photos[state.matching[k]], state.matching[k]));
    state.shown = end;
    document.getElementById("more").classList.toggle("hidden", end >= state.matching.length);
    document.getElementById("count").textContent =
      `${state.matching.length} of ${DATA.photos.length} photo(s) match; showing ${end}`;
  }

  function apply() {
    document.getElementById("photos").replaceChildren();
    state.matching = DATA.photos.map((p, i) => (photoMatches(p) ? i : -1)).filter((i) => i >= 0);
    state.shown = 0;
    showMore();
  }

  function select(key, label, values) {
    const s = el("select", { id: `filter-${key}`, "aria-label": label }, el("option", { value: "" }, "all"),
      ...[...values].sort().map((v) => el("option", { value: v }, v)));
    s.addEventListener("change", () => { state[key] = s.value; apply(); });
    return el("label", {}, `${label} `, s);
  }
  // thousands of subjects make a drop-down unusable: a search box with suggestions instead
  function search(key, label, values) {
    const list = el("datalist", { id: `${key}-values` }, ...[...values].sort().map((v) => el("option", { value: v })));
    const input = el("input", { id: `filter-${key}`, type: "search", list: `${key}-values`, placeholder: "all",
                                "aria-label": label, size: 18 });
    input.addEventListener("change", () => { state[key] = input.value.trim(); apply(); });
    return el("label", {}, `${label} `, input, list);
  }

  function filters() {
    const rules = new Set(), severities = new Set(), subjects = new Set(), packs = new Set();
    for (const p of DATA.photos) {
      p.faces.forEach((f) => subjects.add(subjectOf(f)));
      for (const f of p.findings) { rules.add(f.rule); severities.add(f.suppressed ? "accepted" : f.severity); packs.add(f.pack); }
    }
    const box = document.getElementById("filters");
    box.append(select("rule", "Rule", rules), select("severity", "Severity", severities),
               search("subject", "Subject", subjects), select("pack", "Pack", packs));
    if (DATA.thumbnails === "embed") {
      const reveal = el("input", { type: "checkbox", id: "reveal" });
      reveal.addEventListener("change", () => document.body.classList.toggle("revealed", reveal.checked));
      box.append(el("label", {}, reveal, "Reveal faces without a release"));
    }
    box.append(el("span", { id: "count", class: "note" }));
    const more = el("button", { id: "more", type: "button" }, "Show more photos");
    more.addEventListener("click", showMore);
    document.getElementById("photos").after(more);
  }

  function persons() {
    const table = el("table", { class: "grid", id: "persons-grid" }, el("tr", {}, ...["Person", "Status", "Release",
      "Valid", "Evidence", "Processed", "Photos", "Faces", "Rules"].map((t) => el("th", {}, t))));
    const more = el("button", { id: "more-persons", type: "button" }, "Show more persons");
    let shown = 0;
    const page = () => {
      const end = Math.min(DATA.persons.length, shown + 4 * PAGE);
      DATA.persons.slice(shown, end).forEach(personRow.bind(null, table));
      shown = end;
      more.classList.toggle("hidden", end >= DATA.persons.length);
    };
    more.addEventListener("click", page);
    page();
    document.getElementById("person-table").append(table, more);
  }

  function personRow(table, p) {
    const release = p.consent_id ? `${p.consent_status} (${p.consent_id})` : p.consent_status;
    table.append(el("tr", { "data-key": p.key, "data-status": p.status },
      el("td", { class: "mono", title: p.key }, p.subject_id || `unlinked face (${(p.photos[0] || "?").split("/").pop()})`),
      el("td", {}, el("span", { class: `sev ${p.status}` }, p.status)), el("td", {}, release),
      el("td", { class: "date" }, releaseDates(p.consent)),
      el("td", { class: "evidence" }, safeLink((p.consent || {}).evidence_uri), evidenceStatus(p.consent)),
      el("td", { class: "date processed" }, p.first_processed ? `${day(p.first_processed)} → ${day(p.last_processed)}` : "-"),
      el("td", {}, String(p.photos.length)), el("td", {}, String(p.faces)), el("td", {}, p.rules.join(", ") || "-")));
  }

  // what opening the release's signed document found (--evidence); nothing when documents were not opened
  const evidenceStatus = (c) => (c && c.evidence ? ` (${c.evidence.status})` : null);

  filters();
  apply();
  persons();
})();
