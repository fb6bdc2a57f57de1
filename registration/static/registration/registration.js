// Registration form: fill the optional time-zone field from the browser, and move focus to
// the error summary so screen-reader users hear what to fix.
(function () {
  "use strict";
  document.querySelectorAll("[data-fill-timezone]").forEach(function (input) {
    if (input.value) return;
    try {
      input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      // An old browser without Intl: the field stays empty, which is fine.
    }
  });
  // Questions asked only for one answer of another (registration/questions.py): hidden,
  // and out of the tab order, until that answer is chosen. Without script all are shown and
  // the server ignores those that do not apply.
  document.querySelectorAll("[data-show-if]").forEach(function (wrapper) {
    var form = wrapper.closest("form");
    var name = wrapper.getAttribute("data-show-if");
    var wanted = wrapper.getAttribute("data-equals");
    function update() {
      var chosen = form.querySelector('[name="' + name + '"]:checked, select[name="' + name + '"]');
      wrapper.hidden = !chosen || chosen.value !== wanted;
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === name) update();
    });
    update();
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
