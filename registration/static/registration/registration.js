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
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
