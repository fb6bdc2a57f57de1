// Shows the event's time in the visitor's own zone, using the browser's Intl API.
// The page is complete without it: the event's zone and UTC are always shown.
(function () {
  "use strict";
  var slot = document.querySelector("dd.local-time[data-start]");
  if (!slot || typeof Intl === "undefined" || !Intl.DateTimeFormat) {
    return;
  }
  var start = new Date(slot.getAttribute("data-start"));
  var end = new Date(slot.getAttribute("data-end"));
  if (isNaN(start) || isNaN(end)) {
    return;
  }
  var lang = document.documentElement.lang || undefined;
  var day = new Intl.DateTimeFormat(lang, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
  var time = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
  var zone = new Intl.DateTimeFormat(lang, { timeZoneName: "short" }).formatToParts(start)
    .filter(function (part) { return part.type === "timeZoneName"; })
    .map(function (part) { return part.value; })[0] || "";
  var sameDay = day.format(start) === day.format(end);
  slot.textContent = day.format(start) + ", " + time.format(start) + " – " +
    (sameDay ? "" : day.format(end) + ", ") + time.format(end) + (zone ? " " + zone : "");
  slot.setAttribute("data-zone", Intl.DateTimeFormat().resolvedOptions().timeZone || "");
  document.querySelectorAll(".local-time").forEach(function (el) { el.classList.remove("d-none"); });
})();
