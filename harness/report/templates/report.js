"use strict";
// The per-case view of report.html: filters, paging and a word-level diff, built from the
// embedded JSON with textContent only (model output is untrusted and never parsed as HTML).
(function () {
  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var PAGE = 25;
  var MAX_DIFF_CELLS = 4000000; // the LCS table of a word diff; longer answers are not diffed
  // Side by side with the baseline on the left: before -> after.
  var models = DATA.baseline ? [DATA.baseline].concat(DATA.models.filter(function (m) { return m !== DATA.baseline; }))
                             : DATA.models;
  var state = { text: "", tag: "", status: "", page: 0, a: DATA.diff[0], b: DATA.diff[1] };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function chip(kind, text) { return el("span", "chip " + kind, text); }
  function byId(id) { return document.getElementById(id); }

  var haystacks = DATA.cases.map(function (c) {
    var parts = [c.id, c.input, c.tags.join(" ")].concat(c.references);
    models.forEach(function (m) { var a = c.answers[m]; if (a && a.output) parts.push(a.output); });
    return parts.join("\n").toLowerCase();
  });

  function matches(c, i) {
    if (state.tag && c.tags.indexOf(state.tag) < 0) return false;
    if (state.status === "notpass" && (c.status === "pass" || c.status === "improved")) return false;
    if (state.status && state.status !== "notpass" && c.status !== state.status) return false;
    if (state.text && haystacks[i].indexOf(state.text) < 0) return false;
    return true;
  }

  function answerStatus(a) {
    if (!a) return ["skipped", "no answer"];
    if (a.error) return ["error", "error"];
    return a.passed ? ["pass", "pass"] : ["fail", "fail"];
  }

  function fmt(v) { return typeof v === "number" ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3)) : String(v); }

  // Word-level diff: longest common subsequence over words, each carrying the whitespace after
  // it, so what is struck out and what is inserted stay apart ("No problem! 1. Go", never "No1.").
  function words(s) { return (s || "").match(/\S+\s*/g) || []; }
  function bare(token) { return token.replace(/\s+$/, ""); }
  function wordDiff(a, b) {
    var x = words(a), y = words(b), n = x.length, m = y.length;
    if ((n + 1) * (m + 1) > MAX_DIFF_CELLS) return null;
    var cx = x.map(bare), cy = y.map(bare);
    var w = m + 1, t = new Int32Array((n + 1) * w);
    for (var i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        t[i * w + j] = cx[i] === cy[j] ? t[(i + 1) * w + j + 1] + 1 : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
      }
    }
    var out = [], p = 0, q = 0;
    function push(kind, s) {
      if (out.length && out[out.length - 1][0] === kind) out[out.length - 1][1] += s; else out.push([kind, s]);
    }
    while (p < n && q < m) {
      if (cx[p] === cy[q]) { push("=", y[q]); p++; q++; }
      else if (t[(p + 1) * w + q] >= t[p * w + q + 1]) { push("-", x[p]); p++; }
      else { push("+", y[q]); q++; }
    }
    while (p < n) push("-", x[p++]);
    while (q < m) push("+", y[q++]);
    return out;
  }

  function renderDiff(parts, pre) {
    parts.forEach(function (part, i) {
      if (part[0] === "=") { pre.appendChild(document.createTextNode(part[1])); return; }
      var body = bare(part[1]), tail = part[1].slice(body.length);
      if (!tail && i < parts.length - 1) tail = " ";
      pre.appendChild(el(part[0] === "+" ? "ins" : "del", null, body));
      if (tail) pre.appendChild(document.createTextNode(tail));
    });
  }

  function diffBlock(c) {
    var box = el("div", "diff");
    var a = c.answers[state.a], b = c.answers[state.b];
    box.appendChild(el("div", "label", "word diff: " + state.a + " → " + state.b));
    if (!a || !b) { box.appendChild(el("div", "muted", "one of the two models has no answer here")); return box; }
    var parts = wordDiff(a.output || "", b.output || "");
    var pre = el("pre", "text");
    if (parts === null) pre.textContent = "answers too long to diff here";
    else renderDiff(parts, pre);
    box.appendChild(pre);
    return box;
  }

  function gradeLine(g) {
    var line = el("div");
    var score = "";
    if (typeof g.score === "number") {
      score = " " + (Number.isInteger(g.score) ? String(g.score) : g.score.toFixed(2));
      if (g.scale && typeof g.scale.max === "number") score += "/" + g.scale.max;
    }
    line.appendChild(chip(g.outcome === "graded" ? "tie" : "invalid", g.kind + score + (g.label ? " (" + g.label + ")" : "")));
    if (g.reason) line.appendChild(document.createTextNode(" " + g.reason));
    return line;
  }

  function answerCard(c, m) {
    var a = c.answers[m];
    var box = el("div", "answer");
    var head = el("div", "mhead");
    var st = answerStatus(a);
    head.appendChild(el("span", null, m));
    if (DATA.roles[m]) head.appendChild(chip("role " + DATA.roles[m], DATA.roles[m]));
    head.appendChild(chip(st[0], st[1]));
    if (a && typeof a.latency_s === "number") head.appendChild(el("span", "muted", a.latency_s.toFixed(2) + "s"));
    box.appendChild(head);
    if (!a) return box;
    if (a.error) box.appendChild(el("div", "chip error", a.error));
    else box.appendChild(el("pre", "text", a.output === null ? "" : a.output));
    if (a.checks.length) {
      // Failed checks with their reasons up front; the passing ones folded into one line.
      var list = el("ul", "checks");
      var good = a.checks.filter(function (ch) { return ch[1]; });
      a.checks.forEach(function (ch) {
        if (!ch[1]) list.appendChild(el("li", "bad", "✗ " + ch[0] + ": " + ch[2]));
      });
      if (good.length) {
        var item = el("li", "good");
        var more = el("details");
        more.appendChild(el("summary", null, "✓ " + good.length + " check" + (good.length > 1 ? "s" : "") + " passed"));
        good.forEach(function (ch) { more.appendChild(el("div", null, "✓ " + ch[0] + ": " + ch[2])); });
        item.appendChild(more);
        list.appendChild(item);
      }
      box.appendChild(list);
    }
    var names = Object.keys(a.metrics || {});
    if (names.length) {
      box.appendChild(el("div", "muted", names.map(function (k) { return k + " " + fmt(a.metrics[k]); }).join(" · ")));
    }
    (a.grades || []).forEach(function (g) { box.appendChild(gradeLine(g)); });
    return box;
  }

  function verdicts(c) {
    var names = Object.keys(c.pairwise);
    if (!names.length) return null;
    var box = el("div", "verdicts");
    names.forEach(function (name) {
      var p = c.pairwise[name];
      var line = el("div");
      line.appendChild(el("strong", null, "judge: " + (p.candidate || name) + " vs " + p.baseline + " "));
      line.appendChild(chip(p.outcome, p.outcome));
      if (p.inconsistent) line.appendChild(el("span", "muted", " (the two orders disagreed)"));
      if (p.identical) line.appendChild(el("span", "muted", " (identical answers, no judge call)"));
      if (p.note) line.appendChild(el("span", "muted", " " + p.note));
      box.appendChild(line);
      (p.orders || []).forEach(function (o) {
        var d = el("details");
        var verdict = o.invalid ? "invalid: " + o.invalid : (o.winner || "?") + (o.verdict ? " (" + o.verdict + ")" : "");
        d.appendChild(el("summary", null, (o.judge ? o.judge + ", " : "") + "order " + o.order + ": A=" + o.answer_a + ", B=" + o.answer_b + " → " + verdict));
        d.appendChild(el("pre", "text", o.reply || ""));
        box.appendChild(d);
      });
    });
    return box;
  }

  // With a baseline the status speaks of the comparison: "both fail" rather than a bare "fail".
  var together = models.length === 2 ? "both " : "all ";
  var LABELS = DATA.baseline ? { fail: together + "fail", pass: together + "pass" } : {};
  function statusLabel(status) { return LABELS[status] || status; }

  function caseCard(c, openDiff) {
    var card = el("article", "case st-" + c.status);
    card.setAttribute("data-case", c.id);
    var head = el("div", "head");
    head.appendChild(chip(c.status, statusLabel(c.status)));
    head.appendChild(el("span", "id", c.repeat ? c.id + " #" + c.repeat : c.id));
    c.tags.forEach(function (t) { head.appendChild(chip("tag", t)); });
    head.appendChild(el("span", "spacer"));
    var diffButton = el("button", null, "word diff");
    diffButton.type = "button";
    head.appendChild(diffButton);
    card.appendChild(head);
    if (c.messages.length) {
      card.appendChild(el("div", "label", "conversation"));
      card.appendChild(el("pre", "text", c.messages.map(function (m) { return m.role + ": " + m.content; }).join("\n\n")));
    } else {
      card.appendChild(el("div", "label", "input"));
      card.appendChild(el("pre", "text", c.input));
    }
    if (c.references.length) {
      card.appendChild(el("div", "label", c.references.length > 1 ? "references" : "reference"));
      card.appendChild(el("pre", "text", c.references.join("\n— or —\n")));
    }
    var grid = el("div", "answers");
    grid.style.gridTemplateColumns = "repeat(" + Math.min(models.length, 3) + ", minmax(0, 1fr))";
    models.forEach(function (m) { grid.appendChild(answerCard(c, m)); });
    card.appendChild(grid);
    var v = verdicts(c);
    if (v) card.appendChild(v);
    var diffHolder = el("div");
    card.appendChild(diffHolder);
    diffButton.addEventListener("click", function () {
      if (diffHolder.firstChild) { diffHolder.replaceChildren(); return; }
      diffHolder.appendChild(diffBlock(c));
    });
    if (openDiff && models.length > 1 && state.a && state.b) diffHolder.appendChild(diffBlock(c));
    return card;
  }

  // The sections under the verdict: the regressions in full (with their word diff open), the
  // improvements folded. Both also stay in the case list below, which "show all" filters.
  var TOP_REGRESSIONS = 10, TOP_IMPROVEMENTS = 50;
  function showAll(status) {
    byId("status").value = status;
    state.status = status; state.page = 0; render();
    byId("all-cases").scrollIntoView();
  }
  function moreButton(box, count, shown, status, noun) {
    if (count <= shown) return;
    var more = el("button", "more", "show all " + count + " " + noun + " in the case list");
    more.type = "button";
    more.addEventListener("click", function () { showAll(status); });
    box.appendChild(more);
  }
  function renderChanges() {
    var regressionBox = byId("regression-cards"), improvementBox = byId("improvement-list");
    if (regressionBox) {
      var regressed = DATA.cases.filter(function (c) { return c.status === "regression"; });
      regressed.slice(0, TOP_REGRESSIONS).forEach(function (c) { regressionBox.appendChild(caseCard(c, true)); });
      moreButton(regressionBox, regressed.length, TOP_REGRESSIONS, "regression", "regressions");
    }
    if (improvementBox) {
      var improved = DATA.cases.filter(function (c) { return c.status === "improved"; });
      improved.slice(0, TOP_IMPROVEMENTS).forEach(function (c) {
        var fold = el("details", "case-fold");
        fold.setAttribute("data-case", c.id);
        var line = el("summary");
        line.appendChild(chip("improved", "improved"));
        line.appendChild(el("span", "id", c.repeat ? c.id + " #" + c.repeat : c.id));
        c.tags.forEach(function (t) { line.appendChild(chip("tag", t)); });
        line.appendChild(el("span", "muted snippet", c.input.length > 90 ? c.input.slice(0, 89) + "…" : c.input));
        fold.appendChild(line);
        fold.addEventListener("toggle", function () {
          if (fold.open && fold.children.length === 1) fold.appendChild(caseCard(c, true));
        });
        improvementBox.appendChild(fold);
      });
      moreButton(improvementBox, improved.length, TOP_IMPROVEMENTS, "improved", "improvements");
    }
  }

  function render() {
    var shown = [];
    DATA.cases.forEach(function (c, i) { if (matches(c, i)) shown.push(c); });
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (state.page >= pages) state.page = pages - 1;
    var list = byId("cases");
    list.replaceChildren();
    shown.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (c) { list.appendChild(caseCard(c)); });
    byId("count").textContent = shown.length + " of " + DATA.cases.length + " cases";
    byId("page").textContent = "page " + (state.page + 1) + " of " + pages;
    byId("prev").disabled = state.page === 0;
    byId("next").disabled = state.page >= pages - 1;
    if (!shown.length) list.appendChild(el("p", "muted", "No case matches these filters."));
  }

  function fill(select, values, labels) {
    values.forEach(function (v, i) {
      var o = el("option", null, labels ? labels[i] : v);
      o.value = v;
      select.appendChild(o);
    });
  }

  fill(byId("tag"), DATA.tags);
  fill(byId("diff-a"), models);
  fill(byId("diff-b"), models);
  byId("diff-a").value = state.a || "";
  byId("diff-b").value = state.b || "";
  if (models.length < 2) byId("diff-pick").hidden = true;
  var timer = null;
  byId("search").addEventListener("input", function (e) {
    clearTimeout(timer);
    var value = e.target.value;
    timer = setTimeout(function () { state.text = value.trim().toLowerCase(); state.page = 0; render(); }, 120);
  });
  byId("tag").addEventListener("change", function (e) { state.tag = e.target.value; state.page = 0; render(); });
  byId("status").addEventListener("change", function (e) { state.status = e.target.value; state.page = 0; render(); });
  byId("diff-a").addEventListener("change", function (e) { state.a = e.target.value; render(); });
  byId("diff-b").addEventListener("change", function (e) { state.b = e.target.value; render(); });
  byId("prev").addEventListener("click", function () { state.page--; render(); window.scrollTo(0, byId("filters").offsetTop); });
  byId("next").addEventListener("click", function () { state.page++; render(); window.scrollTo(0, byId("filters").offsetTop); });
  renderChanges();
  render();
})();
