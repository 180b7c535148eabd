/* quizgen site: checks answers, keeps progress and scores in localStorage, searches the course, switches
   the colour theme. Every page works without this file: math is MathML, answers and explanations are in
   <details>. */
(function () {
  "use strict";

  var STORE_KEY = "quizgen:" + (document.body.getAttribute("data-course") || "course");
  var THEME_KEY = "quizgen:theme";
  var ROOT = document.body.getAttribute("data-root") || "";

  // --- progress: {answers: {"concept#question": {response, score, points, text, variant, first, best, checks}},
  //     learner: this browser's random id, variants: {"concept#question": the variant "New variant" chose}}.
  // score/points are the last checked answer's; first and best are [score, points] of the first check and of
  // the best one; checks counts them.
  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // What progress may hold, checked field by field: a file a learner loads is untrusted, and so is storage
  // another version of the site wrote. Unknown fields are dropped; a bad entry is dropped whole.
  var QUESTION_KEY = /^[a-z0-9]+(?:-[a-z0-9]+)*#[a-z0-9]+(?:-[a-z0-9]+)*$/;
  var MAX_POINTS = 1e6, MAX_TEXT = 100000, MAX_VARIANT = 1e6;

  function isScore(value, points) {
    return typeof value === "number" && isFinite(value) && value >= 0 && value <= points * (1 + 1e-9) + 1e-12;
  }

  function isPoints(value) {
    return typeof value === "number" && isFinite(value) && value > 0 && value <= MAX_POINTS;
  }

  function isCount(value, limit) {
    return typeof value === "number" && value % 1 === 0 && value >= 0 && value <= limit;
  }

  function cleanPair(pair) {
    return Array.isArray(pair) && pair.length === 2 && isPoints(pair[1]) && isScore(pair[0], pair[1])
      ? [pair[0], pair[1]] : undefined;
  }

  function cleanResponse(response) {
    if (typeof response === "string") { return response.length <= MAX_TEXT ? response : undefined; }
    if (!Array.isArray(response) || response.length > 1000) { return undefined; }
    for (var i = 0; i < response.length; i++) {
      var item = response[i];
      var fine = item === null || (typeof item === "number" && isFinite(item)) ||
        (typeof item === "string" && item.length <= 100);
      if (!fine) { return undefined; }
    }
    return response.slice();
  }

  function cleanEntry(entry) {
    if (!isObject(entry)) { return null; }
    var clean = {};
    if (entry.score !== undefined || entry.points !== undefined) {
      if (!isPoints(entry.points) || !isScore(entry.score, entry.points)) { return null; }
      clean.score = entry.score;
      clean.points = entry.points;
    }
    if (entry.response !== undefined && entry.response !== null) {
      clean.response = cleanResponse(entry.response);
      if (clean.response === undefined) { return null; }
    }
    if (entry.text !== undefined) {
      if (typeof entry.text !== "string" || entry.text.length > MAX_TEXT) { return null; }
      clean.text = entry.text;
    }
    if (entry.variant !== undefined) {
      if (!isCount(entry.variant, MAX_VARIANT) || entry.variant < 1) { return null; }
      clean.variant = entry.variant;
    }
    var names = ["first", "best"];
    for (var n = 0; n < names.length; n++) {
      if (entry[names[n]] !== undefined) {
        clean[names[n]] = cleanPair(entry[names[n]]);
        if (!clean[names[n]]) { return null; }
      }
    }
    if (entry.checks !== undefined) {
      if (!isCount(entry.checks, 1e9)) { return null; }
      clean.checks = entry.checks;
    }
    return clean;
  }

  // {answers, variants, learner} from whatever ``data`` is, and how many entries were dropped; ``known``
  // (optional) says which concept ids this course has.
  function cleanProgress(data, known) {
    var progress = { answers: {}, variants: {} }, dropped = 0;
    if (!isObject(data)) { return { progress: progress, dropped: 0 }; }
    var answers = isObject(data.answers) ? data.answers : {};
    Object.keys(answers).forEach(function (key) {
      var entry = QUESTION_KEY.test(key) && key.length <= 200 && (!known || known[key.split("#")[0]])
        ? cleanEntry(answers[key]) : null;
      if (entry) { progress.answers[key] = entry; } else { dropped += 1; }
    });
    var variants = isObject(data.variants) ? data.variants : {};
    Object.keys(variants).forEach(function (key) {
      var fine = QUESTION_KEY.test(key) && isCount(variants[key], MAX_VARIANT) && variants[key] >= 1 &&
        (!known || known[key.split("#")[0]]);
      if (fine) { progress.variants[key] = variants[key]; } else { dropped += 1; }
    });
    if (typeof data.learner === "string" && /^[0-9a-z-]{1,64}$/.test(data.learner)) {
      progress.learner = data.learner;
    }
    return { progress: progress, dropped: dropped };
  }

  function load() {
    var stored;
    try {
      stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}");
    } catch (error) {
      stored = null; // storage disabled or damaged: the page still works, nothing is kept
    }
    return cleanProgress(stored).progress;
  }
  var state = load();

  function save() {
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (error) { /* private mode or full storage: answers last until the page closes */ }
  }

  function better(pair, score, points) {
    return !pair || score / points > pair[0] / pair[1];
  }

  // An answer belongs to the variant it answered (a generated question's `variant`, 1-based; none for
  // other questions, and an answer saved before variants existed answered the first). An answer to another
  // variant is replaced, but its score keeps counting until this variant is scored; the first and best
  // scores and the count of checks are the question's, whatever the variant.
  function record(key, entry, variant) {
    var old = state.answers[key] || {};
    if (variant && (old.variant || 1) !== variant) {
      var kept = {};
      if (typeof old.score === "number" && typeof entry.score !== "number") { kept.score = old.score; kept.points = old.points; }
      ["first", "best", "checks"].forEach(function (name) { if (old[name] !== undefined) { kept[name] = old[name]; } });
      old = kept;
    }
    for (var name in entry) { old[name] = entry[name]; }
    if (variant) { old.variant = variant; }
    if (typeof entry.score === "number") {
      if (!old.first) { old.first = [entry.score, entry.points]; }
      if (better(old.best, entry.score, entry.points)) { old.best = [entry.score, entry.points]; }
      old.checks = (old.checks || 0) + 1;
    }
    state.answers[key] = old;
    save();
    showProgress();
  }

  // The best score of an entry (an answer kept from before best scores existed counts its last score).
  function bestOf(entry) {
    return entry.best || [entry.score, entry.points];
  }

  // Totals over the scored questions whose key starts with ``prefix``.
  function answered(prefix) {
    var totals = { count: 0, score: 0, best: 0, first: 0, firstCount: 0, wrong: 0 };
    for (var key in state.answers) {
      var entry = state.answers[key];
      if ((!prefix || key.indexOf(prefix) === 0) && typeof entry.score === "number") {
        totals.count += 1;
        totals.score += entry.score;
        totals.best += bestOf(entry)[0];
        if (entry.first) { totals.first += entry.first[0]; totals.firstCount += 1; }
        if (isMistake(entry)) { totals.wrong += 1; }
      }
    }
    return totals;
  }

  function isMistake(entry) {
    return typeof entry.score === "number" && entry.score < entry.points * (1 - 1e-9);
  }

  function fmt(value) {
    return String(Math.round(value * 100) / 100);
  }

  function ofPoints(score, points) {
    return fmt(score) + " of " + fmt(points) + (points === 1 ? " point" : " points");
  }

  function plural(count, noun, nouns) {
    return count + " " + (count === 1 ? noun : nouns || noun + "s");
  }

  // --- wide equations and tables ----------------------------------------------------------------------
  // A box that scrolls sideways is a focusable region (so a keyboard can scroll it); one that fits is
  // neither, so it adds no tab stop. Without this script every such box is focusable.
  function fitScrollBoxes() {
    var boxes = document.querySelectorAll("[data-scroll]");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (!box.clientWidth) { continue; } // not shown now: measured when it is
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", box.getAttribute("data-scroll"));
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  }

  var fitPending = false;
  function fitSoon() {
    if (fitPending) { return; }
    fitPending = true;
    window.requestAnimationFrame(function () { fitPending = false; fitScrollBoxes(); });
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

  var SAYS_VERDICT = /^(right|correct|yes|exactly|true|false|wrong|incorrect|no|not (right|quite|correct|so))\b/i;

  function markOption(form, index, right) {
    var item = optionItems(form)[index];
    item.classList.add(right ? "is-right" : "is-wrong");
    var feedback = document.createElement("div");
    feedback.className = "option-feedback";
    var verdict = document.createElement("strong");
    feedback.appendChild(verdict);
    var source = keyItem(form, index);
    var text = source ? source.querySelector(".feedback") : null;
    if (source) { source.classList.add("chosen"); }
    if (text) { feedback.appendChild(text.cloneNode(true)); }
    // Feedback that opens with its own verdict ("Right: …") gets the mark alone, not "Right. Right: …".
    var shown = text ? (text.querySelector("[data-variant]:not([hidden])") || text).textContent : "";
    verdict.textContent = SAYS_VERDICT.test(shown.trim())
      ? (right ? "✓ " : "✗ ") : (right ? "✓ Right. " : "✗ Not right. ");
    item.appendChild(feedback);
  }

  function setVerdict(form, kind, message) {
    var verdict = form.querySelector(".verdict");
    verdict.className = "verdict" + (kind ? " " + kind : "");
    verdict.textContent = message;
  }

  // The short-answer rule of the course model (quizgen/questions/short.py: normalize_answer and
  // answer_matches): NFKC, lower case, hyphens, dashes, brackets and sentence punctuation read as spaces
  // (a "." or "," between two digits kept), white space runs as one space; "X (Y)" also matches when X and
  // every Y are accepted on their own.
  var SEPARATORS = /[\-\u2010-\u2015\u2212()\[\]{};:!?"'`\u2018\u2019\u201c\u201d\u00ab\u00bb]|(?<![0-9])[.,]|[.,](?![0-9])/g;
  var GLOSS = /[(\[]([^()\[\]]*)[)\]]/g;

  function normalize(text) {
    return text.normalize("NFKC").toLowerCase().replace(SEPARATORS, " ").replace(/\s+/g, " ").trim();
  }

  function answerMatches(response, accepted) {
    var keys = accepted.map(normalize).filter(function (key) { return key !== ""; });
    if (keys.indexOf(normalize(response)) >= 0) { return true; }
    var glosses = [], match;
    GLOSS.lastIndex = 0;
    while ((match = GLOSS.exec(response)) !== null) { glosses.push(match[1]); }
    if (!glosses.length || keys.indexOf(normalize(response.replace(GLOSS, " "))) < 0) { return false; }
    return glosses.every(function (gloss) { return keys.indexOf(normalize(gloss)) >= 0; });
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

  // The multi rule of the course model (quizgen/questions/multi.py: partial_score): each right option
  // chosen earns 1/R of the points, each wrong one costs 1/W, the total floored at 0, so that ticking
  // every option, or none, earns nothing. Counted in whole options, as multi.py counts them.
  function multiScore(right, chosen, optionCount, points, scoring) {
    var rightChosen = 0, wrongChosen = 0;
    for (var i = 0; i < chosen.length; i++) {
      if (right.indexOf(chosen[i]) >= 0) { rightChosen += 1; } else { wrongChosen += 1; }
    }
    if (scoring === "all-or-nothing") {
      return rightChosen === right.length && wrongChosen === 0 ? points : 0;
    }
    var wrongCount = optionCount - right.length;
    var earned = rightChosen / right.length - (wrongCount ? wrongChosen / wrongCount : 0);
    return points * Math.max(0, earned);
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
      var optionCount = form.querySelectorAll(".options input").length;
      var score = multiScore(right, chosen, optionCount, points, form.getAttribute("data-scoring"));
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
      var isRight = answerMatches(input.value, JSON.parse(form.getAttribute("data-accepted")));
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
        setVerdict(form, "", "Choose a level for every criterion (" + plural(missing, "criterion", "criteria") + " left).");
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
    fitSoon();
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
      section.querySelector("[data-new-variant]").addEventListener("click", function (event) {
        newVariant(event.currentTarget.closest("section[data-variant-count]"));
      });
    }
  }

  // --- progress and scores on the index, tag and concept pages ------------------------------------------
  function showProgress() {
    showCourseProgress();
    showConceptMarks();
    showPageProgress();
    showQuestionScores();
    showReview();
  }

  function showCourseProgress() {
    var panel = document.querySelector("[data-progress-panel]");
    if (!panel) { return; }
    var bar = panel.querySelector("[data-progress-bar]");
    var total = Number(bar.max);
    var all = answered("");
    panel.querySelector("[data-progress-summary]").textContent = all.count
      ? "You have answered " + all.count + " of " + plural(total, "question") + "."
      : "No questions answered yet.";
    bar.value = all.count;
    var points = Number(panel.getAttribute("data-points"));
    var course = panel.querySelector("[data-course-score]");
    course.hidden = all.count === 0;
    course.textContent = all.count
      ? "Course score: best " + ofPoints(all.best, points) + " (" + Math.round(100 * all.best / points) +
        "%); first tries " + ofPoints(all.first, points) + "." +
        (all.wrong ? " " + plural(all.wrong, "question") + " to review." : "")
      : "";
  }

  function showConceptMarks() {
    var marks = document.querySelectorAll("[data-progress-for]");
    for (var i = 0; i < marks.length; i++) {
      var id = marks[i].getAttribute("data-progress-for");
      var item = marks[i].closest("[data-questions]");
      var mine = answered(id + "#");
      marks[i].hidden = mine.count === 0;
      marks[i].textContent = mine.count
        ? "· " + mine.count + " of " + item.getAttribute("data-questions") + " answered · best " +
          ofPoints(mine.best, Number(item.getAttribute("data-points")))
        : "";
      item.classList.toggle("done", mine.count > 0 && mine.count >= Number(item.getAttribute("data-questions")));
    }
  }

  function showPageProgress() {
    var page = document.querySelector("[data-page-progress]");
    if (!page) { return; }
    var article = page.closest("[data-concept]");
    var own = answered(article.getAttribute("data-concept") + "#");
    var count = Number(article.getAttribute("data-questions"));
    var points = pagePoints();
    page.classList.toggle("none", own.count === 0);
    page.textContent = own.count
      ? "You have answered " + own.count + " of " + plural(count, "question") + " here, scoring " +
        ofPoints(own.score, points) + ". Best scores: " + fmt(own.best) + "; first tries: " + fmt(own.first) + "."
      : "You have not answered any of the " + plural(count, "question") + " here yet.";
  }

  function pagePoints() {
    var total = 0;
    var forms = document.querySelectorAll("form.quiz[data-points]");
    for (var i = 0; i < forms.length; i++) { total += Number(forms[i].getAttribute("data-points")); }
    return total;
  }

  function showQuestionScores() {
    var boxes = document.querySelectorAll("[data-question-score]");
    for (var i = 0; i < boxes.length; i++) {
      var key = boxes[i].querySelector("[data-reset-question]").getAttribute("data-reset-question");
      var entry = state.answers[key];
      var status = boxes[i].querySelector(".reset-status");
      boxes[i].hidden = !entry && !status.textContent;
      var line = boxes[i].querySelector("[data-score-line]");
      line.hidden = !entry || typeof entry.score !== "number";
      if (!line.hidden) {
        var best = bestOf(entry);
        line.textContent = "Your last check: " + ofPoints(entry.score, entry.points) +
          (entry.first ? " · first try: " + ofPoints(entry.first[0], entry.first[1]) : "") +
          " · best: " + ofPoints(best[0], best[1]) +
          (entry.checks ? " · " + plural(entry.checks, "check") : "");
      }
    }
  }

  // Every form as the progress says: empty, then filled back in (a generated question shows its variant).
  function showAnswers() {
    var forms = document.querySelectorAll("form.quiz");
    for (var i = 0; i < forms.length; i++) {
      if (!shownVariant(forms[i])) {
        resetForm(forms[i]);
        var entry = state.answers[forms[i].getAttribute("data-key")];
        if (entry) { restore(forms[i], entry); }
      }
    }
    var sections = document.querySelectorAll("section[data-variant-count]");
    for (var v = 0; v < sections.length; v++) { showVariant(sections[v], chosenVariant(sections[v])); }
    showProgress();
  }

  function copyOf(value) {
    return JSON.parse(JSON.stringify(value));
  }

  // A status line saying what was cleared or loaded, with a button that puts the progress back as it was.
  function offerUndo(status, message, before, trigger) {
    status.textContent = message + " ";
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "secondary small";
    undo.textContent = "Undo";
    undo.addEventListener("click", function () {
      state = before;
      save();
      status.textContent = "Undone: your answers are back.";
      showAnswers();
      trigger.focus();
    });
    status.appendChild(undo);
    showProgress();
  }

  // Clears the answers of the whole course ("all"), of a concept (its id) or of a question ("concept#question"),
  // and the variants "New variant" chose for them: those questions go back to the variants this browser draws.
  function clearProgress(scope) {
    var stores = [state.answers, state.variants];
    for (var s = 0; s < stores.length; s++) {
      for (var key in stores[s]) {
        if (scope === "all" || key === scope || key.indexOf(scope + "#") === 0) { delete stores[s][key]; }
      }
    }
    save();
    var sections = document.querySelectorAll("section[data-variant-count]");
    for (var v = 0; v < sections.length; v++) { sections[v].querySelector(".variant-status").textContent = ""; }
    showAnswers();
  }

  function resetProgress(button) {
    var scope = button.getAttribute("data-reset");
    var before = copyOf(state);
    clearProgress(scope);
    var status = button.closest("section, p").querySelector(".reset-status");
    offerUndo(status, scope === "all" ? "Your progress has been reset." : "The answers on this page have been cleared.",
      before, button);
  }

  function resetQuestion(button) {
    var before = copyOf(state);
    clearProgress(button.getAttribute("data-reset-question"));
    offerUndo(button.parentNode.querySelector(".reset-status"), "Your answer to this question is cleared.", before, button);
  }

  // --- progress as a file --------------------------------------------------------------------------------
  var FILE_FORMAT = "quizgen-progress";

  function courseTitle() {
    var brand = document.querySelector(".brand");
    return brand ? brand.textContent.trim() : "";
  }

  function exportProgress() {
    var data = {
      format: FILE_FORMAT, version: 1, course: STORE_KEY.slice("quizgen:".length), title: courseTitle(),
      answers: state.answers, variants: state.variants, learner: state.learner
    };
    var blob = new Blob([JSON.stringify(data, null, 1) + "\n"], { type: "application/json" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "progress-" + data.course + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  var MAX_FILE_BYTES = 5 * 1024 * 1024;

  function importProgress(input) {
    var status = input.closest("section").querySelector(".reset-status");
    var file = input.files && input.files[0];
    if (!file) { return; }
    input.value = "";
    if (file.size > MAX_FILE_BYTES) {
      status.textContent = "That file is too large to be progress saved from this site.";
      return;
    }
    file.text().then(function (text) {
      var data = null;
      try { data = JSON.parse(text); } catch (error) { /* said below */ }
      if (!isObject(data) || data.format !== FILE_FORMAT) {
        status.textContent = "That file is not progress saved from this site (“Download my progress” makes one).";
        return;
      }
      if (data.course !== STORE_KEY.slice("quizgen:".length)) {
        status.textContent = "That file holds progress for another course" +
          (typeof data.title === "string" ? " (" + data.title.slice(0, 200) + ")" : "") + "; nothing was loaded.";
        return;
      }
      var known = {};
      var concepts = document.querySelectorAll("[data-concept]");
      for (var i = 0; i < concepts.length; i++) { known[concepts[i].getAttribute("data-concept")] = true; }
      var cleaned = cleanProgress(data, known);
      var before = copyOf(state);
      state = cleaned.progress;
      if (!state.learner && before.learner) { state.learner = before.learner; }
      save();
      showAnswers();
      var count = Object.keys(state.answers).length;
      offerUndo(status, "Loaded " + plural(count, "answer") + " from " + file.name + "." +
        (cleaned.dropped ? " " + plural(cleaned.dropped, "entry", "entries") + " did not fit this course and were left out." : ""),
        before, input);
    }, function () {
      status.textContent = "That file could not be read.";
    });
  }

  // --- colour theme ----------------------------------------------------------------------------------------
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function themeNow() {
    var chosen = document.documentElement.getAttribute("data-theme");
    return chosen || (systemDark && systemDark.matches ? "dark" : "light");
  }

  function setUpTheme() {
    var button = document.querySelector("[data-theme-toggle]");
    if (!button) { return; }
    var show = function () { button.setAttribute("aria-pressed", themeNow() === "dark" ? "true" : "false"); };
    button.addEventListener("click", function () {
      var theme = themeNow() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", theme);
      try { window.localStorage.setItem(THEME_KEY, theme); } catch (error) { /* kept for this page only */ }
      show();
    });
    if (systemDark && systemDark.addEventListener) { systemDark.addEventListener("change", show); }
    show();
  }

  // --- search ------------------------------------------------------------------------------------------
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // The index (search-index.js, written at build time) as a list of things to find.
  function searchItems() {
    var index = window.quizgenSearch;
    if (!index) { return null; }
    var items = index.concepts.map(function (concept) {
      return { kind: "concept", href: "concepts/" + concept[0] + ".html", title: concept[1], text: concept[3],
        context: "", title_: fold(concept[1]), text_: fold(concept[2].join(" ") + " " + concept[3]) };
    });
    index.questions.forEach(function (q) {
      var concept = index.concepts[q[0]];
      items.push({ kind: "question", href: "concepts/" + concept[0] + ".html#q-" + q[1], title: q[2], text: q[3],
        context: concept[1], title_: fold(q[2]), text_: fold(q[3] + " " + concept[1]) });
    });
    return items;
  }

  function search(items, query) {
    var terms = fold(query).split(/\s+/).filter(Boolean);
    if (!terms.length) { return []; }
    var found = [];
    items.forEach(function (item, position) {
      var rank = 0;
      for (var t = 0; t < terms.length; t++) {
        if (item.title_.indexOf(terms[t]) >= 0) { rank += 3; }
        else if (item.text_.indexOf(terms[t]) >= 0) { rank += 1; }
        else { return; }
      }
      found.push({ item: item, rank: rank + (item.kind === "concept" ? 1 : 0), position: position });
    });
    found.sort(function (a, b) { return b.rank - a.rank || a.position - b.position; });
    return found.map(function (hit) { return hit.item; });
  }

  // Part of a text around the first term it holds, each term in <mark>.
  function snippet(text, terms) {
    var folded = fold(text), start = 0;
    for (var t = 0; t < terms.length; t++) {
      var at = folded.indexOf(terms[t]);
      if (at >= 0) { start = Math.max(0, at - 60); break; }
    }
    var cut = text.slice(start, start + 200);
    var foldedCut = fold(cut);
    var fragment = document.createDocumentFragment();
    if (start > 0) { fragment.appendChild(document.createTextNode("…")); }
    var position = 0;
    // fold() keeps the length of most text; where it does not (letters with accents written apart), no marks
    var marks = foldedCut.length === cut.length;
    while (marks && position < cut.length) {
      var next = -1, length = 0;
      for (var k = 0; k < terms.length; k++) {
        var hit = foldedCut.indexOf(terms[k], position);
        if (hit >= 0 && (next < 0 || hit < next)) { next = hit; length = terms[k].length; }
      }
      if (next < 0) { break; }
      fragment.appendChild(document.createTextNode(cut.slice(position, next)));
      var mark = document.createElement("mark");
      mark.textContent = cut.slice(next, next + length);
      fragment.appendChild(mark);
      position = next + length;
    }
    fragment.appendChild(document.createTextNode(cut.slice(position) + (start + 200 < text.length ? "…" : "")));
    return fragment;
  }

  var SHOWN_RESULTS = 50;

  function setUpSearch() {
    var form = document.querySelector("[data-search]");
    if (!form) { return; }
    var items = searchItems();
    var input = form.querySelector("input");
    var status = document.getElementById("search-status");
    var list = document.querySelector("[data-search-results]");
    if (!items) { status.textContent = "The search index did not load; rebuild the site."; return; }
    var show = function () {
      var query = input.value.trim();
      var found = search(items, query);
      var terms = fold(query).split(/\s+/).filter(Boolean);
      list.textContent = "";
      found.slice(0, SHOWN_RESULTS).forEach(function (item) {
        var entry = document.createElement("li");
        entry.className = "result result-" + item.kind;
        var link = document.createElement("a");
        link.href = item.href;
        link.textContent = item.title;
        entry.appendChild(link);
        var kind = document.createElement("span");
        kind.className = "note";
        kind.textContent = item.kind === "concept" ? " Concept" : " Question in “" + item.context + "”";
        entry.appendChild(kind);
        if (item.text) {
          var text = document.createElement("p");
          text.className = "snippet";
          text.appendChild(snippet(item.text, terms));
          entry.appendChild(text);
        }
        list.appendChild(entry);
      });
      status.textContent = !query ? "Type a word of a concept or a question."
        : found.length === 0 ? "Nothing found for “" + query + "”."
          : plural(found.length, "result") + " for “" + query + "”" +
            (found.length > SHOWN_RESULTS ? ", the first " + SHOWN_RESULTS + " shown." : ".");
      var url = new URL(window.location.href);
      if (query) { url.searchParams.set("q", query); } else { url.searchParams.delete("q"); }
      try { window.history.replaceState(null, "", url.href); } catch (error) { /* file:// in some browsers */ }
    };
    var timer = null;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(show, 120);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      show();
    });
    input.value = new URLSearchParams(window.location.search).get("q") || "";
    show();
    input.focus();
  }

  // --- review: the questions whose last checked answer scored less than full points -----------------------
  function showReview() {
    var holder = document.querySelector("[data-review]");
    if (!holder) { return; }
    var index = window.quizgenSearch || { concepts: [], questions: [] };
    var list = holder.querySelector("[data-review-list]");
    list.textContent = "";
    var count = 0;
    index.questions.forEach(function (q) {
      var concept = index.concepts[q[0]];
      var key = concept[0] + "#" + q[1];
      var entry = state.answers[key];
      if (!entry || !isMistake(entry)) { return; }
      count += 1;
      var item = document.createElement("li");
      item.setAttribute("data-key", key);
      var link = document.createElement("a");
      link.href = "concepts/" + concept[0] + ".html#q-" + q[1];
      link.textContent = q[2];
      item.appendChild(link);
      var where = document.createElement("span");
      where.className = "note";
      where.textContent = " in “" + concept[1] + "”";
      item.appendChild(where);
      var scored = document.createElement("p");
      var best = bestOf(entry);
      scored.textContent = "Your last check scored " + ofPoints(entry.score, entry.points) +
        (best[0] > entry.score ? "; your best was " + ofPoints(best[0], best[1]) : "") + "." +
        (typeof entry.response === "string" ? " You answered “" + entry.response.slice(0, 200) + "”." : "");
      item.appendChild(scored);
      list.appendChild(item);
    });
    var all = answered("");
    holder.querySelector("[data-review-summary]").textContent = count
      ? plural(count, "question") + " to review."
      : all.count ? "Nothing to review: every question you checked scored full points."
        : "You have not checked any answers yet.";
  }

  // --- wiring -----------------------------------------------------------------------------------
  function start() {
    setUpTheme();
    fitScrollBoxes();
    window.addEventListener("resize", fitSoon);
    document.addEventListener("toggle", fitSoon, true); // an answer panel opening shows its equations
    setUpVariants();
    var forms = document.querySelectorAll("form.quiz");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
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
    }
    var clears = document.querySelectorAll("[data-reset-question]");
    for (var c = 0; c < clears.length; c++) {
      clears[c].addEventListener("click", function (event) { resetQuestion(event.currentTarget); });
    }
    var exporter = document.querySelector("[data-export]");
    if (exporter) { exporter.addEventListener("click", exportProgress); }
    var importer = document.querySelector("[data-import]");
    if (importer) { importer.addEventListener("change", function () { importProgress(importer); }); }
    setUpSearch();
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
