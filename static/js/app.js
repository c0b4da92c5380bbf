/* CourseLens progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Live character counter for textareas with data-maxchars. Counts Unicode code points (like the server:
  // a Chinese character or an emoji is one character) after normalising line breaks.
  function countChars(text) {
    return Array.from(text.replace(/\r\n?/g, "\n").trim()).length;
  }

  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!field) return;
    var max = parseInt(field.getAttribute("data-maxchars"), 10);
    var overLabel = counter.getAttribute("data-over-label") || "";
    function update() {
      var n = countChars(field.value);
      var over = max && n > max;
      counter.textContent = n + " / " + max + (over ? " · " + overLabel : "");
      counter.classList.toggle("is-over", Boolean(over));
    }
    field.addEventListener("input", update);
    update();
  });

  // Filter forms: a value picked with the mouse or a finger applies the filters at once (the Apply button
  // still works without JS). With the keyboard the arrow keys only move through the values, since applying
  // each one would reload the page under the user's fingers (WCAG 3.2.2); Enter applies. After the reload
  // a keyboard user finds the focus again on the field they were on, so they carry on where they were.
  var REFOCUS_KEY = "courselens:refocus";
  var usingKeyboard = false;
  document.addEventListener("keydown", function () { usingKeyboard = true; }, true);
  document.addEventListener("pointerdown", function () { usingKeyboard = false; }, true);

  function applyFilters(form) {
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("submit", function () {
      if (!usingKeyboard) return;
      var active = document.activeElement;
      var name = active && form.contains(active) && active.name ? active.name : "";
      try {
        sessionStorage.setItem(REFOCUS_KEY, JSON.stringify({ path: form.getAttribute("action") || location.pathname, name: name }));
      } catch (error) { /* storage disabled: the filters still apply */ }
    });
  });

  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    var byKeyboard = false;
    select.addEventListener("pointerdown", function () { byKeyboard = false; });
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        applyFilters(select.form);
      } else if (event.key !== "Tab" && event.key !== "Shift") {
        byKeyboard = true;
      }
    });
    select.addEventListener("change", function () {
      if (!byKeyboard) applyFilters(select.form);
    });
  });

  try {
    var refocus = JSON.parse(sessionStorage.getItem(REFOCUS_KEY) || "null");
    sessionStorage.removeItem(REFOCUS_KEY);
    if (refocus && refocus.path === location.pathname) {
      var form = document.querySelector("form[data-autosubmit]");
      var field = form && (refocus.name ? form.querySelector("[name=\"" + CSS.escape(refocus.name) + "\"]")
        : form.querySelector("[type=submit]"));
      if (field) field.focus();
    }
  } catch (error) { /* storage disabled or bad JSON: nothing to restore */ }
})();
