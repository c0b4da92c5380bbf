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

  // Filter forms: changing a select applies the filters at once (the Apply button still works without JS).
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
    });
  });
})();
