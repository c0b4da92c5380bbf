/* Ranking page: pick 2–4 instructors to compare. Without JavaScript the form still submits and the
   server explains what is wrong; with it, the counter says how many are picked and extra ticks are refused. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-compare-form]").forEach(function (form) {
    var max = parseInt(form.getAttribute("data-max"), 10) || 4;
    var field = form.getAttribute("data-field") || "instructors";
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=" + field + "]"));
    var counter = form.querySelector("[data-compare-count]");
    var button = form.querySelector("button[type=submit]");

    function update() {
      var picked = boxes.filter(function (box) { return box.checked; }).length;
      // Announced (aria-live) as each box is ticked: a screen-reader user hears how many are picked.
      var label = counter && counter.getAttribute("data-label");
      if (counter) counter.textContent = label ? label.replace("{picked}", picked).replace("{max}", max) : picked + " / " + max;
      if (button) button.disabled = picked < 2;
      boxes.forEach(function (box) { box.disabled = !box.checked && picked >= max; });
    }

    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  });
})();
