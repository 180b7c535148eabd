/* quizgen site: renders math, checks answers, keeps progress in localStorage.
   Every page works without this file: answers and explanations are in <details>. */
(function () {
  "use strict";

  var STORE_KEY = "quizgen:" + (document.body.getAttribute("data-course") || "course");

  // --- progress: {answers: {"concept#question": {response, score, points, text, variant}},
  //     learner: this browser's random id, variants: {"concept#question": the variant "New variant" chose}}
  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function load() {
    var stored;
    try {
      stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}");
    } catch (error) {
      stored = null; // storage disabled or damaged: the page still works, nothing is kept
    }
    if (!isObject(stored) || !isObject(stored.answers)) { stored = { answers: {} }; }
    if (!isObject(stored.variants)) { stored.variants = {}; }
    return stored;
  }
  var state = load();

  function save() {
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (error) { /* private mode or full storage: answers last until the page closes */ }
  }

  // An answer belongs to the variant it answered (a generated question's `variant`, 1-based; none for
  // other questions, and an answer saved before variants existed answered the first). An answer to another
  // variant is replaced, but its score keeps counting until this variant is scored.
  function record(key, entry, variant) {
    var old = state.answers[key] || {};
    if (variant && (old.variant || 1) !== variant) {
      old = typeof old.score === "number" && typeof entry.score !== "number"
        ? { score: old.score, points: old.points } : {};
    }
    for (var name in entry) { old[name] = entry[name]; }
    if (variant) { old.variant = variant; }
    state.answers[key] = old;
    save();
    showProgress();
  }

  function answered(prefix) {
    var count = 0, score = 0;
    for (var key in state.answers) {
      var entry = state.answers[key];
      if ((!prefix || key.indexOf(prefix) === 0) && typeof entry.score === "number") {
        count += 1;
        score += entry.score;
      }
    }
    return { count: count, score: score };
  }

  function fmt(value) {
    return String(Math.round(value * 100) / 100);
  }

  function ofPoints(score, points) {
    return fmt(score) + " of " + fmt(points) + (points === 1 ? " point" : " points");
  }

  function plural(count, noun) {
    return count + " " + noun + (count === 1 ? "" : "s");
  }

  // --- math -----------------------------------------------------------------------------------
  function renderMath() {
    if (!window.katex) { return; }
    var nodes = document.querySelectorAll(".math");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var display = node.classList.contains("block");
      var tex = node.textContent.trim().replace(/^\\[([]/, "").replace(/\\[)\]]$/, "");
      try {
        window.katex.render(tex, node, { displayMode: display, throwOnError: false, strict: false });
      } catch (error) { /* keep the TeX source readable */ }
    }
  }

  // --- checking answers -------------------------------------------------------------------------
  function optionItems(form) {
    return form.querySelectorAll(".options > li");
  }

  function chosenIndices(form) {
    var chosen = [];
    var inputs = form.querySelectorAll(".options input");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].checked) { chosen.push(Number(inputs[i].value)); }
    }
    return chosen;
  }

  function answerDetails(form) {
    var next = form.nextElementSibling;
    return next && next.tagName === "DETAILS" ? next : form.closest("details");
  }

  function keyItem(form, index) {
    var details = answerDetails(form);
    return details ? details.querySelector('.key > li[data-option="' + index + '"]') : null;
  }

  function clearMarks(form) {
    var items = optionItems(form);
    for (var i = 0; i < items.length; i++) {
      items[i].classList.remove("is-right", "is-wrong");
      var old = items[i].querySelector(".option-feedback");
      if (old) { old.remove(); }
    }
    var keys = form.parentNode.querySelectorAll(".key > li.chosen");
    for (var k = 0; k < keys.length; k++) { keys[k].classList.remove("chosen"); }
  }

  function markOption(form, index, right) {
    var item = optionItems(form)[index];
    item.classList.add(right ? "is-right" : "is-wrong");
    var feedback = document.createElement("div");
    feedback.className = "option-feedback";
    var verdict = document.createElement("strong");
    verdict.textContent = right ? "✓ Right. " : "✗ Not right. ";
    feedback.appendChild(verdict);
    var source = keyItem(form, index);
    if (source) {
      source.classList.add("chosen");
      var text = source.querySelector(".feedback");
      if (text) { feedback.appendChild(text.cloneNode(true)); }
    }
    item.appendChild(feedback);
  }

  function setVerdict(form, kind, message) {
    var verdict = form.querySelector(".verdict");
    verdict.className = "verdict" + (kind ? " " + kind : "");
    verdict.textContent = message;
  }

  function normalize(text) {
    return text.replace(/\s+/g, " ").trim().toLowerCase();
  }

  function parseNumber(text, unit) {
    var cleaned = text.trim();
    if (unit && cleaned.slice(-unit.length).toLowerCase() === unit.toLowerCase()) {
      cleaned = cleaned.slice(0, -unit.length).trim();
    }
    cleaned = cleaned.replace(/\s+/g, "");
    if (/^[-+]?\d+,\d+$/.test(cleaned)) { cleaned = cleaned.replace(",", "."); } // 0,05 as a decimal comma
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(cleaned)) { return NaN; }
    return Number(cleaned);
  }

  // The multi rule of the course model (quizgen/questions/multi.py: MultiQuestion.score).
  function multiScore(right, chosen, points, scoring) {
    var rightChosen = 0, wrongChosen = 0;
    for (var i = 0; i < chosen.length; i++) {
      if (right.indexOf(chosen[i]) >= 0) { rightChosen += 1; } else { wrongChosen += 1; }
    }
    if (scoring === "all-or-nothing") {
      return rightChosen === right.length && wrongChosen === 0 ? points : 0;
    }
    return points * Math.max(0, (rightChosen - wrongChosen) / right.length);
  }

  // Each checker reads the form, shows the outcome and returns {score, response}, or null when
  // there is nothing to check yet.
  var checkers = {
    choice: function (form, points) {
      var chosen = chosenIndices(form);
      clearMarks(form);
      if (!chosen.length) { setVerdict(form, "", "Choose an answer first."); return null; }
      var right = Number(form.getAttribute("data-correct"));
      var isRight = chosen[0] === right;
      markOption(form, chosen[0], isRight);
      setVerdict(form, isRight ? "right" : "wrong", isRight
        ? "Correct. " + ofPoints(points, points) + "."
        : "Not quite: " + ofPoints(0, points) + ". The feedback is under your choice; try again, or open the answer.");
      return { score: isRight ? points : 0, response: chosen };
    },
    multi: function (form, points) {
      var chosen = chosenIndices(form);
      clearMarks(form);
      if (!chosen.length) { setVerdict(form, "", "Select at least one option first."); return null; }
      var right = form.getAttribute("data-correct").split(" ").map(Number);
      var score = multiScore(right, chosen, points, form.getAttribute("data-scoring"));
      var found = 0;
      for (var i = 0; i < chosen.length; i++) {
        var isRight = right.indexOf(chosen[i]) >= 0;
        if (isRight) { found += 1; }
        markOption(form, chosen[i], isRight);
      }
      var wrong = chosen.length - found;
      var summary = ofPoints(score, points) + ": you chose " + found + " of " +
        right.length + " right options" + (wrong ? " and " + plural(wrong, "wrong one") : "") + ".";
      if (score >= points) { setVerdict(form, "right", "Correct. " + summary); }
      else if (score > 0) { setVerdict(form, "partial", "Partly right. " + summary + " Try again, or open the answer."); }
      else { setVerdict(form, "wrong", "Not quite. " + summary + " Try again, or open the answer."); }
      return { score: score, response: chosen };
    },
    numeric: function (form, points) {
      var input = form.querySelector("input");
      var unit = form.getAttribute("data-unit");
      var value = parseNumber(input.value, unit);
      if (input.value.trim() === "") { setVerdict(form, "", "Enter a number first."); return null; }
      if (isNaN(value)) { setVerdict(form, "wrong", "That is not a number: write it like 0.05 or 1e-3."); return null; }
      var answer = Number(form.getAttribute("data-answer"));
      var margin = Number(form.getAttribute("data-margin"));
      // The same slack as NumericQuestion.accepts, so an exact boundary answer is never rejected.
      var isRight = Math.abs(value - answer) <= margin * (1 + 1e-9) + 1e-12;
      var hint = value > answer ? "too high" : "too low";
      setVerdict(form, isRight ? "right" : "wrong", isRight
        ? "Correct. " + ofPoints(points, points) + "."
        : "Not quite: " + input.value.trim() + " is " + hint + ". Try again, or open the answer.");
      return { score: isRight ? points : 0, response: input.value.trim() };
    },
    short: function (form, points) {
      var input = form.querySelector("input");
      if (input.value.trim() === "") { setVerdict(form, "", "Write an answer first."); return null; }
      var accepted = JSON.parse(form.getAttribute("data-accepted")).map(normalize);
      var isRight = accepted.indexOf(normalize(input.value)) >= 0;
      setVerdict(form, isRight ? "right" : "wrong", isRight
        ? "Correct. " + ofPoints(points, points) + "."
        : "Not one of the accepted answers. Try again, or open the answer.");
      return { score: isRight ? points : 0, response: input.value };
    },
    "critique-text": function (form) {
      var text = form.querySelector("textarea").value;
      var details = answerDetails(form);
      details.open = true;
      setVerdict(form, "", text.trim()
        ? "Your critique is saved. Compare it with the exemplar below and score it against the rubric."
        : "The exemplar and rubric are below. Writing your own critique first teaches more.");
      return { text: text };
    },
    critique: function (form, points) {
      var groups = form.querySelectorAll(".criterion");
      var score = 0, missing = 0, levels = [];
      for (var i = 0; i < groups.length; i++) {
        var checked = groups[i].querySelector("input:checked");
        if (checked) { score += Number(checked.value); levels.push(checked.value); }
        else { missing += 1; levels.push(null); }
      }
      if (missing) {
        setVerdict(form, "", "Choose a level for every criterion (" + plural(missing, "criterion") + " left).");
        return null;
      }
      var kind = score >= points ? "right" : (score > 0 ? "partial" : "wrong");
      setVerdict(form, kind, "You scored your critique " + ofPoints(score, points) + " against the rubric.");
      return { score: score, response: levels };
    }
  };

  function check(form) {
    var type = form.getAttribute("data-type");
    var points = Number(form.getAttribute("data-points"));
    var outcome = checkers[type](form, points);
    if (!outcome) { return null; }
    var full = typeof outcome.score === "number" && outcome.score >= points;
    var details = answerDetails(form);
    if (details && (full || type === "critique")) { details.open = true; }
    if (typeof outcome.score === "number") { outcome.points = points; }
    return outcome;
  }

  function restore(form, entry) {
    var type = form.getAttribute("data-type");
    if (type === "critique-text") {
      if (typeof entry.text === "string") { form.querySelector("textarea").value = entry.text; }
      return;
    }
    if (entry.response === undefined || entry.response === null) { return; }
    if (type === "choice" || type === "truefalse" || type === "multi") {
      var inputs = form.querySelectorAll(".options input");
      for (var i = 0; i < inputs.length; i++) {
        inputs[i].checked = entry.response.indexOf(Number(inputs[i].value)) >= 0;
      }
    } else if (type === "numeric" || type === "short") {
      form.querySelector("input").value = entry.response;
    } else if (type === "critique") {
      var groups = form.querySelectorAll(".criterion");
      for (var g = 0; g < groups.length; g++) {
        var level = entry.response[g];
        var radio = level === null || level === undefined ? null
          : groups[g].querySelector('input[value="' + level + '"]');
        if (radio) { radio.checked = true; }
      }
    }
    check(form);
  }

  function resetForm(form) {
    form.reset();
    clearMarks(form);
    setVerdict(form, "", "");
    var details = answerDetails(form);
    if (details) { details.open = false; }
  }

  checkers.truefalse = checkers.choice;

  // --- generated questions: which variant this browser shows ------------------------------------
  // SHA-256 (FIPS 180-4) of a byte array, as eight unsigned 32-bit words. Written out because
  // crypto.subtle exists only on https and localhost, and the site is also opened from file:// and
  // plain http hosts.
  var SHA256_K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  function rotr(x, n) {
    return (x >>> n) | (x << (32 - n));
  }

  function sha256(bytes) {
    var hash = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var padded = new Uint8Array(Math.ceil((bytes.length + 9) / 64) * 64);
    padded.set(bytes);
    padded[bytes.length] = 0x80;
    var view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000)); // the length in bits, 64-bit
    view.setUint32(padded.length - 4, (bytes.length * 8) >>> 0);
    var w = new Array(64);
    for (var block = 0; block < padded.length; block += 64) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) { w[t] = view.getUint32(block + 4 * t) | 0; continue; }
        var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
        var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var a = hash[0], b = hash[1], c = hash[2], d = hash[3], e = hash[4], f = hash[5], g = hash[6], h = hash[7];
      for (var r = 0; r < 64; r++) {
        var t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[r] + w[r]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      var words = [a, b, c, d, e, f, g, h];
      for (var i = 0; i < 8; i++) { hash[i] = (hash[i] + words[i]) | 0; }
    }
    return hash.map(function (word) { return word >>> 0; });
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    if (window.crypto && window.crypto.getRandomValues) { window.crypto.getRandomValues(bytes); }
    else { for (var i = 0; i < bytes.length; i++) { bytes[i] = Math.floor(Math.random() * 256); } }
    return Array.prototype.map.call(bytes, function (byte) { return (byte + 256).toString(16).slice(1); }).join("");
  }

  // This browser's id, made once and kept with the progress.
  function learnerId() {
    if (typeof state.learner !== "string" || !state.learner) {
      state.learner = randomId();
      save();
    }
    return state.learner;
  }

  // The variant (1-based) this browser draws: the draw of quizgen.variants.learner_index, so a learner id
  // gets the same variants here as in their notebook. SHA-256 of "quizgen-variant␟<id>␟<concept>#<question>",
  // its first 8 bytes as a big-endian number, modulo the number of variants.
  function drawnVariant(key, count) {
    var words = sha256(new TextEncoder().encode("quizgen-variant\x1f" + learnerId() + "\x1f" + key));
    return ((words[0] % count) * (0x100000000 % count) + words[1] % count) % count + 1;
  }

  function variantCount(section) {
    return Number(section.getAttribute("data-variant-count"));
  }

  function chosenVariant(section) {
    var key = section.getAttribute("data-key"), count = variantCount(section);
    var chosen = state.variants[key];
    return typeof chosen === "number" && chosen >= 1 && chosen <= count && chosen % 1 === 0
      ? chosen : drawnVariant(key, count);
  }

  // The variant a form's question shows (null for a question without variants).
  function shownVariant(form) {
    var section = form.closest("[data-variant-count]");
    return section ? Number(section.getAttribute("data-shown")) : null;
  }

  // Shows one variant: its texts, its numbers in the forms, its label; the forms start empty, and take
  // back the saved answer when it answered this variant.
  function showVariant(section, index) {
    section.setAttribute("data-shown", index);
    var parts = section.querySelectorAll("[data-variant]");
    for (var i = 0; i < parts.length; i++) {
      parts[i].hidden = Number(parts[i].getAttribute("data-variant")) !== index;
    }
    var forms = section.querySelectorAll("form.quiz");
    var entry = state.answers[section.getAttribute("data-key")];
    for (var f = 0; f < forms.length; f++) {
      var table = forms[f].getAttribute("data-variants");
      table = table ? JSON.parse(table) : {};
      for (var name in table) {
        var value = table[name][index - 1];
        if (value === null || value === undefined) { forms[f].removeAttribute("data-" + name); }
        else { forms[f].setAttribute("data-" + name, value); }
      }
      resetForm(forms[f]);
      if (entry && (entry.variant || 1) === index) { restore(forms[f], entry); }
    }
    section.querySelector("[data-variant-label]").textContent = "Variant " + index + " of " + variantCount(section);
  }

  function newVariant(section) {
    var key = section.getAttribute("data-key"), count = variantCount(section);
    var index = Number(section.getAttribute("data-shown")) % count + 1;
    state.variants[key] = index;
    save();
    showVariant(section, index);
    showProgress();
    var entry = state.answers[key];
    var kept = entry && typeof entry.score === "number" && (entry.variant || 1) !== index;
    section.querySelector(".variant-status").textContent = "Now variant " + index + " of " + count + ": new numbers." +
      (kept ? " Your score from variant " + (entry.variant || 1) + " counts until you check this one." : "");
  }

  function setUpVariants() {
    var sections = document.querySelectorAll("section[data-variant-count]");
    for (var i = 0; i < sections.length; i++) {
      var section = sections[i];
      showVariant(section, chosenVariant(section));
      var bar = section.querySelector(".variant-bar");
      bar.hidden = false;
      bar.querySelector("[data-new-variant]").addEventListener("click", function (event) {
        newVariant(event.currentTarget.closest("section[data-variant-count]"));
      });
    }
  }

  // --- progress on the index, tag and concept pages --------------------------------------------
  function showProgress() {
    var total = Number((document.querySelector("[data-progress-bar]") || {}).max || 0);
    var all = answered("");
    var summary = document.querySelector("[data-progress-summary]");
    if (summary) {
      summary.textContent = all.count
        ? "You have answered " + all.count + " of " + plural(total, "question") + "."
        : "No questions answered yet.";
      document.querySelector("[data-progress-bar]").value = all.count;
    }
    var marks = document.querySelectorAll("[data-progress-for]");
    for (var i = 0; i < marks.length; i++) {
      var id = marks[i].getAttribute("data-progress-for");
      var item = marks[i].closest("[data-questions]");
      var mine = answered(id + "#");
      marks[i].hidden = mine.count === 0;
      marks[i].textContent = mine.count ? "· " + mine.count + " of " + item.getAttribute("data-questions") + " answered" : "";
      item.classList.toggle("done", mine.count > 0 && mine.count >= Number(item.getAttribute("data-questions")));
    }
    var page = document.querySelector("[data-page-progress]");
    if (page) {
      var article = page.closest("[data-concept]");
      var own = answered(article.getAttribute("data-concept") + "#");
      var count = Number(article.getAttribute("data-questions"));
      page.hidden = false;
      page.classList.toggle("none", own.count === 0);
      page.textContent = own.count
        ? "You have answered " + own.count + " of " + plural(count, "question") + " here, scoring " +
          ofPoints(own.score, pagePoints()) + "."
        : "You have not answered any of the " + plural(count, "question") + " here yet.";
    }
  }

  function pagePoints() {
    var total = 0;
    var forms = document.querySelectorAll("form.quiz[data-points]");
    for (var i = 0; i < forms.length; i++) { total += Number(forms[i].getAttribute("data-points")); }
    return total;
  }

  function resetProgress(button) {
    var scope = button.getAttribute("data-reset");
    var stores = [state.answers, state.variants];
    for (var s = 0; s < stores.length; s++) {
      for (var key in stores[s]) {
        if (scope === "all" || key.indexOf(scope + "#") === 0) { delete stores[s][key]; }
      }
    }
    save();
    var forms = document.querySelectorAll("form.quiz");
    for (var i = 0; i < forms.length; i++) { resetForm(forms[i]); }
    // Generated questions go back to the variant this browser draws, with empty forms.
    var sections = document.querySelectorAll("section[data-variant-count]");
    for (var v = 0; v < sections.length; v++) {
      showVariant(sections[v], chosenVariant(sections[v]));
      sections[v].querySelector(".variant-status").textContent = "";
    }
    showProgress();
    var status = button.parentNode.parentNode.querySelector(".reset-status");
    if (status) { status.textContent = scope === "all" ? "Your progress has been reset." : "The answers on this page have been cleared."; }
  }

  // --- wiring -----------------------------------------------------------------------------------
  function start() {
    renderMath();
    setUpVariants();
    var forms = document.querySelectorAll("form.quiz");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      var actions = form.querySelector(".actions");
      if (actions) { actions.hidden = false; }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var target = event.currentTarget;
        var outcome = check(target);
        if (outcome) { record(target.getAttribute("data-key"), outcome, shownVariant(target)); }
        if (target.getAttribute("data-type") === "critique-text") {
          var details = answerDetails(target);
          details.querySelector("summary").focus();
        }
      });
      var entry = state.answers[form.getAttribute("data-key")];
      if (entry && !shownVariant(form)) { restore(form, entry); } // showVariant restored the others
    }
    var textareas = document.querySelectorAll("form.quiz textarea");
    for (var t = 0; t < textareas.length; t++) {
      textareas[t].addEventListener("change", function (event) {
        var owner = event.currentTarget.form;
        record(owner.getAttribute("data-key"), { text: event.currentTarget.value }, shownVariant(owner));
      });
    }
    var resets = document.querySelectorAll("[data-reset]");
    for (var r = 0; r < resets.length; r++) {
      resets[r].addEventListener("click", function (event) { resetProgress(event.currentTarget); });
      var holder = resets[r].closest("[hidden]");
      if (holder) { holder.hidden = false; }
    }
    var panel = document.querySelector("[data-progress-panel]");
    if (panel) { panel.hidden = false; }
    showProgress();
    window.addEventListener("storage", function (event) {
      if (event.key === STORE_KEY) { state = load(); showProgress(); }
    });
    // Printing shows every answer and explanation: open the <details>, then restore them.
    var opened = [];
    window.addEventListener("beforeprint", function () {
      opened = Array.prototype.filter.call(document.querySelectorAll("details:not([open])"), function (d) {
        d.open = true;
        return true;
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (d) { d.open = false; });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
