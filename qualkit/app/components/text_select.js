// qualkit text selector: select words in a transcript with the mouse or the keyboard, pick a code, done.
//
// Python sends the passages already cut into pieces (words, gaps, coded-span edges); every word carries its
// absolute offsets in Unicode code points. This script never computes an offset from a JavaScript string
// (those count UTF-16 units): it only finds which words are selected and sends back the offsets it was given.
// No network, no libraries: plain DOM. Mounted without a shadow root so window.getSelection() sees the text.

const PAGE_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"]);
// Opening quote or bracket -> its closing one, and back.
const PAIRS = { "‘": "’", "“": "”", "(": ")", "[": "]", "«": "»", "„": "“", '"': '"' };
const CLOSERS = Object.fromEntries(Object.entries(PAIRS).map(([open, close]) => [close, open]));

function fold(text) {
  return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

class Selector {
  constructor(root) {
    this.root = root;
    this.generation = 0;
    this.anchor = null; // global word index where the selection started, or null
    this.focusWord = null; // the other end
    this.caret = 0; // the keyboard's word
    this.painted = [];
    this.dragging = false;
    this.target = null; // a highlight the reader opened from its chip
    this.region = el("div", "qk-region");
    this.region.tabIndex = 0;
    this.region.setAttribute("role", "application");
    this.region.setAttribute("aria-roledescription", "transcript");
    this.live = el("div", "qk-live");
    this.live.setAttribute("aria-live", "polite");
    this.picker = el("div", "qk-pick");
    this.picker.hidden = true;
    this.picker.setAttribute("role", "dialog");
    this.picker.setAttribute("aria-label", "Code the selection");
    root.append(this.region, this.picker, this.live);

    this.onKey = (e) => this.key(e);
    this.onDown = (e) => this.down(e);
    this.onUp = (e) => this.up(e);
    this.onSelectionChange = () => this.selectionChanged();
    this.onOutside = (e) => {
      if (!this.picker.hidden && !this.root.contains(e.target)) this.closePicker(false);
    };
    this.region.addEventListener("keydown", this.onKey);
    this.region.addEventListener("mousedown", this.onDown);
    document.addEventListener("mouseup", this.onUp);
    document.addEventListener("selectionchange", this.onSelectionChange);
    document.addEventListener("mousedown", this.onOutside);
    this.picker.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); this.closePicker(true); }
    });
    this.region.addEventListener("focus", () => this.paint());
    this.region.addEventListener("blur", () => this.paint());
    this.region.addEventListener("click", (e) => {
      const chip = e.target.closest(".qk-chip");
      if (chip) this.openHighlight(Number(chip.dataset.h), e.detail === 0);
    });
  }

  dispose() {
    document.removeEventListener("mouseup", this.onUp);
    document.removeEventListener("selectionchange", this.onSelectionChange);
    document.removeEventListener("mousedown", this.onOutside);
    this.root.remove();
  }

  update(args) {
    this.data = args.data || {};
    this.setState = args.setStateValue;
    this.setTrigger = args.setTriggerValue;
    this.generation += 1;
    this.render();
    return this.generation;
  }

  // ------------------------------------------------------------------ drawing
  render() {
    const d = this.data;
    const hadFocus = this.root.contains(document.activeElement) || this.restoreFocus;
    const keep = this.words && this.words[this.caret] ? this.words[this.caret] : null;
    this.region.replaceChildren();
    this.closePicker(false);
    this.words = [];
    this.P = [];
    this.painted = [];
    this.anchor = this.focusWord = null;
    this.highlights = d.highlights || [];
    this.looks = d.looks || [];
    this.codes = d.codes || null;
    this.readonly = !!d.readonly;
    this.region.setAttribute("aria-label", d.aria_label || "Transcript text");
    this.region.setAttribute("aria-description", this.readonly
      ? "Arrow keys move word by word; Shift and an arrow key selects."
      : "Arrow keys move word by word; Shift and an arrow key selects; Enter opens the code list.");
    const passages = d.passages || [];
    if (!passages.length) {
      this.region.append(el("div", "qk-empty", d.empty_text || "Nothing to show."));
      return;
    }
    passages.forEach((p, pi) => {
      const block = el("div", "qk-p");
      block.dataset.p = String(pi);
      if (p.label || p.note) {
        const head = el("span", "qk-h");
        if (p.note) head.append(el("span", "qk-note", p.note));
        if (p.label) head.append(el("b", null, p.label), document.createTextNode(": "));
        block.append(head);
      }
      const text = el("span", "qk-t");
      const first = this.words.length;
      for (const [s, e] of p.words) this.words.push({ p: pi, s, e, els: [] });
      const gaps = [];
      let prev = null;
      for (const [piece, w, look] of p.pieces) {
        const span = el("span", null, piece);
        if (look >= 0) this.style(span, this.looks[look]);
        if (w >= 0) {
          const g = first + w;
          span.dataset.w = String(g);
          this.words[g].els.push(span);
          prev = g;
        } else {
          gaps.push({ el: span, prev, next: null });
        }
        text.append(span);
      }
      // a gap lies between the word before it and the next word of the same passage
      let next = null;
      for (let i = p.pieces.length - 1, k = gaps.length - 1; i >= 0; i -= 1) {
        const w = p.pieces[i][1];
        if (w >= 0) next = first + w;
        else { gaps[k].next = next; k -= 1; }
      }
      block.append(text);
      if (p.chips && p.chips.length) {
        const row = el("div", "qk-chips");
        for (const hi of p.chips) row.append(this.chip(hi));
        block.append(row);
      }
      this.region.append(block);
      this.P.push({ id: p.id, label: p.label, note: p.note, first, last: this.words.length - 1, gaps, block });
    });
    if (!this.words.length) return;
    this.caret = 0;
    if (keep) {
      const back = this.words.findIndex((w) => w.s >= keep.s);
      if (back >= 0) this.caret = back;
    }
    if (this.restoreCaret) {
      const back = this.words.findIndex((w) => w.s >= this.restoreCaret);
      if (back >= 0) this.caret = back;
      this.restoreCaret = null;
    }
    this.paint();
    if (hadFocus) {
      this.restoreFocus = false;
      this.region.focus({ preventScroll: true });
    }
  }

  style(span, look) {
    if (!look) return;
    span.style.background = look.bg;
    if (look.lines && look.lines.length) {
      span.style.boxShadow = look.lines.map((c, i) => `0 ${2 * (i + 1)}px 0 ${c}`).join(",");
    }
    if (look.dashed) span.classList.add("dashed");
    span.title = look.title;
    span.dataset.look = "1";
  }

  chip(hi) {
    const h = this.highlights[hi];
    const b = el("button", `qk-chip ${h.status}`);
    b.type = "button";
    b.dataset.h = String(hi);
    b.style.background = h.color;
    b.textContent = h.name + (h.status === "suggested" ? " ?" : h.status === "rejected" ? " ✗" : "");
    b.title = [h.name, h.status, h.detail].filter(Boolean).join(" · ");
    b.setAttribute("aria-label", `${b.title}. Open its actions`);
    b.tabIndex = -1; // reached from the text with Tab only when the picker is open; Enter on a word opens it
    return b;
  }

  range() {
    if (this.anchor === null) return null;
    return [Math.min(this.anchor, this.focusWord), Math.max(this.anchor, this.focusWord)];
  }

  paint() {
    for (const node of this.painted) node.classList.remove("sel", "caret");
    this.painted = [];
    const r = this.range();
    if (r) {
      for (let g = r[0]; g <= r[1]; g += 1) {
        for (const node of this.words[g].els) { node.classList.add("sel"); this.painted.push(node); }
      }
      for (let pi = this.words[r[0]].p; pi <= this.words[r[1]].p; pi += 1) {
        for (const gap of this.P[pi].gaps) {
          if (gap.prev !== null && gap.next !== null && gap.prev >= r[0] && gap.next <= r[1]) {
            gap.el.classList.add("sel");
            this.painted.push(gap.el);
          }
        }
      }
    }
    const c = this.words[this.caret];
    if (c && this.root.contains(document.activeElement) && document.activeElement === this.region) {
      for (const node of c.els) { node.classList.add("caret"); this.painted.push(node); }
    }
  }

  // ------------------------------------------------------------------ what is selected
  parts() {
    const r = this.range();
    if (!r) return [];
    const out = [];
    for (let g = r[0]; g <= r[1]; g += 1) {
      const w = this.words[g];
      const last = out[out.length - 1];
      if (last && last.pi === w.p) last.end = w.e;
      else out.push({ pi: w.p, passage: this.P[w.p].id, start: w.s, end: w.e });
    }
    return out;
  }

  textOf(r) {
    const bits = [];
    for (let g = r[0]; g <= r[1]; g += 1) {
      for (const node of this.words[g].els) bits.push(node.textContent);
      // Words that touch in the text ("out" and ".") touch here too: "wrung out . On" read as a typo.
      if (g < r[1]) {
        const next = this.words[g + 1];
        bits.push(next.p !== this.words[g].p ? " … " : next.s === this.words[g].e ? "" : " ");
      }
    }
    return bits.join("");
  }

  describe() {
    const r = this.range();
    if (!r) return "Nothing selected.";
    const parts = this.parts();
    const words = r[1] - r[0] + 1;
    const where = parts.map((p) => [this.P[p.pi].label, this.P[p.pi].note].filter(Boolean).join(" ")).join(", ");
    return `Selected ${words} word${words === 1 ? "" : "s"}: ${this.textOf(r)} (${where})`;
  }

  setSelection(a, f, { report = true } = {}) {
    this.anchor = a;
    this.focusWord = f;
    this.paint();
    this.live.textContent = this.describe();
    if (report) this.report();
  }

  clearSelection() {
    this.anchor = this.focusWord = null;
    // A native selection left on the words would make the next drag over them move that text (drag and
    // drop) instead of selecting: the same words could not be selected again.
    const sel = window.getSelection();
    if (sel && sel.rangeCount && this.region.contains(sel.anchorNode)) sel.removeAllRanges();
    this.paint();
    this.report();
  }

  report() {
    if (!this.data.report_selection || !this.setState) return;
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => {
      const parts = this.parts().map(({ passage, start, end }) => ({ passage, start, end }));
      const key = JSON.stringify(parts);
      if (key === this.reported) return;
      this.reported = key;
      this.setState("selection", parts.length ? parts : null);
    }, 250);
  }

  // The words a native (mouse) selection touches, snapped outwards to whole words; null when none.
  fromNative() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const r = sel.getRangeAt(0);
    if (!r.intersectsNode(this.region)) return null;
    let lo = null;
    let hi = null;
    for (const P of this.P) {
      if (!r.intersectsNode(P.block)) continue;
      for (let g = P.first; g <= P.last; g += 1) {
        for (const node of this.words[g].els) {
          const t = node.firstChild;
          if (!t || !r.intersectsNode(t)) continue;
          const a = t === r.startContainer ? r.startOffset : 0;
          const b = t === r.endContainer ? r.endOffset : t.length;
          if (b > a) {
            if (lo === null) lo = g;
            hi = g;
          }
        }
      }
    }
    return lo === null ? null : [lo, hi];
  }

  // Make the page's own selection cover exactly the snapped words (what Ctrl+C copies, and what Shift+click extends).
  mirror() {
    const r = this.range();
    const sel = window.getSelection();
    if (!r || !sel) return;
    const first = this.words[r[0]].els[0].firstChild;
    const lastEls = this.words[r[1]].els;
    const last = lastEls[lastEls.length - 1].firstChild;
    this.mirroring = true;
    sel.setBaseAndExtent(first, 0, last, last.length);
    setTimeout(() => { this.mirroring = false; }, 0);
  }

  // ------------------------------------------------------------------ mouse
  down(e) {
    if (e.button !== 0 || e.target.closest(".qk-chip")) return;
    this.dragging = true;
    this.closePicker(false);
  }

  selectionChanged() {
    if (!this.dragging || this.mirroring) return;
    const r = this.fromNative();
    if (r) {
      this.anchor = r[0];
      this.focusWord = r[1];
    } else {
      this.anchor = this.focusWord = null;
    }
    this.paint();
  }

  wordText(g) {
    return this.words[g].els.map((node) => node.textContent).join("");
  }

  // A selection that opens a quote or bracket takes its closing one when that follows at once (and the other
  // way round), and one that holds every word inside a quote takes both marks: a stranger's ‘just ask a quick
  // question’ was stored, and quoted in the report, without its ’.
  balanced(r) {
    if (!r) return r;
    let [lo, hi] = r;
    const same = (a, b) => b >= 0 && b < this.words.length && this.words[a].p === this.words[b].p;
    const opening = PAIRS[this.wordText(lo)];
    if (opening && this.wordText(hi) !== opening && same(hi, hi + 1) && this.wordText(hi + 1) === opening) hi += 1;
    const closing = CLOSERS[this.wordText(hi)];
    if (closing && this.wordText(lo) !== closing && same(lo, lo - 1) && this.wordText(lo - 1) === closing) lo -= 1;
    const before = same(lo, lo - 1) ? PAIRS[this.wordText(lo - 1)] : undefined;  // all the words inside a quote
    if (before && same(hi, hi + 1) && this.wordText(hi + 1) === before) { lo -= 1; hi += 1; }
    return [lo, hi];
  }

  up(e) {
    if (!this.dragging) return;
    this.dragging = false;
    const r = this.balanced(this.fromNative());
    if (r) {
      this.caret = r[1];
      this.setSelection(r[0], r[1]);
      this.mirror();
      this.openPicker(true);
      return;
    }
    const word = e.target.closest && e.target.closest("[data-w]");
    if (!word || !this.region.contains(word)) return;
    this.caret = Number(word.dataset.w);
    if (this.coveredBy(this.caret, this.caret).length) {
      this.setSelection(this.caret, this.caret); // a click on a coded word shows what is coded there
      this.openPicker(false);
    } else {
      this.clearSelection();
    }
  }

  // ------------------------------------------------------------------ keyboard
  key(e) {
    if (!this.words.length) return;
    const P = this.P[this.words[this.caret].p];
    let to = null;
    if (e.key === "ArrowRight") to = Math.min(this.caret + 1, this.words.length - 1);
    else if (e.key === "ArrowLeft") to = Math.max(this.caret - 1, 0);
    else if (e.key === "Home") to = P.first;
    else if (e.key === "End") to = P.last;
    else if (e.key === "ArrowDown") {
      const pi = this.words[this.caret].p;
      if (e.shiftKey) to = this.caret < P.last ? P.last : (this.P[pi + 1] ? this.P[pi + 1].last : P.last);
      else to = this.P[pi + 1] ? this.P[pi + 1].first : P.last;
    } else if (e.key === "ArrowUp") {
      const pi = this.words[this.caret].p;
      if (e.shiftKey) to = this.caret > P.first ? P.first : (this.P[pi - 1] ? this.P[pi - 1].first : P.first);
      else to = this.P[pi - 1] ? this.P[pi - 1].first : P.first;
    }
    if (to !== null && PAGE_KEYS.has(e.key)) {
      e.preventDefault();
      this.closePicker(false);
      if (e.shiftKey) {
        if (this.anchor === null) {
          this.anchor = this.caret; // the first Shift+arrow takes the word under the caret
          if (e.key === "ArrowRight" || e.key === "ArrowLeft") to = this.caret;
        }
        this.caret = to;
        this.setSelection(this.anchor, to);
      } else {
        const moved = this.P[this.words[to].p];
        this.caret = to;
        this.anchor = this.focusWord = null;
        this.paint();
        const word = this.words[to].els.map((n) => n.textContent).join("");
        this.live.textContent = moved === P ? word : `${[moved.label, moved.note].filter(Boolean).join(" ")}: ${word}`;
        this.report();
      }
      this.words[this.caret].els[0].scrollIntoView({ block: "nearest", inline: "nearest" });
      return;
    }
    if (e.key === "Enter" || (e.key === " " && !e.shiftKey)) {
      e.preventDefault();
      if (this.anchor === null) this.setSelection(this.caret, this.caret);
      this.openPicker(true);
    } else if (e.key === "Escape") {
      if (this.anchor !== null) { e.preventDefault(); this.clearSelection(); this.live.textContent = "Selection cleared."; }
    }
  }

  // ------------------------------------------------------------------ the picker
  coveredBy(lo, hi) {
    const s = this.words[lo].s;
    const e = this.words[hi].e;
    return this.highlights.filter((h) => h.start < e && h.end > s);
  }

  openHighlight(hi, fromKeyboard) {
    const h = this.highlights[hi];
    if (!h) return;
    const inside = this.words.map((w, g) => [w, g]).filter(([w]) => w.s < h.end && w.e > h.start).map(([, g]) => g);
    if (!inside.length) return;
    this.target = h;
    this.caret = inside[inside.length - 1];
    this.setSelection(inside[0], this.caret);
    this.openPicker(fromKeyboard, true);
  }

  openPicker(focusInput, fromChip = false) {
    const r = this.range();
    if (!r || this.data.picker === false) return;
    if (!fromChip) this.target = null;
    const here = this.target ? [this.target] : this.coveredBy(r[0], r[1]);
    if (this.readonly && !here.length) return; // a reader who cannot code: nothing to show beyond the selection
    const pick = this.picker;
    pick.replaceChildren();
    const parts = this.parts();
    const what = el("div", "qk-what");
    if (parts.length === 1) {
      const p = this.P[parts[0].pi];
      what.append(el("q", null, this.textOf(r)));
      what.append(document.createTextNode(` — ${[p.label, p.note].filter(Boolean).join(" ")}`));
    } else {
      what.textContent = `${parts.length} turns, coded as one passage per turn: ` +
        parts.map((p) => [this.P[p.pi].label, this.P[p.pi].note].filter(Boolean).join(" ")).join(", ");
    }
    pick.append(what);
    let input = null;
    if (this.codes && !this.readonly) {
      input = el("input", "qk-input");
      input.type = "text";
      input.placeholder = parts.length === 1 ? "Code… (type to find)" : `Code all ${parts.length} parts… (type to find)`;
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "true");
      input.setAttribute("aria-label", "Code to apply");
      const list = el("ul", "qk-list");
      list.setAttribute("role", "listbox");
      list.tabIndex = -1; // the options are chosen from the input (aria-activedescendant); Tab goes on to "Coded here"
      list.id = `qk-list-${Math.random().toString(36).slice(2)}`;
      input.setAttribute("aria-controls", list.id);
      pick.append(input, list);
      this.fillList(input, list);
      input.addEventListener("input", () => this.fillList(input, list));
      input.addEventListener("keydown", (e) => this.listKey(e, input, list));
    }
    if (here.length) pick.append(this.hereBox(here, parts));
    this.message = el("div", "qk-msg");
    pick.append(this.message);
    pick.append(el("div", "qk-help", input ? "↑↓ choose · Enter apply · Esc close" : "Esc close"));
    pick.hidden = false;
    this.place(r);
    if (focusInput && input) input.focus({ preventScroll: true });
    else if (focusInput) {
      const button = pick.querySelector("button:not([disabled])");
      if (button) button.focus({ preventScroll: true });
    }
  }

  hereBox(here, parts) {
    const box = el("div", "qk-here");
    box.append(el("small", null, "Coded here"));
    for (const h of here.slice(0, 8)) {
      const row = el("div");
      const dot = el("span", "qk-dot");
      dot.style.background = h.color;
      row.append(dot, el("span", null, h.name), el("small", null, [h.status, h.detail].filter(Boolean).join(" · ")));
      const label = { adjust: "Set to selection", remove: "Remove", accept: "Accept", reject: "Reject", revert: "Revert" };
      for (const kind of h.actions || []) {
        if (this.readonly) break;
        const b = el("button", "qk-btn", label[kind] || kind);
        b.type = "button";
        b.setAttribute("aria-label", `${label[kind] || kind}: ${h.name}`);
        if (kind === "adjust") {
          const home = this.words.find((w) => w.s < h.end && w.e > h.start);
          const same = parts.length === 1 && home !== undefined && home.p === parts[0].pi;
          const changed = !(parts.length === 1 && parts[0].start === h.start && parts[0].end === h.end);
          b.disabled = !(same && changed);
          b.title = !same ? "A coded passage stays within one turn: select inside its turn"
            : !changed ? "Select the new extent first" : "Give this coding the selected extent";
        }
        b.addEventListener("click", () => this.send(kind, { highlight: h.id, version: h.version }));
        row.append(b);
      }
      box.append(row);
    }
    return box;
  }

  matches(query) {
    const q = fold(query).split(/\s+/).filter(Boolean);
    const recent = this.data.recent || [];
    const scored = [];
    this.codes.forEach((c, i) => {
      const hay = fold(`${c.name} ${c.id} ${c.hint || ""}`);
      if (q.length && !q.every((t) => hay.includes(t))) return;
      const starts = q.length && fold(c.name).startsWith(q[0]) ? 0 : 1;
      const r = recent.indexOf(c.id);
      scored.push([starts, r < 0 ? 99 : r, i, c]);
    });
    scored.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    return scored.map((s) => s[3]);
  }

  fillList(input, list) {
    const found = this.matches(input.value);
    list.replaceChildren();
    this.options = found;
    this.active = found.length ? 0 : -1;
    found.forEach((c, i) => {
      const li = el("li");
      li.id = `${list.id}-${i}`;
      li.setAttribute("role", "option");
      const dot = el("span", "qk-dot");
      dot.style.background = c.color;
      li.append(dot, el("span", null, c.name));
      if (c.hint) li.append(el("small", null, c.hint));
      li.addEventListener("mousedown", (e) => e.preventDefault());
      li.addEventListener("click", () => this.send("code", { code: c.id }));
      list.append(li);
    });
    if (!found.length) list.append(el("li", "qk-empty", "No code matches."));
    this.markActive(input, list);
  }

  markActive(input, list) {
    [...list.querySelectorAll("[role=option]")].forEach((li, i) => {
      li.setAttribute("aria-selected", i === this.active ? "true" : "false");
      if (i === this.active) li.scrollIntoView({ block: "nearest" });
    });
    if (this.active >= 0) input.setAttribute("aria-activedescendant", `${list.id}-${this.active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  listKey(e, input, list) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!this.options.length) return;
      const step = e.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.options.length) % this.options.length;
      this.markActive(input, list);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (this.active >= 0) this.send("code", { code: this.options[this.active].id });
      else this.message.textContent = "No code matches what you typed.";
    }
  }

  place(r) {
    const rootBox = this.root.getBoundingClientRect();
    const els = this.words[r[1]].els;
    const box = els[els.length - 1].getBoundingClientRect();
    const width = this.picker.offsetWidth;
    const left = Math.max(0, Math.min(box.left - rootBox.left - 20, rootBox.width - width));
    this.picker.style.left = `${left}px`;
    // below the selection, unless the text ends soon after it and there is room above
    const height = this.picker.offsetHeight;
    const below = box.bottom - rootBox.top + 6;
    const above = box.top - rootBox.top - height - 6;
    const fitsBelow = below + height <= Math.max(rootBox.height, window.innerHeight - rootBox.top);
    this.picker.style.top = `${fitsBelow || above < 0 ? below : above}px`;
  }

  closePicker(refocus) {
    if (this.picker.hidden) return;
    this.picker.hidden = true;
    this.picker.replaceChildren();
    if (refocus) {
      this.region.focus({ preventScroll: true });
      this.paint();
    }
  }

  send(kind, extra) {
    const parts = this.parts().map(({ passage, start, end }) => ({ passage, start, end }));
    if (!this.setTrigger) return;
    const keyboard = this.root.contains(document.activeElement);
    this.setTrigger("action", { kind, parts, ...extra, nonce: `${Date.now()}-${Math.random()}` });
    this.restoreCaret = this.words[this.caret] ? this.words[this.caret].s : null;
    this.restoreFocus = keyboard;
    this.closePicker(false);
    this.anchor = this.focusWord = null;
    this.paint();
    if (keyboard) this.region.focus({ preventScroll: true });
    this.live.textContent = "Saving…";
  }
}

export default function (component) {
  const { parentElement } = component;
  let root = parentElement.querySelector(":scope > .qk-sel");
  if (!root) {
    root = el("div", "qk-sel");
    parentElement.append(root);
  }
  if (!root.qkSelector) root.qkSelector = new Selector(root);
  const selector = root.qkSelector;
  const generation = selector.update(component);
  // Streamlit calls this again with new data without calling the old cleanup; only the newest may tear down.
  return () => {
    if (selector.generation === generation) {
      selector.dispose();
      root.qkSelector = null;
    }
  };
}
