/* quizgen site: renders math, checks answers, keeps progress in localStorage.
   Every page works without this file: answers and explanations are in <details>. */
(function () {
  "use strict";

  var STORE_KEY = "quizgen:" + (document.body.getAttribute("data-course") || "course");

  // --- progress: {answers: {"concept#question": {response, score, points, text}}} ---------------
  function load() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}");
      return stored && typeof stored.answers === "object" ? stored : { answers: {} };
    } catch (error) {
      return { answers: {} }; // storage disabled or damaged: the page still works, nothing is kept
    }
  }
  var state = load();

  function save() {
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (error) { /* private mode or full storage: answers last until the page closes */ }
  }

  function record(key, entry) {
    var old = state.answers[key] || {};
    for (var name in entry) { old[name] = entry[name]; }
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
    for (var key in state.answers) {
      if (scope === "all" || key.indexOf(scope + "#") === 0) { delete state.answers[key]; }
    }
    save();
    var forms = document.querySelectorAll("form.quiz");
    for (var i = 0; i < forms.length; i++) { resetForm(forms[i]); }
    showProgress();
    var status = button.parentNode.parentNode.querySelector(".reset-status");
    if (status) { status.textContent = scope === "all" ? "Your progress has been reset." : "The answers on this page have been cleared."; }
  }

  // --- wiring -----------------------------------------------------------------------------------
  function start() {
    renderMath();
    var forms = document.querySelectorAll("form.quiz");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      var actions = form.querySelector(".actions");
      if (actions) { actions.hidden = false; }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var target = event.currentTarget;
        var outcome = check(target);
        if (outcome) { record(target.getAttribute("data-key"), outcome); }
        if (target.getAttribute("data-type") === "critique-text") {
          var details = answerDetails(target);
          details.querySelector("summary").focus();
        }
      });
      var entry = state.answers[form.getAttribute("data-key")];
      if (entry) { restore(form, entry); }
    }
    var textareas = document.querySelectorAll("form.quiz textarea");
    for (var t = 0; t < textareas.length; t++) {
      textareas[t].addEventListener("change", function (event) {
        var owner = event.currentTarget.form;
        record(owner.getAttribute("data-key"), { text: event.currentTarget.value });
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
